"""Which files and folders hold media. Pure: no I/O.

Two questions: is a path a *main* title (a film or an episode: :func:`is_media_path`),
and is it a video the scanner indexes at all (:func:`is_video_file`: main titles and
the extras of Plex/Jellyfin/Kodi, but never samples).
"""

from __future__ import annotations

import functools

from reelhouse.library.naming.folders import extras_folder
from reelhouse.library.naming.movies import extra_suffix
from reelhouse.library.naming.parse import MEDIA_EXTENSIONS, split_stem

__all__ = ["is_media_file", "is_media_folder", "is_media_path", "is_video_file", "is_video_folder"]


def _is_video(name: str) -> tuple[str, bool]:
    stem, ext = split_stem(name)
    return stem, ext.lower() in MEDIA_EXTENSIONS and bool(stem)


def is_media_file(name: str) -> bool:
    """Whether ``name`` has a video extension and is no extra (trailer, sample,
    ``-featurette``, …) by its suffix."""
    stem, video = _is_video(name)
    return video and extra_suffix(stem) is None


def is_video_file(name: str) -> bool:
    """Whether the scanner indexes ``name``: a video extension, and not a sample."""
    stem, video = _is_video(name)
    suffix = extra_suffix(stem) if video else None
    return video and (suffix is None or suffix[1] != "sample")


@functools.lru_cache(maxsize=4096)  # a scan asks once per file, for a few folders
def is_media_folder(folder: str) -> bool:
    """Whether files of ``folder`` may be main titles: it is not (inside) an extras or
    sample folder. ``is_media_path(f"{folder}/{name}")`` equals
    ``is_media_folder(folder) and is_media_file(name)``, for one check per folder."""
    return not any(extras_folder(p) is not None for p in folder.split("/") if p)


@functools.lru_cache(maxsize=4096)
def is_video_folder(folder: str) -> bool:
    """Whether the scanner indexes files of ``folder``: not (inside) a sample folder."""
    return not any(extras_folder(p) == "sample" for p in folder.split("/") if p)


def is_media_path(path: str) -> bool:
    """Like :func:`is_media_file`, and not inside an extras or sample folder."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return False
    return is_media_file(parts[-1]) and is_media_folder("/".join(parts[:-1]))
