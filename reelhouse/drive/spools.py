"""The uploads kept in the spool folders on this machine (``reelhouse drive spool``):
list them, send a refused one again, discard one.

A spool folder (``<data_dir>/drive-spool/<server>``, or a mount's ``spool_directory``)
keeps ``<id>.data`` and its manifest ``<id>.json`` for each file not on the server
(:mod:`~reelhouse.drive.manifest`). While a mount holds the folder (its ``flock``:
:mod:`~reelhouse.drive.spool_claim`) its files are that mount's, live in its memory:
they are listed from its status file, and changed only through the mount (the mount
is asked: :mod:`~reelhouse.drive.control`) or once it has ended. A folder no live mount holds is
locked for the length of each change here, so a mount starting meanwhile adopts
nothing half-changed.

:func:`retry` clears a file's refusal so that the next mount of its server sends it (as
it sends every other kept file), and :func:`discard` deletes the file's two spool files
and, through the caller's connection, the partial ``.part`` an earlier try left on the
server (never the server's file itself). Nothing else here talks to a server.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelhouse.drive import manifest
from reelhouse.drive.manifest import kept
from reelhouse.drive.spool_claim import claim_folder, release_folder
from reelhouse.errors import Conflict, NotFound, PermissionDenied, ReelhouseError, SourceUnavailable

__all__ = ["KeptFile", "discard", "kept_files", "retry"]


@dataclass(frozen=True)
class KeptFile:
    """One upload kept in a spool folder.

    ``folder``: the spool folder; ``ident``: its ``<id>`` there (None for a live mount's
    file, known from its status only); ``path``: the remote path, as the mount shows it;
    ``state``: ``refused`` (the server refused it for good, ``error`` its reply: not sent
    again by itself), ``conflict`` (another client made a file of that name before it
    was sent: not sent over it by itself) or ``pending`` (sent by the next mount of the server; a live
    mount's own states: ``failed``, ``uploading``, ``retrying``); ``size`` in bytes;
    ``mount_point``: the live mount that holds the folder, None once it has ended;
    ``pid``: that mount's process (None for a mount still starting: no status yet)."""

    folder: Path
    ident: str | None
    path: str
    state: str
    error: str | None
    size: int
    mount_point: str | None
    pid: int | None = None
    #: the ``.part`` its last try went to (None: none chosen, or a live mount's file)
    part: str | None = None

    def public(self) -> dict[str, Any]:
        """The JSON form (``drive spool list --json``)."""
        return {"spool": str(self.folder), "path": self.path, "state": self.state, "error": self.error,
                "size": self.size, "mount_point": self.mount_point}


def _held(folder: Path) -> bool:
    """Does a live mount hold ``folder`` (its flock)?"""
    try:
        _, claim = claim_folder(folder, create=False)
    except BlockingIOError:
        return True
    except OSError:
        return False  # unreadable or gone: nothing to change there anyway
    release_folder(claim)
    return False


def kept_files(root: Path, mounts: Iterable[Mapping[str, Any]]) -> list[KeptFile]:
    """Every upload kept in the spool folders under ``root`` (``<data_dir>/drive-spool``)
    and in those of the live ``mounts`` (their status files:
    :func:`~reelhouse.drive.status.live_mounts`), by folder then path. A live mount's
    files are its ``pending_uploads``; a folder whose mount has ended is read from its
    manifests. Unreadable folders are passed over."""
    live: dict[str, Mapping[str, Any]] = {os.path.abspath(m["spool"]): m for m in mounts if m.get("spool")}
    folders = {os.path.abspath(p) for p in root.glob("*") if p.is_dir()} if root.is_dir() else set()
    out: list[KeptFile] = []
    for name in sorted(folders | set(live)):
        folder = Path(name)
        mount = live.get(name)
        if mount is not None:
            out += [KeptFile(folder, None, str(u["path"]), str(u.get("state", "failed")), u.get("error"),
                             int(u.get("size") or 0), str(mount["mount_point"]), int(mount["pid"]))
                    for u in sorted(mount.get("pending_uploads", []), key=lambda u: str(u["path"]))]
            continue
        held = _held(folder)
        try:
            files = kept(folder)
        except OSError:
            continue
        for k in sorted(files, key=lambda k: k.path):
            try:
                size = (folder / f"{k.ident}.data").stat().st_size
            except OSError:
                continue
            state = "conflict" if k.conflict else "refused" if k.refused is not None else "pending"
            out.append(KeptFile(folder, k.ident, k.path, state,
                                k.refused, size, "(a mount starting now)" if held else None, part=k.part))
    return out


def _locked(file: KeptFile) -> int | None:
    """Lock ``file``'s folder for a change; Conflict while a mount holds it."""
    if file.mount_point is not None or file.ident is None:
        raise Conflict(f"{file.path!r} is kept by the live mount at {file.mount_point} (spool "
                       f"{file.folder}): on the mount write it again to send it or rm it to drop it, "
                       "or unmount it first")
    try:
        _, claim = claim_folder(file.folder, create=False)
    except BlockingIOError:
        raise Conflict(f"{file.path!r} is kept in {file.folder}, which a mount starting now holds: "
                       "unmount it first") from None
    except OSError as exc:
        raise NotFound(f"spool folder {file.folder}: {exc.strerror}") from exc
    return claim


def retry(file: KeptFile) -> bool:
    """Clear the refusal of ``file`` (a spool folder no live mount holds): the next mount
    of its server sends it (a conflict: over the file another client made). Returns
    False when it was not refused (already sent by the next mount). Raises Conflict (a
    live mount holds the folder), NotFound (the file is gone meanwhile),
    PermissionDenied (the manifest cannot be written)."""
    claim = _locked(file)
    try:
        manifest = file.folder / f"{file.ident}.json"
        try:
            saved = json.loads(manifest.read_text())
        except (OSError, ValueError) as exc:
            raise NotFound(f"{file.path!r} is no longer kept in {file.folder}") from exc
        if not isinstance(saved, dict) or saved.pop("refused", None) is None:
            return False
        saved.pop("absent", None)  # a conflict: sent over the file another client made
        saved.pop("conflict", None)
        tmp = manifest.with_name(f".{manifest.name}.tmp")
        try:
            tmp.write_text(json.dumps(saved))
            os.replace(tmp, manifest)
        except OSError as exc:
            raise PermissionDenied(f"cannot change {manifest}: {exc.strerror}") from exc
        return True
    finally:
        release_folder(claim)


def discard(file: KeptFile, remove_part: Callable[[str, int], str] | None = None) -> str:
    """Delete ``file``'s spool files (``<id>.data`` and its manifest) from a spool folder no
    live mount holds: its unsent bytes are gone, the server's file (if any) is left as
    it is. ``remove_part(part, size)`` (given by the caller, which connects to the
    server: :func:`~reelhouse.drive.parts.remove_part`) removes the ``.part`` an
    earlier try left, while the folder is locked (no mount starting meanwhile sends
    through it); when it raises (the server away, no password to log in), a note is
    kept and the next mount of the server removes it (:mod:`~reelhouse.drive.recovery`).
    Returns what happened to the ``.part`` ("" when there was none to think of). Raises
    Conflict (a live mount holds the folder), PermissionDenied (the spool folder cannot
    be changed)."""
    claim = _locked(file)
    try:
        said = ""
        if file.part is not None:
            try:
                if remove_part is None:
                    raise SourceUnavailable("no connection to the server was asked for")
                said = remove_part(file.part, file.size)
            except ReelhouseError as exc:
                manifest.note_discarded(file.folder, file.ident or "", file.path, file.part, file.size)
                said = (f"{file.part} (a partial upload) may be left on the server ({exc.message}): the next "
                        "mount of the server removes it")
        (file.folder / f"{file.ident}.json").unlink(missing_ok=True)  # first: no manifest, no upload
        (file.folder / f"{file.ident}.data").unlink(missing_ok=True)
    except OSError as exc:
        raise PermissionDenied(f"cannot discard {file.path!r} from {file.folder}: {exc.strerror}") from exc
    finally:
        release_folder(claim)
    return said
