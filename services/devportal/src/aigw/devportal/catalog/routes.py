"""The published-API catalogue (readable by any signed-in user), and the portal's "Get Test
Key" for one of its APIs (portal users only)."""

from typing import Any

from fastapi import APIRouter, status

from aigw.common.auth import CurrentPrincipal
from aigw.common.errors import NotFound
from aigw.devportal.catalog import store
from aigw.devportal.catalog.models import CatalogApi, TestKey
from aigw.devportal.deps import AppSettings, CurrentActor, Db, Keymanager
from aigw.devportal.keymanager import KeyRequest
from aigw.devportal.schemas import Collection
from aigw.devportal.vendors import store as vendor_store

router = APIRouter(prefix="/apis", tags=["catalogue"])


async def get_published(db: store.Db, api_id: str) -> CatalogApi:
    doc = await store.find_listed(db, api_id)
    if doc is None:
        raise NotFound(f"API {api_id!r} is not published")
    return CatalogApi.from_doc(doc)


@router.get("", summary="Published APIs")
async def list_apis(_: CurrentPrincipal, db: Db) -> Collection[CatalogApi]:
    return Collection.of([CatalogApi.from_doc(doc) for doc in await store.list_listed(db)])


@router.get("/{api_id}", summary="One published API")
async def get_api(api_id: str, _: CurrentPrincipal, db: Db) -> CatalogApi:
    return await get_published(db, api_id)


@router.get(
    "/{api_id}/definition",
    summary="The API's operations (its AI vendor's OpenAPI document)",
    responses={404: {"description": "The API is not published, or its vendor has no definition"}},
)
async def get_definition(api_id: str, _: CurrentPrincipal, db: Db) -> dict[str, Any]:
    """The OpenAPI document of the published API's AI vendor (`apiDefinition`): the
    operations the gateway forwards, relative to the API's invocation URL (the gateway's
    base URL and the API's `routePrefix`). The Developer Portal's Try Out renders it."""
    api = await get_published(db, api_id)
    document = await vendor_store.api_definition(db, api.ai_vendor.name, api.ai_vendor.version)
    if document is None:
        raise NotFound(
            f"AI vendor {api.ai_vendor.name} {api.ai_vendor.version} of API {api_id!r} has no "
            "API definition"
        )
    return document


@router.post(
    "/{api_id}/test-key",
    status_code=status.HTTP_201_CREATED,
    summary="Get Test Key",
    responses={
        429: {
            "description": "The caller has the most live test keys for this API allowed, or "
            "asked for too many test keys this minute; see Retry-After"
        }
    },
)
async def test_key(
    api_id: str,
    actor: CurrentActor,
    db: Db,
    settings: AppSettings,
    keymanager: Keymanager,
) -> TestKey:
    """A key for this API's production endpoint, without a subscription. The gateway holds
    every test key of a user to one quota per API (plan `TestKey`), keyed on the application
    id below; keymanager limits how many a user holds and gets."""
    await get_published(db, api_id)
    ttl = settings.test_key_ttl_seconds
    request = KeyRequest(
        # a test key belongs to no application: it is valid for this one API, unsubscribed
        application_id=f"testkey:{actor.subject}",
        key_type="PRODUCTION",
        api_id=api_id,
        expires_in=ttl,
    )
    issued = await keymanager.issue(request)
    return TestKey(api_key=issued.api_key, expires_in=ttl)
