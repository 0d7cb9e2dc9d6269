"""Pure formatting helpers for the templates (registered as Jinja2 filters): sizes,
durations, bitrates, resolutions, episode codes and poster placeholders."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

__all__ = [
    "FILTERS",
    "bitrate",
    "episode_code",
    "extra_label",
    "hms",
    "human_size",
    "initials",
    "poster_hue",
    "resolution",
    "when",
]

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(size: int | None) -> str:
    """``1536`` → ``"1.5 KiB"`` (IEC units, 1024 each); ``None`` → ``"—"``."""
    if size is None:
        return "—"
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def hms(seconds: float | None) -> str:
    """Seconds → ``"h:mm:ss"`` (``30.2`` → ``"0:00:30"``); ``None`` → ``"—"``."""
    if seconds is None or seconds < 0:
        return "—"
    total = int(seconds)
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def bitrate(bps: int | None) -> str:
    """Bits per second → ``"1.2 Mb/s"`` / ``"850 kb/s"`` (SI units); ``None`` → ``"—"``."""
    if not bps:
        return "—"
    if bps >= 1_000_000:
        return f"{bps / 1_000_000:.1f} Mb/s"
    if bps >= 1_000:
        return f"{bps / 1_000:.0f} kb/s"
    return f"{bps} b/s"


def resolution(width: int | None, height: int | None) -> str:
    """``(640, 360)`` → ``"640x360"``; unknown → ``"—"``."""
    if not width or not height:
        return "—"
    return f"{width}x{height}"


def episode_code(season: int, episode: int, last: int | None = None) -> str:
    """``(1, 2)`` → ``"S01E02"``; a multi-episode file ``(1, 2, 3)`` → ``"S01E02-E03"``."""
    code = f"S{season:02d}E{episode:02d}"
    return f"{code}-E{last:02d}" if last is not None and last != episode else code


def initials(title: str) -> str:
    """Up to two initials of a title for the poster placeholder (``"Big Buck Bunny"`` → ``"BB"``)."""
    words = [w for w in title.split() if w[:1].isalnum()]
    letters = "".join(w[0] for w in words[:2]).upper()
    return letters or (title[:1].upper() if title else "?")


def poster_hue(title: str) -> int:
    """A stable hue (0-359) derived from the title, so each poster keeps its colour."""
    return zlib.crc32(title.casefold().encode()) % 360


def when(moment: datetime | None) -> str:
    """A stored UTC timestamp → ``"2024-05-01 20:15 UTC"``; ``None`` → ``"never"``."""
    if moment is None:
        return "never"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


_EXTRA_LABELS = {
    "trailer": "Trailer", "featurette": "Featurette", "deleted": "Deleted scene",
    "behindthescenes": "Behind the scenes", "interview": "Interview", "scene": "Scene",
    "short": "Short", "clip": "Clip", "themevideo": "Theme video", "other": "Extra",
}


def extra_label(kind: str | None) -> str:
    """The display name of an extra type ("deleted" → "Deleted scene")."""
    return _EXTRA_LABELS.get(kind or "", "Extra")


FILTERS = {
    "extra_label": extra_label,
    "human_size": human_size,
    "hms": hms,
    "bitrate": bitrate,
    "initials": initials,
    "resolution": resolution,
    "episode_code": episode_code,
    "poster_hue": poster_hue,
    "when": when,
}
