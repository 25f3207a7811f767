"""The published-API catalogue: what a signed-in user may browse and subscribe to, each API's
operations for Try Out, and the portal's "Get Test Key"."""

from collections.abc import Awaitable, Callable
from typing import Any

from aigw.common.actor import Actor
from aigw.common.errors import NotFound, NotKnownYet
from aigw.devportal.catalog.repository import CatalogRepository
from aigw.devportal.catalog.schemas import CatalogApi, TestKey
from aigw.devportal.keymanager import KeymanagerClient, KeyRequest
from aigw.devportal.vendors.service import VendorDefinitionService


class CatalogService:
    def __init__(
        self,
        repo: CatalogRepository,
        vendors: VendorDefinitionService,
        *,
        test_key_ttl_seconds: int,
        current: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._repo = repo
        # whether the catalogue holds every event of the stream (None: always, in unit tests)
        self._current = current
        self._vendors = vendors
        self._test_key_ttl = test_key_ttl_seconds

    async def list_published(self) -> list[CatalogApi]:
        return [CatalogApi.from_entry(entry) for entry in await self._repo.list_listed()]

    async def published(self, api_id: str) -> CatalogApi:
        """The API, if it is in the catalogue; 404 if not, unless the catalogue may be behind
        (cut off from NATS, or events still to fold): then 503, it is not known yet (an API
        published during a NATS outage waits in publisher's outbox, and is no less published)."""
        entry = await self._repo.find_listed(api_id)
        if entry is None:
            if self._current is not None and not await self._current():
                raise NotKnownYet(
                    f"API {api_id!r} is not known yet: the catalogue is catching up with the "
                    "event stream (or cannot reach it); try again shortly"
                )
            raise NotFound(f"API {api_id!r} is not published")
        return CatalogApi.from_entry(entry)

    async def definition(self, api_id: str) -> dict[str, Any]:
        """The OpenAPI document of the published API's AI vendor (404 if it has none)."""
        vendor = (await self.published(api_id)).ai_vendor
        document = await self._vendors.api_definition(vendor.name, vendor.version)
        if document is None:
            raise NotFound(
                f"AI vendor {vendor.name} {vendor.version} of API {api_id!r} has no API definition"
            )
        return document

    async def test_key(self, actor: Actor, keymanager: KeymanagerClient, api_id: str) -> TestKey:
        """A key for the published API's production endpoint, without a subscription; issued
        by keymanager in the caller's name (`keymanager` acts for them)."""
        await self.published(api_id)
        request = KeyRequest(
            # a test key belongs to no application: it is valid for this one API, unsubscribed
            application_id=f"testkey:{actor.subject}",
            key_type="PRODUCTION",
            api_id=api_id,
            expires_in=self._test_key_ttl,
        )
        issued = await keymanager.issue(request)
        return TestKey(api_key=issued.api_key, expires_in=self._test_key_ttl)
