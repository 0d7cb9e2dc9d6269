"""Which files and folders hold media. Pure: no I/O.

Two questions: is a path a *main* title (a film or an episode: :func:`is_media_path`),
and is it a video the scanner indexes at all (:func:`is_video_file`: main titles and
the extras of Plex/Jellyfin/Kodi, but never samples).
"""

from __future__ import annotations

import functools

from reelhouse.library.naming.folders import extras_folder
from reelhouse.library.naming.movies import extra_suffix
from reelhouse.library.naming.parsed import MEDIA_EXTENSIONS, split_stem

__all__ = ["is_media_file", "is_media_folder", "is_media_path", "is_video_file", "is_video_folder"]

#: NAS and OS system folders no library shows (Jellyfin's default ignore patterns):
#: Synology's thumbnails and recycle bin, QNAP's, Windows' and fsck's.
_SYSTEM_FOLDERS = frozenset({"@eadir", "#recycle", "@recycle", "$recycle.bin", "system volume information",
                            "lost+found", "#snapshot", "@recently-snapshot"})


def _is_video(name: str) -> tuple[str, bool]:
    if name.startswith("."):  # hidden, and macOS AppleDouble "._Film.mkv" (resource forks)
        return name, False
    stem, ext = split_stem(name)
    return stem, ext.lower() in MEDIA_EXTENSIONS and bool(stem)


def _hidden_or_system(part: str) -> bool:
    return part.startswith(".") or part.casefold() in _SYSTEM_FOLDERS


def is_media_file(name: str) -> bool:
    """Whether ``name`` has a video extension and is no extra (trailer, sample,
    ``-featurette``, …) by its suffix."""
    stem, video = _is_video(name)
    return video and extra_suffix(stem) is None


def is_video_file(name: str) -> bool:
    """Whether the scanner indexes ``name``: a video extension, not a sample, not hidden."""
    stem, video = _is_video(name)
    suffix = extra_suffix(stem) if video else None
    return video and (suffix is None or suffix[1] != "sample")


@functools.lru_cache(maxsize=4096)  # a scan asks once per file, for a few folders
def is_media_folder(folder: str) -> bool:
    """Whether files of ``folder`` may be main titles: it is not (inside) an extras or
    sample folder, nor hidden or a system folder. ``is_media_path(f"{folder}/{name}")`` equals
    ``is_media_folder(folder) and is_media_file(name)``, for one check per folder."""
    return not any(extras_folder(p) is not None or _hidden_or_system(p) for p in folder.split("/") if p)


@functools.lru_cache(maxsize=4096)
def is_video_folder(folder: str) -> bool:
    """Whether the scanner indexes files of ``folder``: not (inside) a sample folder, a
    hidden folder (``.Trash-1000``) or a system one (:data:`_SYSTEM_FOLDERS`)."""
    return not any(extras_folder(p) == "sample" or _hidden_or_system(p) for p in folder.split("/") if p)


def is_media_path(path: str) -> bool:
    """Like :func:`is_media_file`, and not inside an extras or sample folder."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return False
    return is_media_file(parts[-1]) and is_media_folder("/".join(parts[:-1]))
