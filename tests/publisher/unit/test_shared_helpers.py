"""The libs/common helpers publisher shares with the other services."""

from datetime import datetime

import pytest

from aigw.common.ids import utcnow_ms
from aigw.common.requests import MAX_CORRELATION_ID, valid_correlation_id
from aigw.common.schemas import CamelModel, Collection
from aigw.common.vendors import BUILT_IN_VENDORS
from aigw.publisher.apis.schemas import ApiList
from aigw.publisher.vendors.catalog import KnownVendor
from aigw.publisher.vendors.schemas import VendorList, VendorOut


def test_utcnow_ms_has_millisecond_precision_and_a_timezone():
    now = utcnow_ms()
    assert now.microsecond % 1000 == 0
    assert now.tzinfo is not None
    assert isinstance(now, datetime)


class _Item(CamelModel):
    some_field: int


def test_collection_is_count_and_list_in_camel_case():
    body = Collection[_Item].of([_Item(some_field=1), _Item(some_field=2)])
    assert body.model_dump(by_alias=True) == {
        "count": 2,
        "list": [{"someField": 1}, {"someField": 2}],
    }
    assert body.list[0].some_field == 1


def test_the_publishers_lists_are_the_shared_collection():
    assert issubclass(ApiList, Collection)
    vendors = VendorList.of([VendorOut.of(KnownVendor(v, built_in=True)) for v in BUILT_IN_VENDORS])
    dumped = vendors.model_dump(by_alias=True)
    assert dumped["count"] == len(BUILT_IN_VENDORS)
    assert dumped["list"][0]["defaultHeaders"] == {}
    assert dumped["list"][0]["builtIn"] is True


@pytest.mark.parametrize(
    "value", ["corr-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "a.b:c/d+e=f@g_h", "x" * 128]
)
def test_a_well_formed_correlation_id_is_kept(value):
    assert valid_correlation_id(value) == value


@pytest.mark.parametrize(
    "value", [None, "", "x" * (MAX_CORRELATION_ID + 1), "two words", "new\nline", "ü", "<b>"]
)
def test_an_absent_over_long_or_malformed_correlation_id_becomes_a_fresh_one(value):
    fresh = valid_correlation_id(value)
    assert fresh != value
    assert len(fresh) == 32
    assert valid_correlation_id(None) != fresh
