"""The transfers side of the UI in Chromium: keep a film offline, pull the FTP server's
plug and still watch it (the player says it plays the offline copy); upload a file from
the Transfers page; sync a source from the Sources page."""

from __future__ import annotations

import time
from pathlib import Path

from e2e.support import Library, log_in
from playwright.sync_api import Page, expect

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer


def test_keep_offline_then_play_with_the_server_down(
    page: Page, live_server: str, library: Library, core: Core, ftp_server: EmbeddedFtpServer,
    artifacts: Path,
) -> None:
    log_in(page, "/")
    page.get_by_role("link", name="Big Buck Bunny").first.click()
    page.get_by_role("button", name="Keep offline").click()
    expect(page.get_by_role("button", name="✓ Kept offline (downloading…)")).to_be_visible()
    deadline = time.monotonic() + 30
    while not any(c.state == "ready" for c in core.offline.copies()):
        assert time.monotonic() < deadline, "the offline copy was not made"
        time.sleep(0.1)
    page.reload()
    expect(page.get_by_text("offline copy").first).to_be_visible()

    ftp_server.stop()  # pull the plug
    core.sources.close()
    page.get_by_role("link", name="▶ Play").first.click()
    expect(page.locator("#offline-note")).to_be_visible()
    page.wait_for_function(
        "document.getElementById('player').currentTime > 0.5", timeout=20_000)
    page.screenshot(path=str(artifacts / "offline-copy-playing.png"))


def test_upload_from_the_transfers_page_and_sync(
    page: Page, live_server: str, library: Library, ftp_root: Path, tmp_path: Path,
) -> None:
    upload = tmp_path / "Night.of.the.Living.Dead.1968.mkv"
    upload.write_bytes(b"n" * 300_000)
    log_in(page, "/transfers")
    page.locator("#upload-source").select_option(label="Seedbox")
    page.get_by_label("Folder (created if missing)").fill("Uploads/Classics")
    page.locator("#upload-file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-status")).to_contain_text("Queued")
    expect(page.locator("tr.transfer.state-done")).to_have_count(1, timeout=20_000)
    assert (ftp_root / "Uploads/Classics" / upload.name).read_bytes() == upload.read_bytes()

    page.goto("/settings/sources")
    seedbox = page.locator("li.source", has_text="Seedbox")
    seedbox.get_by_role("button", name="Sync").click()
    expect(seedbox.locator(".sync-status")).to_contain_text("1 added", timeout=20_000)
    page.reload()
    seedbox.get_by_text("Sync history").click()
    expect(seedbox.locator(".sync-history")).to_contain_text("1 added")
