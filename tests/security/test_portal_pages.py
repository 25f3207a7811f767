"""What an attacker can make a portal's service serve: the pages under odd paths, the build's
files under /ui, and the headers that keep them out of frames and MIME sniffing. Built on
aigw.common.web the way the publisher and devportal use it (no stack needed)."""

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aigw.common.web import PORTAL_CONFIG_PLACEHOLDER, Portals, mount_docs, mount_portals

APIS = {"publisher": "http://127.0.0.1:8001/api/publisher/v1", "gateway": "http://gw:8280"}
PAGE = (
    f'<!doctype html><meta name="aigw-config" content="{PORTAL_CONFIG_PLACEHOLDER}">'
    '<script type="module" src="/ui/assets/publisher-abc123.js"></script>'
)


@pytest.fixture
def http(tmp_path: Path) -> TestClient:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "publisher-abc123.js").write_text("console.log('portal')")
    (tmp_path / "assets" / "logo-abc123.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    )
    for page in ("publisher.html", "admin.html"):
        (tmp_path / page).write_text(PAGE)
    (tmp_path / "vendor").mkdir()
    for name in ("swagger-ui-bundle.js", "swagger-init.js", "redoc.standalone.js"):
        (tmp_path / "vendor" / name).write_text(f"/* {name} */")
    app = FastAPI(docs_url=None, redoc_url=None)
    mount_docs(app, tmp_path, "aigw test")
    portals = {"publisher": "publisher.html", "admin": "admin.html"}
    mount_portals(app, tmp_path, Portals(portals, APIS))
    return TestClient(app, follow_redirects=False)


def test_the_portal_pages_are_only_served_with_their_policy(http: TestClient) -> None:
    """The build's HTML files are the portals without the page's Content-Security-Policy
    (and without their configuration): /ui must not serve them, or a link to
    /ui/publisher.html would run the portal, with the signed-in tab's token, unprotected."""
    for path in ("/ui/publisher.html", "/ui/admin.html", "/ui/./publisher.html"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert "aigw-config" not in response.text, path


def test_every_file_under_ui_is_kept_from_running_as_a_page(http: TestClient) -> None:
    """An asset opened as a document (an SVG with script in it, say) runs nothing and cannot
    be framed: a policy of its own, besides nosniff."""
    for path in ("/ui/assets/logo-abc123.svg", "/ui/assets/publisher-abc123.js"):
        response = http.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy, path
        assert "sandbox" in policy, path
        assert "frame-ancestors 'none'" in policy, path
        assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/publisher//evil.example",
        "/publisher/%2F%2Fevil.example",
        "/publisher/%5C%5Cevil.example",
        "/admin/..%2f..%2fevil.example",
        "/publisher/https://evil.example/",
    ],
)
def test_odd_portal_paths_are_the_page_not_a_redirect(http: TestClient, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 200, path
    assert "location" not in response.headers
    assert "set-cookie" not in response.headers
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_an_asset_looking_portal_path_cannot_run_as_script(http: TestClient) -> None:
    """The single-page fallback answers /publisher/x.js with the page: HTML, and nosniff, so
    a <script src> pointing there is refused by the browser instead of guessed at."""
    response = http.get("/publisher/evil.js")
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_no_page_or_asset_is_framed_or_sets_a_cookie(http: TestClient) -> None:
    for path in ("/publisher", "/admin/users", "/docs", "/redoc", "/ui/assets/logo-abc123.svg"):
        response = http.get(path)
        assert response.status_code == 200, path
        assert response.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert "set-cookie" not in response.headers, path
