"""What a service serves to browsers, all from this machine (no CDN: these machines and many
users' are offline): its API docs (`/docs` with Swagger UI, `/redoc` with ReDoc) and, on
publisher and devportal, the portals. The assets come from the portals' build, `web/dist`
(`make web`).

Every page carries a strict Content-Security-Policy: scripts only from this origin (no inline
script, no eval), and calls only to the services the page is meant to reach.
"""

import functools
import html
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Scope

from aigw.common.settings import PortalSettings

# the checkout's build: libs/common/src/aigw/common/web.py -> <repo>/web/dist
DEFAULT_WEB_DIR = Path(__file__).resolve().parents[5] / "web" / "dist"

# Swagger UI and ReDoc as the build copies them (web/scripts/copy-vendor.mjs), with their
# start-up scripts: the only files /docs/assets serves
DOCS_ASSETS = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-init.js",
        "redoc.standalone.js",
        "favicon-32x32.png",
    }
)
PORTAL_CONFIG_PLACEHOLDER = "__AIGW_CONFIG__"

NOT_BUILT = (
    "<!doctype html><title>Not built</title><p>The web assets are not built on this machine: "
    "run <code>make web</code> (or set AIGW_WEB_DIR to a build).</p>"
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# an asset opened as a document (an SVG with script in it, say) runs nothing and is not framed;
# scripts and stylesheets loaded by a page are governed by that page's policy, not this one
ASSET_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
# what the portals load from /ui: the hashed bundles and the copied Swagger UI. Not the
# build's HTML files, which are the portals without their policy and their configuration.
PORTAL_ASSET_FOLDERS = ("assets/", "vendor/")


def content_security_policy(connect: Sequence[str] = (), *, inline_styles: bool = False) -> str:
    """No inline script and no eval anywhere; `inline_styles` only for ReDoc, whose styling
    library writes <style> elements at run time."""
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            f"style-src {styles}",
            "img-src 'self' data:",
            "font-src 'self'",
            # ReDoc renders in a web worker built from a blob
            "worker-src 'self' blob:",
            "connect-src " + " ".join(("'self'", *connect)),
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )


def _page(body: str, csp: str) -> HTMLResponse:
    headers = {"Content-Security-Policy": csp, "Cache-Control": "no-cache", **SECURITY_HEADERS}
    return HTMLResponse(body, headers=headers)


def mount_docs(app: FastAPI, web_dir: Path, title: str) -> None:
    """`/docs` and `/redoc` for the service's own `/openapi.json`, their assets under
    `/docs/assets` (compressed: Swagger UI's bundle is 1.7 MB, about 0.5 MB gzipped)."""
    assets = _Assets(directory=web_dir / "vendor", check_dir=False, only=DOCS_ASSETS)
    app.mount("/docs/assets", GZipMiddleware(assets), name="docs-assets")
    app.include_router(docs_router(web_dir, title))


def docs_router(web_dir: Path, title: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    vendor = web_dir / "vendor"
    name = html.escape(title)

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        if not (vendor / "swagger-ui-bundle.js").is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return _page(
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{name} - API '
            'docs</title><link rel="stylesheet" href="/docs/assets/swagger-ui.css">'
            '<link rel="icon" href="/docs/assets/favicon-32x32.png"></head><body>'
            '<div id="swagger-ui" data-openapi-url="/openapi.json"></div>'
            '<script src="/docs/assets/swagger-ui-bundle.js"></script>'
            '<script src="/docs/assets/swagger-init.js"></script></body></html>',
            content_security_policy(),
        )

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        if not (vendor / "redoc.standalone.js").is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return _page(
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{name} - API '
            'reference</title></head><body><redoc spec-url="/openapi.json"></redoc>'
            '<script src="/docs/assets/redoc.standalone.js"></script></body></html>',
            content_security_policy(inline_styles=True),
        )

    return router


class _Assets(StaticFiles):
    """Files of the build. Those under `assets/` carry a content hash in their names, so they
    never change and browsers may keep them; `only` limits what may be served."""

    def __init__(
        self,
        *,
        directory: Path,
        check_dir: bool,
        only: frozenset[str] | None = None,
        folders: tuple[str, ...] | None = None,
    ):
        super().__init__(directory=directory, check_dir=check_dir)
        self.only = only
        self.folders = folders

    def _allowed(self, path: str) -> bool:
        # `path` is already normalised by StaticFiles (no "." or ".." segments)
        if self.only is not None and path not in self.only:
            return False
        return self.folders is None or path.startswith(self.folders)

    async def get_response(self, path: str, scope: Scope) -> Response:
        headers = {**SECURITY_HEADERS, "Content-Security-Policy": ASSET_POLICY}
        if not self._allowed(path):
            return Response(status_code=404, headers=headers)
        response = await super().get_response(path, scope)
        response.headers.update(headers)
        if path.startswith("assets/"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


@dataclass(frozen=True)
class Portals:
    """The portals one service hosts: URL prefix -> the build's page, e.g.
    `{"publisher": "publisher.html", "admin": "admin.html"}`, and the API base URLs the pages
    call (handed to them in a <meta> element, so no inline script is needed)."""

    pages: Mapping[str, str]
    apis: Mapping[str, str]

    def connect_origins(self) -> list[str]:
        return sorted({_origin(url) for url in self.apis.values()})


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def public_apis(settings: PortalSettings) -> dict[str, str]:
    """The base URLs a portal calls, as browsers reach them."""
    return {
        "publisher": f"{settings.publisher_public_url.rstrip('/')}/api/publisher/v1",
        "devportal": f"{settings.devportal_public_url.rstrip('/')}/api/devportal/v1",
        "keymanager": f"{settings.keymanager_public_url.rstrip('/')}/api/keymanager/v1",
        "gateway": settings.gateway_public_url.rstrip("/"),
    }


def mount_portals(app: FastAPI, web_dir: Path, portals: Portals) -> None:
    """Each portal at `/<prefix>` (every path under it is the same single-page app) and the
    shared assets at `/ui`."""
    assets = _Assets(directory=web_dir, check_dir=False, folders=PORTAL_ASSET_FOLDERS)
    app.mount("/ui", GZipMiddleware(assets, minimum_size=1024), name="portal-assets")
    config = html.escape(json.dumps(dict(portals.apis)), quote=True)
    csp = content_security_policy(portals.connect_origins())

    def page(file: str) -> HTMLResponse:
        path = web_dir / file
        if not path.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return _page(path.read_text().replace(PORTAL_CONFIG_PLACEHOLDER, config), csp)

    for prefix, file in portals.pages.items():
        serve = _page_endpoint(functools.partial(page, file))
        for path in (f"/{prefix}", f"/{prefix}/{{rest:path}}"):
            app.add_api_route(path, serve, methods=["GET"], include_in_schema=False)


def _page_endpoint(render: Callable[[], HTMLResponse]) -> Callable[[], Awaitable[HTMLResponse]]:
    # an endpoint without parameters: nothing of the request picks the file
    async def endpoint() -> HTMLResponse:
        return render()

    return endpoint
