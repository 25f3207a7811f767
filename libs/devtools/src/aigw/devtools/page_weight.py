"""`make page-weight`: what each portal costs a browser on first load, in headless Chromium
against the whole stack on free ports.

For each portal, a fresh browser profile (empty cache) opens the portal and the report gives
the bytes transferred (headers and bodies as sent, compressed where the service compresses)
and the time until the Sign in form answers input (the page's own clock, from navigation
start). The Developer Portal's Try Out console is measured on its own: it loads Swagger UI
only when opened.
"""

import argparse
import base64
import os
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aigw.devtools.stack import Ports, Stack, StackConfig

# Debian's chromium and the flags this offline machine needs; the browser tests use them too
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "page-weight-admin"


@dataclass
class Load:
    transferred: int
    requests: int
    interactive_ms: float


def record_transfers(page: Any) -> list[int]:
    """The bytes of each response the page receives from now on, as a list that fills up."""
    sizes: list[int] = []

    def finished(request: Any) -> None:
        measured = request.sizes()
        sizes.append(measured["responseHeadersSize"] + measured["responseBodySize"])

    page.on("requestfinished", finished)
    return sizes


def first_load(browser: Any, url: str, ready: str) -> Load:
    """Opens `url` in a new profile; `ready` is a selector present once the page is usable (a
    locator wait: the pages' CSP forbids the eval a wait_for_function string would need)."""
    context = browser.new_context()
    page = context.new_page()
    sizes = record_transfers(page)
    page.goto(url)
    page.locator(ready).first.wait_for()
    interactive = float(page.evaluate("performance.now()"))
    page.wait_for_load_state("networkidle")
    context.close()
    return Load(sum(sizes), len(sizes), interactive)


def signed_in_load(browser: Any, origin: str, path: str, ready: str) -> Load:
    """The extra a signed-in page costs after the portal's first load (cache warm)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{origin}/devportal")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Log out").wait_for()
    sizes = record_transfers(page)
    start = time.perf_counter()
    page.goto(f"{origin}{path}")
    page.locator(ready).first.wait_for()
    interactive = (time.perf_counter() - start) * 1000
    page.wait_for_load_state("networkidle")
    context.close()
    return Load(sum(sizes), len(sizes), interactive)


SIGN_IN_READY = "button[type=submit]"


def measure(stack: Stack, rounds: int) -> dict[str, list[Load]]:
    from playwright.sync_api import sync_playwright

    pages = {
        "Publisher Portal": f"{stack.url('publisher')}/publisher",
        "Admin Portal": f"{stack.url('publisher')}/admin",
        "Developer Portal": f"{stack.url('devportal')}/devportal",
    }
    results: dict[str, list[Load]] = {name: [] for name in pages}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        api_id = published_api(stack)
        try_out = f"/devportal/apis/{api_id}/try-out"
        results["Try Out (after sign-in)"] = []
        for _ in range(rounds):
            for name, url in pages.items():
                results[name].append(first_load(browser, url, SIGN_IN_READY))
            results["Try Out (after sign-in)"].append(
                signed_in_load(
                    browser,
                    stack.url("devportal"),
                    try_out,
                    ".swagger-ui .opblock",
                )
            )
        browser.close()
    return results


def published_api(stack: Stack) -> str:
    """One published API, so the Try Out console has operations to show."""
    km = f"{stack.url('keymanager')}/api/keymanager/v1"
    token = httpx.post(f"{km}/auth/login", json={"username": "admin", "password": PASSWORD})
    pub = httpx.Client(
        base_url=f"{stack.url('publisher')}/api/publisher/v1",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    mock = stack.url("mock_provider")
    api = pub.post(
        "/apis",
        json={
            "name": "PageWeightAPI",
            "context": "pageweight",
            "version": "1.0.0",
            "aiVendor": {"name": "MistralAI", "version": "v1"},
            "endpoints": {"production": f"{mock}/production", "sandbox": f"{mock}/sandbox"},
        },
    ).json()
    keys = {
        "production": {"apiKey": "mock-provider-key"},
        "sandbox": {"apiKey": "mock-sandbox-key"},
    }
    pub.put(f"/apis/{api['id']}/backend-security", json=keys).raise_for_status()
    pub.post(f"/apis/{api['id']}/deploy").raise_for_status()
    pub.post(f"/apis/{api['id']}/lifecycle", json={"action": "publish"}).raise_for_status()
    deadline = time.monotonic() + 10
    dev = f"{stack.url('devportal')}/api/devportal/v1/apis/{api['id']}"
    while httpx.get(dev, headers=pub.headers).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("the API did not reach the developer portal")
        time.sleep(0.05)
    return str(api["id"])


def report(results: dict[str, list[Load]]) -> str:
    lines = [
        f"{'page':<26} {'transferred':>12} {'requests':>9} {'interactive (median)':>21}",
    ]
    for name, loads in results.items():
        kb = statistics.median(load.transferred for load in loads) / 1024
        count = statistics.median(load.requests for load in loads)
        ms = statistics.median(load.interactive_ms for load in loads)
        lines.append(f"{name:<26} {kb:>9.1f} KB {count:>9.0f} {ms:>18.0f} ms")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aigw-page-weight-") as tmp:
        config = StackConfig(
            data_dir=Path(tmp),
            secret_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            admin_password=PASSWORD,
            ports=Ports.free(),
            persist_store=False,
            extra_env={"AIGW_LOG_LEVEL": os.environ.get("AIGW_LOG_LEVEL", "WARNING")},
        )
        with Stack(config) as stack:
            print(report(measure(stack, args.rounds)))


if __name__ == "__main__":
    main()
