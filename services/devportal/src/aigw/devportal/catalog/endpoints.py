"""The published-API catalogue (readable by any signed-in user), and the portal's "Get Test
Key" for one of its APIs (portal users only)."""

from typing import Any

from fastapi import APIRouter, status

from aigw.common.auth import CurrentPrincipal
from aigw.common.errors import NOT_KNOWN_YET
from aigw.common.schemas import Collection
from aigw.devportal.catalog.schemas import CatalogApi, TestKey
from aigw.devportal.deps import Catalog, CurrentActor, Keymanager

router = APIRouter(prefix="/apis", tags=["catalogue"])


@router.get("", summary="Published APIs")
async def list_apis(_: CurrentPrincipal, catalog: Catalog) -> Collection[CatalogApi]:
    return Collection.of(await catalog.list_published())


@router.get("/{api_id}", summary="One published API", responses=NOT_KNOWN_YET)
async def get_api(api_id: str, _: CurrentPrincipal, catalog: Catalog) -> CatalogApi:
    return await catalog.published(api_id)


@router.get(
    "/{api_id}/definition",
    summary="The API's operations (its AI vendor's OpenAPI document)",
    responses={
        404: {"description": "The API is not published, or its vendor has no definition"},
        **NOT_KNOWN_YET,
    },
)
async def get_definition(api_id: str, _: CurrentPrincipal, catalog: Catalog) -> dict[str, Any]:
    """The OpenAPI document of the published API's AI vendor (`apiDefinition`): the
    operations the gateway forwards, relative to the API's invocation URL (the gateway's
    base URL and the API's `routePrefix`). The Developer Portal's Try Out renders it."""
    return await catalog.definition(api_id)


@router.post(
    "/{api_id}/test-key",
    status_code=status.HTTP_201_CREATED,
    summary="Get Test Key",
    responses={
        429: {
            "description": "The caller has the most live test keys for this API allowed, or "
            "asked for too many test keys this minute; see Retry-After"
        },
        **NOT_KNOWN_YET,
    },
)
async def test_key(
    api_id: str, actor: CurrentActor, catalog: Catalog, keymanager: Keymanager
) -> TestKey:
    """A key for this API's production endpoint, without a subscription. The gateway holds
    every test key of a user to one quota per API (plan `TestKey`), keyed on the application
    id `testkey:<username>`; keymanager limits how many a user holds and gets."""
    return await catalog.test_key(actor, keymanager, api_id)
