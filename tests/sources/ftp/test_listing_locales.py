"""LIST listings printed under a European locale, served by a real pyftpdlib server
whose LIST sends them as such servers do (no MLSD, so the client reads LIST): dotted
dates are day first (``05.11.2026`` is 5 November), and sizes with thousands
separators (``1.234.567``, ``1,234,567``, ``1 234 567`` with a no-break space, Swiss
``1'234'567``) are sizes, not unreadable lines. The formats' sources are in
:func:`reelhouse.sources.ftp.listing_dates.dos_time` and
:data:`reelhouse.sources.ftp.listing.GROUPED_SIZE`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.base import Listing
from reelhouse.sources.ftp import FtpConfig, FtpSource

from helpers import FTP_PASSWORD, FTP_USER, stop_without_leaks


def _ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()  # type: ignore[misc]


# (listing the server sends, {name: (is_dir, size, mtime)})
LISTINGS: dict[str, tuple[str, dict[str, tuple[bool, int | None, float]]]] = {
    # A Windows server listing DOS style with German regional settings.
    "windows-de": (
        "05.11.2026  20:15       <DIR>          Films\r\n"
        "04.01.26  09:05             1.234.567 Heat (1995).mkv\r\n"
        "12.03.2026  07:00                 512 notes.txt\r\n",
        {"Films": (True, None, _ts(2026, 11, 5, 20, 15)),
         "Heat (1995).mkv": (False, 1_234_567, _ts(2026, 1, 4, 9, 5)),
         "notes.txt": (False, 512, _ts(2026, 3, 12, 7, 0))},
    ),
    # The same with French settings: a no-break space groups the digits.
    "windows-fr": (
        "05.11.2026  20:15        5\u00a0368\u00a0709\u00a0120 Amélie (2001).mkv\r\n",
        {"Amélie (2001).mkv": (False, 5 * 1024**3, _ts(2026, 11, 5, 20, 15))},
    ),
    # IIS (month first, 12 h clock) with grouped sizes: unchanged.
    "iis-us": (
        "11-05-26  08:15PM            1,234,567 Heat (1995).mkv\r\n",
        {"Heat (1995).mkv": (False, 1_234_567, _ts(2026, 11, 5, 20, 15))},
    ),
    # ``ls -l --block-size="'1"`` under de_DE / de_CH / C, and a dotted --time-style.
    "ls-grouped": (
        "-rw-r--r--   1 ftp ftp 1.234.567 Nov  5 20:15 de.mkv\r\n"
        "-rw-r--r--   1 ftp ftp 7\u2019654\u2019321 Nov  5 20:15 ch.mkv\r\n"
        "-rw-r--r--   1 ftp ftp 2,000,000 Nov  5 20:15 en.mkv\r\n"
        "-rw-r--r--   1 ftp ftp 4096 05.11.2026 20:15 dotted.mkv\r\n"
        "drwxr-xr-x   2 ftp ftp 4.096 29.11.26 Serien\r\n",
        {"de.mkv": (False, 1_234_567, _ts(2026, 11, 5, 20, 15)),
         "ch.mkv": (False, 7_654_321, _ts(2026, 11, 5, 20, 15)),
         "en.mkv": (False, 2_000_000, _ts(2026, 11, 5, 20, 15)),
         "dotted.mkv": (False, 4096, _ts(2026, 11, 5, 20, 15)),
         "Serien": (True, None, _ts(2026, 11, 29))},
    ),
}


@pytest.fixture
def localized(request: pytest.FixtureRequest, ftp_root: Path) -> Iterator[tuple[FtpSource, dict[str, Any]]]:
    from pyftpdlib.handlers import FTPHandler

    text, expected = LISTINGS[request.param]

    def ftp_LIST(self: Any, path: str) -> None:
        self.push_dtp_data(text.encode("utf-8"), cmd="LIST")

    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, handler_overrides={
        "ftp_LIST": ftp_LIST,
        "proto_cmds": {k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLSD", "MLST")},
    }).start()
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1,
                              connect_timeout=5, read_timeout=10))
    try:
        yield src, expected
    finally:
        src.close()
        stop_without_leaks(server)


@pytest.mark.parametrize("localized", list(LISTINGS), indirect=True)
def test_localized_listing_dates_and_sizes(localized: tuple[FtpSource, dict[str, Any]]) -> None:
    """Before: ``05.11.2026`` was read as 11 May, and ``1.234.567`` / NBSP / ``’``
    sizes made their lines unreadable (the scanner then marked nothing missing in the
    folder and named the lines as errors)."""
    src, expected = localized
    entries = src.list("")
    assert not (isinstance(entries, Listing) and entries.unread), entries.unread  # type: ignore[union-attr]
    got = {e.name: (e.is_dir, e.size, e.mtime) for e in entries}
    assert got == expected
