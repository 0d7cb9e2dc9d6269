"""What a spool keeps for a later mount: beside each spool file that is not on the
server yet (``<id>.data``) a manifest, ``<id>.json``: the remote path, the ``.part``
name of its last try, and the server's reply if it refused the file for good
(``refused``: such a file is kept, listed, and not sent again by a later mount until
the user writes, moves or removes it). A spool folder belongs to one live mount
(:mod:`~reelhouse.drive.spool_claim`); :func:`adopt` moves the files of folders whose
mount has ended into the folder of the mount starting now.

Two more kinds of file: ``server.info`` (:func:`save_server`), how to reach the server
(no password), which ``drive spool discard`` uses to remove a discarded upload's
``.part`` while no mount runs; and ``<id>.discarded`` (:func:`note_discarded`), the
``.part`` of an upload discarded while the server could not be reached, which the
next mount of the server removes (:mod:`~reelhouse.drive.recovery`).
"""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path
from typing import Any, NamedTuple

from reelhouse.drive.spool_claim import claim_folder, release_folder
from reelhouse.drive.spoolfile import SpoolFile

__all__ = ["INTERRUPTED", "Discarded", "Kept", "adopt", "discarded", "forget_discarded", "kept", "kept_uploads",
           "note_discarded", "save", "save_server", "server", "tidy"]

#: The reply kept for a file the mount was still writing when its process ended
#: without an unmount (killed, a crash, the machine off): no upload of it had begun
#: since its last change, so its writer never saw it stored and it may be short of
#: what was meant. The next mount keeps it as refused (shown, listed, not sent by
#: itself) instead of uploading a torn file over the server's: the user sends it
#: (``drive spool retry``) or drops it (``discard``, ``rm``).
INTERRUPTED = ("the mount ended while the file was being written (its writer got an error); kept as it was "
               "then, maybe short of what was meant: `reelhouse drive spool retry` sends it as it is, "
               "`discard` drops it")


class Kept(NamedTuple):
    """One file a spool folder keeps: its id (``<id>.data``), its remote path, the
    ``.part`` of its last try (None: not chosen yet), the server's refusal (None:
    not refused, sent by the next mount), and whether it is a conflict with a file
    another client made (:mod:`~reelhouse.drive.uploader`)."""

    ident: str
    path: str
    part: str | None
    refused: str | None
    #: the server had no file of its name when it was made (SpoolFile.absent)
    absent: bool = False
    #: its upload found one another client made meanwhile (SpoolFile.conflict)
    conflict: bool = False


def save(node: SpoolFile) -> None:
    """Write the manifest of ``node`` (raises OSError)."""
    saved: dict[str, str | bool | None] = {"path": node.path, "part": node.part}
    refused = node.refused if node.refused is not None else INTERRUPTED if node.unsettled else None
    if refused is not None:
        saved["refused"] = refused
    if node.absent:
        saved["absent"] = True
    if node.conflict:
        saved["conflict"] = True
    node.manifest.write_text(json.dumps(saved))


def tidy(folder: Path) -> None:
    """Remove the spool files of ``folder`` that have no manifest (call while no file of
    the folder is open): copies of files never changed since they were opened, which a
    mount that ended without an unmount (killed) left, up to the size of every file it
    had open for writing."""
    for data in folder.glob("*.data"):
        if not data.with_suffix(".json").exists():
            data.unlink(missing_ok=True)


def kept(folder: Path, tidy: bool = False) -> list[Kept]:
    """The files kept in spool folder ``folder`` (a manifest with its ``<id>.data``), in
    a stable order; unreadable manifests are skipped, and with ``tidy`` one whose data
    file is gone is removed."""
    out = []
    for manifest in sorted(folder.glob("*.json")):
        try:
            saved = json.loads(manifest.read_text())
            path = str(saved["path"])
            part, refused = saved.get("part"), saved.get("refused")
            absent, conflict = saved.get("absent") is True, saved.get("conflict") is True
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if not (folder / f"{manifest.stem}.data").exists():
            if tidy:
                manifest.unlink(missing_ok=True)
            continue
        out.append(Kept(manifest.stem, path, part if isinstance(part, str) else None,
                        refused if isinstance(refused, str) else None, absent, conflict))
    return out


def kept_uploads(folder: Path) -> list[Kept]:
    """The files kept in spool folder ``folder``, by remote path: uploads that did not
    succeed (sent by the next mount of the same server) and uploads the server refused
    (kept until the user removes them). For a folder no live mount holds (``drive
    unmount`` reports what a mount left)."""
    return sorted(kept(folder), key=lambda k: k.path)


def adopt(base: Path, folder: Path) -> None:
    """Move into spool folder ``folder`` the files of the other spool folders of the same
    server (``base``, ``base.2``, …) whose mount is gone (their lock is free); a live
    mount's folder is left alone, an emptied spare folder is removed."""
    for other in [base, *sorted(base.parent.glob(f"{glob.escape(base.name)}.*"))]:
        if other == folder or not other.is_dir():
            continue
        try:
            _, claim = claim_folder(other, create=False)
        except BlockingIOError:
            continue  # its mount is alive
        try:
            for note in other.glob("*.discarded"):
                os.replace(note, folder / note.name)
            for data in other.glob("*.data"):
                manifest = data.with_suffix(".json")
                if manifest.exists():
                    os.replace(data, folder / data.name)
                    os.replace(manifest, folder / manifest.name)
            tidy(other)
        finally:
            release_folder(claim)
        if other != base:
            try:
                other.rmdir()  # an emptied spare folder
            except OSError:
                pass


class Discarded(NamedTuple):
    """The ``.part`` (``size`` bytes at most: :func:`~reelhouse.drive.parts.remove_part`)
    an upload of ``path`` discarded from the spool may have left on the server."""

    ident: str
    path: str
    part: str
    size: int


def note_discarded(folder: Path, ident: str, path: str, part: str, size: int) -> None:
    """Note in spool folder ``folder`` that the ``.part`` of discarded upload ``ident``
    is to be removed by the next mount of its server (raises OSError)."""
    tmp = folder / f".{ident}.discarded.tmp"
    tmp.write_text(json.dumps({"path": path, "part": part, "size": size}))
    os.replace(tmp, folder / f"{ident}.discarded")


def discarded(folder: Path) -> list[Discarded]:
    """The notes of :func:`note_discarded` in ``folder``; unreadable ones are skipped."""
    out = []
    for note in sorted(folder.glob("*.discarded")):
        try:
            saved = json.loads(note.read_text())
            out.append(Discarded(note.name.removesuffix(".discarded"), str(saved["path"]), str(saved["part"]),
                                 int(saved["size"])))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return out


def forget_discarded(folder: Path, ident: str) -> None:
    """The ``.part`` of discarded upload ``ident`` is gone from the server."""
    (folder / f"{ident}.discarded").unlink(missing_ok=True)


#: the file of :func:`save_server` in a spool folder
SERVER = "server.info"


def save_server(folder: Path, reach: dict[str, Any]) -> None:
    """Keep in spool folder ``folder`` how to reach its server again (``reach``: the
    mount's connection settings, never a password): ``drive spool discard`` connects
    with it while no mount runs. Raises OSError."""
    tmp = folder / f".{SERVER}.tmp"
    tmp.write_text(json.dumps(reach))
    os.replace(tmp, folder / SERVER)


def server(folder: Path) -> dict[str, Any] | None:
    """What :func:`save_server` kept in ``folder`` (or in the folder it is the ``.N``
    spare of), None when nothing readable is there."""
    candidates = [folder]
    stem, _, n = folder.name.rpartition(".")
    if stem and n.isdigit():
        candidates.append(folder.with_name(stem))
    for candidate in candidates:
        try:
            saved = json.loads((candidate / SERVER).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(saved, dict):
            return saved
    return None
