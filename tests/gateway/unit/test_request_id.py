"""The call's request id: the caller's valid `x-request-id`, else a new one."""

import re

import pytest

from aigw.gateway.proxy.request_id import request_id

NEW = re.compile(rb"[0-9a-f]{32}")


@pytest.mark.parametrize("valid", [b"a", b"req_123", b"0e3c.9:ab-CD_ef", b"x" * 128])
def test_a_valid_id_is_kept(valid):
    assert request_id([(b"accept", b"*/*"), (b"x-request-id", valid)]) == valid


@pytest.mark.parametrize(
    "invalid",
    [b"", b"x" * 129, b"a b", b"a\r\nb", b"a\nset-cookie: x", b"caf\xe9", b'"q"', b"a;b", b"a/b"],
)
def test_anything_else_gets_a_new_id(invalid):
    new = request_id([(b"x-request-id", invalid)])
    assert new != invalid
    assert NEW.fullmatch(new)


def test_no_id_gets_a_new_one_each_time():
    assert request_id([]) != request_id([])
    assert NEW.fullmatch(request_id([(b"x-request-ids", b"abc")]))


def test_the_first_id_wins():
    assert request_id([(b"x-request-id", b"one"), (b"x-request-id", b"two")]) == b"one"
