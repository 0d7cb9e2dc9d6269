"""Shared by the Jellyfin API tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

AUTH = ('MediaBrowser Client="reelhouse tests", Device="pytest", DeviceId="dev-1", '
        'Version="1.0"')


@dataclass
class Library:
    root: Path
    source_id: int
    files: dict[str, int]  # path relative to the source → media file id
