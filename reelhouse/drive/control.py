"""Asking a live mount to act on a file of its spool, from another process (``reelhouse
drive spool retry|discard`` of an upload a live mount keeps).

The asker writes ``<run dir>/<pid>.ask.<nonce>`` (``{"action", "path"}``, atomically:
write, then rename) and waits for ``<pid>.answer.<nonce>`` (``{"ok", "message",
"error"}``: ``error`` the name of a :mod:`reelhouse.errors` class). The mount looks
for questions every :data:`POLL` seconds (:func:`serve`) and answers each once. The
run dir is the status files' (:func:`~reelhouse.drive.status.run_dir`), private to the
user.

What the mount does (:class:`SpoolActions`): ``discard`` drops a kept upload (failed or
refused, not being uploaded, not open on the mount) from the spool, so the mount shows
the server's file again (or none); ``retry`` clears a refusal (or a conflict) and uploads
the file now.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reelhouse import errors as e
from reelhouse.drive.fs import DriveFS
from reelhouse.drive.status import process_running, run_dir

__all__ = ["POLL", "SpoolActions", "ask", "serve"]

log = logging.getLogger(__name__)

#: Seconds between the mount's looks for questions.
POLL = 0.25


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def ask(pid: int, action: str, path: str, timeout: float) -> str:
    """Ask the mount of process ``pid`` to ``action`` (``discard`` | ``retry``) the kept
    upload ``path``; waits up to ``timeout`` seconds. Returns the mount's message;
    raises the mount's error (NotFound, Conflict, PermissionDenied, …), or
    SourceUnavailable when the mount ends or does not answer in time."""
    folder = run_dir()
    nonce = uuid.uuid4().hex
    question, answer = folder / f"{pid}.ask.{nonce}", folder / f"{pid}.answer.{nonce}"
    try:
        _write(question, {"action": action, "path": path})
    except OSError as exc:
        raise e.PermissionDenied(f"cannot ask the mount (pid {pid}): {exc}") from exc
    deadline = time.monotonic() + timeout
    try:
        while not answer.exists():
            if not process_running(pid):
                raise e.SourceUnavailable(f"the mount (pid {pid}) has ended; see `reelhouse drive spool list`")
            if time.monotonic() > deadline:
                raise e.SourceUnavailable(f"the mount (pid {pid}) did not answer within {timeout:g} s (an "
                                          "upload may still run: `reelhouse drive status` shows it)")
            time.sleep(0.05)
        got = json.loads(answer.read_text())
    except (OSError, ValueError) as exc:
        raise e.SourceUnavailable(f"no answer from the mount (pid {pid}): {exc}") from exc
    finally:
        question.unlink(missing_ok=True)
        answer.unlink(missing_ok=True)
    if got.get("ok"):
        return str(got.get("message", ""))
    kind = getattr(e, str(got.get("error")), e.ReelhouseError)
    if not (isinstance(kind, type) and issubclass(kind, e.ReelhouseError)):
        kind = e.ReelhouseError
    raise kind(str(got.get("message", "the mount refused")))


class SpoolActions:
    """What a live mount does when asked (:func:`ask`), over its :class:`DriveFS`."""

    def __init__(self, fs: DriveFS) -> None:
        self.fs = fs

    def _kept(self, path: str) -> Any:
        node = self.fs.spool.node(path)
        if node is None or node.unlinked or not node.dirty:
            raise e.NotFound(f"no upload kept in the spool as {path!r} (see `reelhouse drive spool list`)")
        if node.upload_state is not None:
            raise e.Conflict(f"{path!r} is being uploaded now; see `reelhouse drive status`")
        return node

    def discard(self, path: str) -> str:
        """Drop the kept upload ``path`` (not open on the mount): its unsent bytes go, the
        server's file (if any) shows again. Raises NotFound, Conflict."""
        spool = self.fs.spool
        with spool.lock:
            node = self._kept(path)
            if node.handles > 0:
                raise e.Conflict(f"{path!r} is open on the mount: close it first")
            size = node.size_now()
            state = "conflict" if node.conflict else "refused" if node.refused is not None else "failed"
            spool.forget(path)
        self.fs.listings.remove(path)
        self.fs.listings.invalidate(path.rpartition("/")[0])  # the server's copy, if any, shows
        self.fs.forget_kernel(path)  # at once, not after the kernel's attribute TTL
        # what a failed try left on the server, without holding the answer for it
        threading.Thread(target=spool.remove_part, args=(node, size), name="drive-discard", daemon=True).start()
        log.warning("dropped from the spool as asked: %r (%d bytes, %s); the server's file is as it was",
                    path, size, state)
        return f"discarded {path} ({size} bytes, {state}) from the spool {spool.folder}"

    def retry(self, path: str) -> str:
        """Clear the refusal of ``path`` and upload it now (a conflict: over the file
        another client made). Raises what the upload raises (the file then stays kept,
        refused again if the server refuses)."""
        node = self._kept(path)
        was = "conflict" if node.conflict else "refused" if node.refused is not None else "failed"
        node.refused = None
        node.absent = node.conflict = False  # asked: sent over the file another client made
        entry = self.fs.spool.upload(node)
        if entry is not None:
            self.fs.listings.put(entry)
            self.fs.health.ok()
            self.fs.forget_kernel(path)  # the server's time now
        self.fs.spool.release_clean(node)
        return f"{path} ({was}) uploaded"

    def answer(self, action: str, path: str) -> str:
        if action == "discard":
            return self.discard(path)
        if action == "retry":
            return self.retry(path)
        raise e.InvalidInput(f"unknown action {action!r}")


def serve(actions: SpoolActions, stop: threading.Event,
          changed: Callable[[], None] = lambda: None) -> None:
    """Answer the questions to this process (:func:`ask`) until ``stop`` is set;
    ``changed()`` runs after each action and before its answer (the mount publishes its
    status then, so `drive spool list` after the answer shows the spool as it is)."""
    folder, pid = run_dir(), os.getpid()
    while not stop.wait(POLL):
        for question in sorted(folder.glob(f"{pid}.ask.*")):
            answer = question.with_name(question.name.replace(".ask.", ".answer.", 1))
            try:
                asked = json.loads(question.read_text())
                question.unlink()
            except (OSError, ValueError):
                continue  # taken back by its asker, or half written
            try:
                reply: dict[str, Any] = {"ok": True,
                                         "message": actions.answer(str(asked.get("action")), str(asked.get("path")))}
            except e.ReelhouseError as exc:
                kind = next(c.__name__ for c in type(exc).__mro__ if getattr(e, c.__name__, None) is c)
                reply = {"ok": False, "message": exc.message, "error": kind}
            except Exception as exc:  # the answer must come, whatever happened
                log.exception("answering %s", asked)
                reply = {"ok": False, "message": f"the mount failed: {exc}", "error": "ReelhouseError"}
            try:
                changed()
            except Exception as exc:
                log.warning("after answering %s: %s", question.name, exc)
            try:
                _write(answer, reply)
            except OSError as exc:
                log.warning("cannot answer %s: %s", question.name, exc)
