import time

import pytest

from aigw.common.crypto import sha256_hex
from aigw.gateway.proxy.authenticate import AccessDenied, Authenticator
from aigw.gateway.proxy.authorise import authorise
from aigw.gateway.proxy.paths import match_route, path_problem, rest_after
from aigw.gateway.proxy.request_headers import CallerCredentials
from aigw.gateway.routing.table import KeyEntry, Route, RoutingTable


def route(api_id: str, prefix: str) -> Route:
    return Route(api_id, 1, "n", "v", prefix, "authorization", "Bearer ", None, None)


ROUTES = {
    "mistral": route("a", "mistral"),
    "mistralaiapi/0.0.2": route("b", "mistralaiapi/0.0.2"),
    "mistralaiapi/0.0.2/deep/x": route("c", "mistralaiapi/0.0.2/deep/x"),
}


@pytest.mark.parametrize(
    ("path", "api", "segments"),
    [
        ("/mistralaiapi/0.0.2/v1/chat/completions", "b", 2),
        ("/mistralaiapi/0.0.2", "b", 2),
        ("/mistralaiapi/0.0.2/", "b", 2),
        ("/mistralaiapi/0.0.2/deep/x/y", "c", 4),
        ("/mistral/v1/models", "a", 1),
        ("/mistral", "a", 1),
    ],
)
def test_longest_prefix_matches(path, api, segments):
    matched, count = match_route(ROUTES, 4, path)
    assert matched is not None
    assert matched.api_id == api
    assert count == segments


@pytest.mark.parametrize("path", ["/", "/nope/v1", "/mistralaiapi/0.0.3/v1", "/mistralx"])
def test_unknown_paths_do_not_match(path):
    assert match_route(ROUTES, 4, path) == (None, 0)


def test_max_segments_limits_the_lookups():
    matched, _ = match_route(ROUTES, 2, "/mistralaiapi/0.0.2/deep/x/y")
    assert matched is not None
    assert matched.api_id == "b"
    assert match_route({}, 0, "/a/b") == (None, 0)


def test_rest_after():
    assert rest_after("/a/b/v1/chat%20x", 2) == "/v1/chat%20x"
    assert rest_after("/a/b", 2) == ""
    assert rest_after("/a", 2) == ""


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/a//b", b"/a//b"),
        ("/a/../b", b"/a/../b"),
        ("/a/./b", b"/a/./b"),
        ("/a/..", b"/a/.."),
        ("/a/b/c", b"/a/b%2Fc"),
        ("/a/b\\c", b"/a/b%5cc"),
    ],
)
def test_bad_paths_are_refused(path, raw):
    assert path_problem(path, raw)


@pytest.mark.parametrize("path", ["/a/b/v1/chat/completions", "/a/.well-known/x", "/a/b..c"])
def test_good_paths_pass(path):
    assert path_problem(path, path.encode()) is None


@pytest.mark.parametrize(
    ("authorization", "apikey", "expected"),
    [
        (b"Bearer abc", None, "abc"),
        (b"bearer  abc ", None, "abc"),
        (None, b"xyz", "xyz"),
        (b"Bearer abc", b"xyz", "abc"),  # Authorization wins
        (b"Basic Zm9vOmJhcg==", b"xyz", "xyz"),  # not a bearer credential: ApiKey is used
        (b"Bearer ", None, None),
        (None, b"  ", None),
        (None, None, None),
    ],
)
def test_extract_key(authorization, apikey, expected):
    assert CallerCredentials(authorization, apikey).key() == expected
    # the vendor's own key header counts only after Authorization and ApiKey
    assert CallerCredentials(authorization, apikey, b"vendor").key() == (expected or "vendor")


def table_with(**entries: KeyEntry) -> RoutingTable:
    table = RoutingTable()
    for key, entry in entries.items():
        table.keys[sha256_hex(key)] = entry
    table.subscriptions.add(("app1", "a"))
    return table


def test_authorise_rules():
    r = ROUTES["mistral"]
    other = ROUTES["mistralaiapi/0.0.2"]
    table = table_with(
        good=KeyEntry("k1", "app1", "PRODUCTION"),
        old=KeyEntry("k2", "app1", "PRODUCTION", expires_at=time.time() - 1),
        test=KeyEntry("k3", "app9", "PRODUCTION", api_id="b"),
    )

    def allowed(key: str | None, route: Route) -> KeyEntry:
        entry = Authenticator(table).authenticate(key)
        authorise(table, entry, route)
        return entry

    assert allowed("good", r).key_id == "k1"
    assert allowed("test", other).key_id == "k3"  # test key: no subscription needed
    for key, target, status in [
        (None, r, 401),
        ("bad", r, 401),
        ("old", r, 401),
        ("good", other, 403),  # not subscribed
        ("test", r, 403),  # test key for another API
    ]:
        with pytest.raises(AccessDenied) as denied:
            allowed(key, target)
        assert denied.value.status == status
