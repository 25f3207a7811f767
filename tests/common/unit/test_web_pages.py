"""The pages a service serves to browsers (aigw.common.web): the portals' single-page apps and
the API docs, from a build directory on this machine, under a strict Content-Security-Policy."""

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aigw.common.web import PORTAL_CONFIG_PLACEHOLDER, Portals, mount_docs, mount_portals

APIS = {
    "publisher": "http://127.0.0.1:8001/api/publisher/v1",
    "keymanager": "http://127.0.0.1:8003/api/keymanager/v1",
    "gateway": "http://gw.example:8280",
}
PAGE = (
    f'<!doctype html><meta name="aigw-config" content="{PORTAL_CONFIG_PLACEHOLDER}">'
    '<script type="module" src="/ui/assets/publisher-abc123.js"></script>'
)


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "publisher-abc123.js").write_text("console.log('portal')")
    (tmp_path / "publisher.html").write_text(PAGE)
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    for name in (
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-init.js",
        "redoc.standalone.js",
    ):
        (vendor / name).write_text(f"/* {name} */")
    (vendor / "notes.txt").write_text("not an asset the docs use")
    (tmp_path.parent / "secret.txt").write_text("outside the build")
    return tmp_path


def client(web_dir: Path, apis: dict[str, str] = APIS) -> TestClient:
    app = FastAPI(docs_url=None, redoc_url=None)
    mount_docs(app, web_dir, "aigw test")
    mount_portals(app, web_dir, Portals({"publisher": "publisher.html"}, apis))
    return TestClient(app)


def test_every_path_under_a_portal_is_its_page(web_dir: Path) -> None:
    http = client(web_dir)
    for path in ("/publisher", "/publisher/", "/publisher/apis/123/endpoints"):
        response = http.get(path)
        assert response.status_code == 200, path
        assert 'src="/ui/assets/publisher-abc123.js"' in response.text
        assert response.headers["cache-control"] == "no-cache"


def test_the_page_gets_the_api_urls_in_a_meta_element_escaped(web_dir: Path) -> None:
    hostile = {**APIS, "gateway": 'http://gw.example/"><script>alert(1)</script>'}
    page = client(web_dir, hostile).get("/publisher").text
    assert "<script>alert(1)" not in page
    content = re.search(r'name="aigw-config" content="([^"]*)"', page)
    assert content is not None
    assert "&quot;gateway&quot;" in content.group(1)
    assert "&lt;script&gt;" in content.group(1)


def test_portal_pages_have_a_strict_content_security_policy(web_dir: Path) -> None:
    response = client(web_dir).get("/publisher/apis")
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    # calls go to the services the page is configured with, and nowhere else
    assert set(policy["connect-src"].split()) == {
        "'self'",
        "http://127.0.0.1:8001",
        "http://127.0.0.1:8003",
        "http://gw.example:8280",
    }
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_nothing_of_the_request_picks_the_file_served(web_dir: Path) -> None:
    http = client(web_dir)
    assert (
        http.get("/publisher", params={"file": "../secret.txt"}).text == http.get("/publisher").text
    )
    for path in ("/ui/../secret.txt", "/ui/%2e%2e/secret.txt", "/ui/..%2fsecret.txt"):
        response = http.get(path)
        assert "outside the build" not in response.text, path


def test_hashed_assets_are_cached_for_good(web_dir: Path) -> None:
    response = client(web_dir).get("/ui/assets/publisher-abc123.js")
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_unbuilt_portal_says_how_to_build_it(tmp_path: Path) -> None:
    response = client(tmp_path / "missing").get("/publisher")
    assert response.status_code == 503
    assert "make web" in response.text


def test_docs_load_their_scripts_from_files_of_this_service(web_dir: Path) -> None:
    http = client(web_dir)
    for page in ("/docs", "/redoc"):
        response = http.get(page)
        assert response.status_code == 200
        scripts = re.findall(r"<script([^>]*)>", response.text)
        assert scripts, page
        # no inline script: each one is a file under /docs/assets
        assert all(re.search(r'src="/docs/assets/[\w.-]+"', attrs) for attrs in scripts), scripts
        links = re.findall(r'(?:src|href|spec-url|data-openapi-url)="([^"]+)"', response.text)
        assert links, page
        # everything the page loads is this service's own
        assert all(link.startswith(("/docs/assets/", "/openapi.json")) for link in links), links
        assert "script-src 'self'" in response.headers["content-security-policy"]
    assert http.get("/docs/assets/swagger-ui.css").status_code == 200


def test_assets_are_compressed_for_browsers_that_accept_it(web_dir: Path) -> None:
    (web_dir / "vendor" / "swagger-ui-bundle.js").write_text("var swagger = 1;\n" * 2000)
    (web_dir / "assets" / "big-abc.js").write_text("var portal = 1;\n" * 2000)
    http = client(web_dir)
    for path in ("/docs/assets/swagger-ui-bundle.js", "/ui/assets/big-abc.js"):
        response = http.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip", path
        assert int(response.headers["content-length"]) < 2000, path


def test_docs_assets_are_only_the_known_files(web_dir: Path) -> None:
    http = client(web_dir)
    assert http.get("/docs/assets/notes.txt").status_code == 404
    assert http.get("/docs/assets/..%2f..%2fsecret.txt").status_code == 404


def test_unbuilt_docs_say_how_to_build_them(tmp_path: Path) -> None:
    http = client(tmp_path / "missing")
    for page in ("/docs", "/redoc"):
        response = http.get(page)
        assert response.status_code == 503
        assert "make web" in response.text
