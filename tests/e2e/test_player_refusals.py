"""The player says why the server refused a stream (issue 14): a <video> element hides
the status of an answer it cannot play, so the page asks the server and shows its
reason: here the film's FTP server is down (502, RFC 9110 §15.6.3), not "this browser
cannot play this file"."""

from __future__ import annotations

import re

from e2e.support import Library, log_in
from playwright.sync_api import Page, expect

from reelhouse.demo.ftpd import EmbeddedFtpServer


def test_a_stream_from_a_source_that_is_down_says_so(page: Page, live_server: str, library: Library,
                                                     ftp_server: EmbeddedFtpServer) -> None:
    ftp_server.stop()
    answers: list[int] = []
    page.on("response", lambda r: answers.append(r.status) if "/stream" in r.url else None)
    log_in(page, "/")
    page.locator(".tile", has_text="Big Buck Bunny").click()
    page.locator(".file").get_by_role("link", name=re.compile("Play")).click()
    expect(page.locator("#player-note")).to_contain_text(
        "The stream could not start: The source's server cannot be reached (it is down", timeout=60_000)
    assert 502 in answers, answers
