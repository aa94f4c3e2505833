"""/docs and /redoc in a real headless Chromium (Debian's), on a closed network.

The browser may reach the server on loopback and nothing else: any request elsewhere is
aborted and recorded, so a page that needs a CDN fails here as it would on a closed network.
Screenshots go to test-artifacts/ at the checkout's root.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.durability.server import Server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As this machine's notes start it: no sandbox as root, and no background connections, which a
# closed network refuses.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TITLE = "La Corée du Nord lance un missile"

pytestmark = pytest.mark.slow

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium for tests/browser (.ci/run installs it)")
    pytest.skip("needs Debian's chromium: apt-get install chromium", allow_module_level=True)

from playwright.sync_api import Browser, Page, Route, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("browser") / "data") as running:
        article = {"title": TITLE, "body": "Pyongyang a tiré un missile.", "language": "fr"}
        httpx.post(
            f"{running.url}/v1/articles", params={"refresh": "wait"}, json=article, timeout=60
        ).raise_for_status()
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page that reaches loopback only, and the addresses elsewhere it tried."""
    outside: list[str] = []

    def closed_network(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context = browser.new_context()
    context.route("**/*", closed_network)
    yield context.new_page(), outside
    context.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_swagger_ui_renders_offline_and_try_it_out_searches(
    server: Server, page: tuple[Page, list[str]]
) -> None:
    tab, outside = page
    tab.goto(f"{server.url}/docs")
    operations = tab.locator(".opblock")
    operations.first.wait_for(timeout=30_000)
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert operations.count() == sum(len(methods) for methods in paths.values())
    search = tab.locator("#operations-search-search_v1_search_get")
    search.locator(".opblock-summary").click()
    search.locator(".try-out__btn").click()
    search.locator('tr[data-param-name="q"] input').fill("la Corée du Nord")
    search.locator(".execute").click()
    answer = search.locator(".live-responses-table tr.response .response-col_status").first
    answer.wait_for(timeout=30_000)
    assert answer.inner_text().strip() == "200"
    assert TITLE in search.locator(".live-responses-table .microlight").first.inner_text()
    _shot(tab, "docs-search-try-it-out")
    assert outside == []


def test_redoc_renders_offline(server: Server, page: tuple[Page, list[str]]) -> None:
    tab, outside = page
    tab.goto(f"{server.url}/redoc")
    heading = tab.get_by_role("heading", name="Full-text search with filters, facets and snippets")
    heading.wait_for(timeout=30_000)
    assert tab.get_by_text("Newsdesk").first.is_visible()
    _shot(tab, "redoc")
    assert outside == []


def test_the_front_door_links_to_the_docs(server: Server, page: tuple[Page, list[str]]) -> None:
    tab, outside = page
    tab.goto(server.url)
    assert tab.title() == "Newsdesk"
    tab.get_by_role("link", name="/docs", exact=True).click()
    tab.locator(".opblock").first.wait_for(timeout=30_000)
    assert tab.url == f"{server.url}/docs"
    assert outside == []
