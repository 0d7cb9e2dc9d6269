from pathlib import Path
import re
from playwright.sync_api import Page, expect
from e2e.conftest import log_in, Library, place, FILM_REL
from reelhouse.library.sources import SourceSpec

def test_shots(page: Page, live_server: str, library: Library, artifacts: Path, core, tmp_path, sample_mkv, sample_mp4) -> None:
    place(sample_mkv, tmp_path / "films", "The Office (2005)/Season 2/The.Office.S02E03.The.Dundies.mkv")
    place(sample_mp4, tmp_path / "films", "The Office (2005)/Season 2/The.Office.S02E04.mp4")
    core.jobs.run_scan_now(library.local_source_id)
    log_in(page, "/login")
    page.goto("/")
    page.screenshot(path=str(artifacts / "tmp-grid2.png"))
    page.locator(".tile", has_text="Big Buck").click()
    page.screenshot(path=str(artifacts / "tmp-movie.png"), full_page=True)
    page.goto("/")
    page.locator(".tile", has_text="Office").click()
    page.screenshot(path=str(artifacts / "tmp-show.png"), full_page=True)
    page.locator(".episode").first.get_by_role("link", name=re.compile("Play")).click()
    page.wait_for_timeout(2500)
    print("video err", page.evaluate("document.getElementById('player').error && document.getElementById('player').error.code"), page.evaluate("document.getElementById('player').currentTime"))
    page.screenshot(path=str(artifacts / "tmp-play-mkv.png"), full_page=True)
    page.goto("/movies/999")
    page.screenshot(path=str(artifacts / "tmp-404.png"))
    page.goto("/settings/sources")
    page.locator(".source", has_text="Seedbox").get_by_role("button", name="Edit").click()
    page.screenshot(path=str(artifacts / "tmp-edit.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    page.screenshot(path=str(artifacts / "tmp-mobile.png"), full_page=True)
    page.context.clear_cookies()
    page.goto("/")
    page.screenshot(path=str(artifacts / "tmp-login.png"))
    # range requests
    log_in(page, "/")
    reqs = []
    page.on("response", lambda r: reqs.append((r.status, r.request.headers.get("range"), r.headers.get("content-range"))) if "/stream?" in r.url else None)
    page.goto("/play/1")
    page.wait_for_function("document.getElementById('player').currentTime > 0.5")
    page.evaluate("document.getElementById('player').currentTime = 25")
    page.wait_for_function("document.getElementById('player').currentTime > 26")
    print(reqs)
