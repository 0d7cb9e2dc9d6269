"""Fixtures for the browser tests: a real uvicorn server on a loopback port, headless
Debian Chromium driven by Playwright, and a library holding a film on a real FTP
server and another in a local folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from e2e.party_pages import make_party, signed_in
from e2e.support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, FILM_REL, LOCAL_REL, Library

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.demo.media import make_clip
from reelhouse.server import create_app
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, place, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page


E2E = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test needs Debian's Chromium: mark each test of this folder
    ``requires_chromium`` (a failure under ``CI=true``, see tests/conftest.py) and skip
    it where ``/usr/bin/chromium`` is missing, so the modules do not repeat the marks."""
    missing = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing")
    for item in items:
        if E2E in item.path.parents:
            item.add_marker(pytest.mark.requires_chromium)
            item.add_marker(missing)


@pytest.fixture(autouse=True, scope="session")
def _patient_expect() -> None:
    """Playwright's ``expect(...)`` waits 5 s by default, whatever the context's default
    timeout: too short for a page to follow a WebSocket message or a reload on a loaded
    2-core CI machine. 20 s here; an assertion that holds returns at once all the same."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)


# -- server ---------------------------------------------------------------------------
@pytest.fixture
def core(ftp_server: EmbeddedFtpServer, core: Core) -> Core:
    """The suite's Core, set up after the FTP server so that it is closed (and its FTP
    pools with it) before the ``ftp_server`` fixture checks for leaked connections."""
    return core


@pytest.fixture
def live_server(core: Core) -> Iterator[str]:
    """``create_app(core)`` served by uvicorn in a thread on a free loopback port;
    yields the base URL (``http://127.0.0.1:PORT``)."""
    with serving(create_app(core)) as url:
        yield url


# -- browser --------------------------------------------------------------------------
@pytest.fixture(scope="module")  # sync Playwright keeps an event loop running: end it with the module
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium (one per test session)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the live server; closed before the
    server stops, so no stream is left open."""
    # bypass_csp: these tests poll with wait_for_function, which evaluates a string and
    # the app's CSP forbids that; test_accounts.py checks the CSP in contexts without it
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860},
                                  bypass_csp=True)
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def admin_party(core: Core, tmp_path: Path, small_film: Path, browser: Browser,
                live_server: str) -> Iterator[tuple[str, BrowserContext]]:
    """A party of the admin's on :func:`small_film` (its code) and a browser context
    signed in as the admin, closed after the test (e2e/party_pages.py)."""
    code = make_party(core, tmp_path, small_film)
    ctx = signed_in(browser, core, live_server)
    try:
        yield code, ctx
    finally:
        ctx.close()


@pytest.fixture
def artifacts() -> Path:
    """``test-artifacts/`` at the repository root (screenshots)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# -- library --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def film(clip_cache: Path) -> Path:
    """A 30 s 640x360 H.264/AAC MP4 (moov first), like a web-friendly release."""
    return make_clip(clip_cache / "film.mp4", seconds=30, width=640, height=360)


@pytest.fixture(scope="session")
def small_film(clip_cache: Path) -> Path:
    """A 30 s 160x90 MP4: a film for pages that test their controls, not its pictures."""
    return make_clip(clip_cache / "small.mp4", seconds=30, width=160, height=90)


@pytest.fixture
def library(
    core: Core, ftp_server: EmbeddedFtpServer, ftp_root: Path, tmp_path: Path, film: Path,
    sample_mp4: Path,
) -> Library:
    """Two scanned sources: "Seedbox" (FTP) with Big Buck Bunny (2008), "Home disk"
    (local folder) with Sintel (2010)."""
    place(film, ftp_root, FILM_REL)
    place(sample_mp4, tmp_path / "films", LOCAL_REL)
    ftp = core.sources.create(SourceSpec(
        name="Seedbox", kind="ftp", host=ftp_server.host, port=ftp_server.port,
        username=FTP_USER, password=FTP_PASSWORD,
    ))
    local = core.sources.create(SourceSpec(name="Home disk", kind="local",
                                           path=str(tmp_path / "films")))
    for source_id in (ftp.id, local.id):
        report = core.jobs.run_scan_now(source_id)
        assert not report.errors, report.errors
    return Library(ftp.id, local.id)
