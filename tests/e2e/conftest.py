"""Fixtures for the browser tests: the real BentoML service serving the built page, and headless Chromium.

The service is started by the service tests' own harness (``tests/service/harness.py``): the real
``bentoml serve service.service:Digitify`` in production mode, with a throw-away BentoML home,
SQLite log and image store (images are kept, as the corrections loop needs), and a throw-away
Redis (the live dashboard's events). It serves the model
the session's ``trained_model_file`` fixture trains on pen-stroke numbers (``tests/conftest.py``),
so the tests assert the exact text read.

Screenshots for the README are written only when ``DIGITIFY_SCREENSHOTS=1``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright

from tests.e2e.support import Console, LiveService, Screenshots, WebPage
from tests.service.harness import ADMIN, RedisServer, ServiceProcess, run_python, service_env

REPO = Path(__file__).resolve().parents[2]
WEB_DIST = REPO / "service" / "web" / "dist"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
START_TIMEOUT_S = 180
EXPECT_TIMEOUT_MS = 20_000
SCREENSHOTS = REPO / "docs" / "screenshots"
SCREENSHOTS_SWITCH = "DIGITIFY_SCREENSHOTS"
STORE_SCRIPT = (
    "import sys; from pathlib import Path; from service.prediction.model_store import save_to_store; "
    "save_to_store(Path(sys.argv[1]), 'local', 'file')"
)

# The machine is small and shared: give the page time to answer before an expectation fails.
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def live_service(trained_model_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """Start the service on the trained model with the built web page on a free port; stop it after the session."""
    if not (WEB_DIST / "index.html").is_file():
        build = "npm ci --prefix service/web && npm run build --prefix service/web"
        pytest.fail(f"the web page is not built: run `{build}`")
    work = tmp_path_factory.mktemp("e2e-service")
    model_env = {"BENTOML_HOME": str(work / "bentoml")}
    run_python(["-c", STORE_SCRIPT, str(trained_model_file)], model_env, cwd=work)
    redis_server = RedisServer().start()
    env = {
        **service_env(f"sqlite:///{work / 'predictions.db'}", work, model_env),
        "REDIS_URL": redis_server.url,
        "DIGITIFY_WEB_DIR": str(WEB_DIST),
        # The corrections loop shows an admin the image each prediction was made from.
        "DIGITIFY_KEEP_IMAGES": "true",
        "DIGITIFY_IMAGE_STORE": str(work / "images"),
    }
    process = ServiceProcess(env, cwd=work)
    try:
        process.start(timeout=START_TIMEOUT_S)
        yield LiveService(url=process.url, admin=ADMIN)
    finally:
        process.stop()
        redis_server.remove()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """Playwright's driver for the whole session."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium (Playwright never downloads a browser here)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _open_page(browser: Browser, service: LiveService, **context_options) -> Iterator[WebPage]:
    """A new context (own storage) and page; every failed resource and JS error lands in its console."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    console = Console()
    page.on("console", console.record)
    page.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    page.set_default_timeout(30_000)
    yield WebPage(page=page, console=console, service=service)
    context.close()


@pytest.fixture
def web(chromium: Browser, live_service: LiveService) -> Iterator[WebPage]:
    """A desktop-sized page (1200×900)."""
    yield from _open_page(chromium, live_service, viewport={"width": 1200, "height": 900})


@pytest.fixture
def phone(chromium: Browser, live_service: LiveService) -> Iterator[WebPage]:
    """A phone-sized page (390×844, touch)."""
    yield from _open_page(
        chromium, live_service, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )


@pytest.fixture(scope="session")
def screenshots() -> Screenshots:
    """The README's screenshots: written to docs/screenshots only when ``DIGITIFY_SCREENSHOTS=1``."""
    return Screenshots(SCREENSHOTS if os.environ.get(SCREENSHOTS_SWITCH) == "1" else None)
