"""Subtitles as WebVTT: sidecar files next to the media file and embedded text tracks.

Sidecars share the media file's name up to the extension, with optional tags between:
``Film.2010.srt``, ``Film.2010.en.srt``, ``Film.2010.fr.forced.ass`` (the convention of
Plex, Jellyfin and Kodi). :func:`find_sidecars` is pure; :func:`to_webvtt` runs ffmpeg.
"""

from __future__ import annotations

import posixpath
import subprocess
from dataclasses import dataclass

from reelhouse.errors import TranscodeFailed

__all__ = ["SIDECAR_EXTENSIONS", "Sidecar", "find_sidecars", "to_webvtt"]

SIDECAR_EXTENSIONS = (".srt", ".ass", ".ssa", ".vtt")

#: Common full language names in file names → ISO 639-1.
_NAMES = {"english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it",
          "dutch": "nl", "portuguese": "pt", "russian": "ru", "japanese": "ja",
          "chinese": "zh", "korean": "ko", "swedish": "sv", "polish": "pl"}
_FLAGS = {"forced", "sdh", "cc", "hi", "default", "full"}


@dataclass(frozen=True, slots=True)
class Sidecar:
    """A subtitle file: source-relative ``path``, ``language`` (as in the name, lower
    case: ``en``, ``eng``; or None), ``forced`` flag, ``format`` (``srt``, ``ass``…)."""

    path: str
    language: str | None
    forced: bool
    format: str


def find_sidecars(media_path: str, names: list[str]) -> list[Sidecar]:
    """The sidecars of ``media_path`` among the file ``names`` of its folder, sorted by
    name. Matching is case-insensitive on the stem."""
    folder, base = posixpath.split(media_path)
    stem = posixpath.splitext(base)[0].lower()
    out = []
    for name in sorted(names):
        root, ext = posixpath.splitext(name)
        if ext.lower() not in SIDECAR_EXTENSIONS:
            continue
        low = root.lower()
        if low != stem and not low.startswith(stem + "."):
            continue
        tags = [t for t in low[len(stem):].split(".") if t]
        language = None
        for tag in tags:
            if tag in _NAMES:
                language = _NAMES[tag]
                break
            if tag.isalpha() and len(tag) in (2, 3) and tag not in _FLAGS:
                language = tag
                break
        out.append(Sidecar(posixpath.join(folder, name) if folder else name, language,
                           "forced" in tags, ext.lower()[1:]))
    return out


def to_webvtt(argv: list[str], timeout: float = 300.0) -> bytes:
    """Run an ffmpeg WebVTT command (:func:`..ffmpeg.webvtt_command`) and return the
    document. Raises TranscodeFailed when ffmpeg fails or prints no WEBVTT header."""
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TranscodeFailed(f"subtitle conversion failed: {exc}") from exc
    if proc.returncode != 0 or not proc.stdout.startswith(b"WEBVTT"):
        tail = proc.stderr.decode(errors="replace").strip()[-300:]
        raise TranscodeFailed(f"subtitle conversion failed: {tail or 'no output'}")
    return proc.stdout
