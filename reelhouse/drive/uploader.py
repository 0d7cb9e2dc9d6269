"""Sending one spool file to the server, with its retries (the spool's uploads).

A try goes to the file's ``.part`` name (STOR, or the upload that streamed there
while the file was written: :mod:`reelhouse.drive.streamer`), checks its size against
the spool file (SIZE, else the listing), then renames it over the real name
(RNFR/RNTO; a server that will not rename over a file has it deleted first): a reader
on the server never sees half a file under the real name. Which ``.part`` name, and
the manifest that keeps it for a later mount, are the spool's
(:class:`~reelhouse.drive.spool.Spool`).

A try whose connection failed (SourceUnavailable: reset, timeout, server gone) is
retried, ``attempts`` tries in all, waiting ``delay`` seconds, then twice that, …
between them (``retry_attempts`` and ``retry_delay_seconds`` of ``[connection]``). One
the server answered with a refusal is not: trying again at once would not help. The
last error is raised and the spool file stays, dirty. A full server (452/552) is tried
again later (when the server is back up, at the next mount); a refusal for good
(:func:`refusal`: permission, a name the server does not allow, a STOR answered "not
found": :class:`StoreNotFound`) is kept with the
server's reply (:attr:`SpoolFile.refused`) and tried again only when the user acts
(writes the file, moves it, fsync).
:meth:`Uploader.stop` (an unmount that cannot wait any longer) ends the retries and
refuses new uploads; a file being deleted (:attr:`SpoolFile.deleting`) is not tried
again either.

A file made through the drive where the server had no file of its name (a create
without ``O_TRUNC``: :attr:`SpoolFile.absent`) is checked once more just before its
RNFR/RNTO: a SIZE of the real name, pipelined with the SIZE of the ``.part`` that
verifies the upload (:func:`~reelhouse.sources.sizes.remote_sizes`: no round trip more). FTP has no exclusive
create and RNTO replaces what is there, so the window left (the RNFR and RNTO round
trips) is as small as the protocol allows. A server refusing that SIZE otherwise than
"not found" gets the upload as before the check existed. A file another client
made meanwhile is not replaced: the try ends with :class:`CreatedElsewhere` (EEXIST
at close), the user's bytes stay in the spool as a conflict (listed by ``drive
spool``, not sent by itself), and its ``.part`` is removed from the server. ``drive
spool retry`` (or a ``mv`` of it on the mount) sends it, over the other file;
``discard`` or ``rm`` on the mount drops it, the other client's file untouched.

Such a file a mount kept when it ended without an unmount (killed) may have been sent
already: the rename done on the server, the mount gone before it removed its manifest.
The next mount (:attr:`SpoolFile.maybe_sent`, :mod:`~reelhouse.drive.recovery`) looks
first: where the server's file has the spool file's size, it is read back and compared
byte for byte; the same bytes end the upload as done (nothing sent, the entry dropped
with no warning or conflict, an info line in the log), anything else is uploaded (and
checked) as above. Only the whole content tells: an FTP server's time (MDTM) has the server's clock and second
precision, an MFMT after the upload changes it, and a hash is no command the servers
share (pyftpdlib, pure-ftpd and vsftpd have none). So a file of the same size that is
someone else's is never taken for the user's (its bytes differ somewhere: a conflict),
and one with exactly the user's bytes loses nothing when the entry goes. The read costs
what the upload it spares would (only once, only where the sizes agree).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from reelhouse.drive.names import risky_name
from reelhouse.drive.spoolfile import SpoolFile
from reelhouse.drive.status import Counters
from reelhouse.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ReelhouseError, SourceUnavailable
from reelhouse.sources.base import Entry, Source
from reelhouse.sources.sizes import remote_size, remote_sizes

__all__ = ["CreatedElsewhere", "NameRewritten", "StoreNotFound", "Uploader", "refusal"]

log = logging.getLogger(__name__)


class NameRewritten(InvalidInput):
    """The server stored an upload under another name than the one asked for (pure-ftpd
    turns control characters and a trailing space into ``_``): the bytes are on the
    server, the name is not."""


class StoreNotFound(NotFound):
    """The server answered the upload's STOR "not found" (550 "No such file or
    directory" from pyftpdlib, pure-ftpd's 553 "Can't open that file: No such file or
    directory"; 550 is also some servers' answer to a name they will not create, RFC 959
    §4.2 "File unavailable"): the file's folder is gone (another client deleted it) or
    the name is not allowed. Neither changes by itself: a refusal (:func:`refusal`),
    ENOENT at close."""


class CreatedElsewhere(Conflict):
    """Another client made a file under the name of a file made here (which the server
    did not have when it was created) before its upload's rename: the upload stops
    short of replacing it (EEXIST; kept in the spool as a conflict)."""


def refusal(exc: ReelhouseError) -> bool:
    """Did the server refuse an upload for good: permission (550/553/532 that say so,
    vsftpd's "553 Could not create file."), a name it does not allow (553, 501; RFC 959
    §4.2: 553 "Requested action not taken. File name not allowed."), or a STOR answered
    "not found" (:class:`StoreNotFound`: the folder is gone)? Such a file is not tried
    again by itself (at a close that wrote nothing, when the server is back up, at
    unmount, at the next mount); a full server (452/552), a lost connection and a
    ``.part`` that vanished after its STOR (another client's doing) are."""
    if isinstance(exc, StoreNotFound | CreatedElsewhere):
        return True
    return isinstance(exc, PermissionDenied | InvalidInput) and not isinstance(exc, NameRewritten)


def _stor_error(exc: BaseException) -> BaseException:
    """``exc`` as raised by a STOR: a NotFound becomes :class:`StoreNotFound`."""
    if isinstance(exc, NotFound) and not isinstance(exc, StoreNotFound):
        return StoreNotFound(exc.message)
    return exc


class Uploader:
    """Uploads spool files to ``source``: ``attempts`` tries at most, ``delay`` seconds
    before the second, doubling after. ``part_of(node)`` names the ``.part`` a try
    sends to (raises what a listing raises); ``save(node)`` writes its manifest again
    once that name changed. Thread-safe: each caller holds its file's lock."""

    def __init__(self, source: Source, counters: Counters, attempts: int, delay: float,
                 part_of: Callable[[SpoolFile], str], save: Callable[[SpoolFile], None]) -> None:
        self.source = source
        self.counters = counters
        self.attempts = max(1, attempts)
        self.delay = delay
        self.part_of = part_of
        self.save = save
        self._stopping = threading.Event()

    def stop(self) -> None:
        """End the retries under way (after their current try) and refuse new uploads
        with SourceUnavailable: the mount is ending and will not wait (the files stay in
        the spool, sent by the next mount)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def send(self, node: SpoolFile, size: int) -> Entry:
        """Upload ``node``'s ``size`` bytes (the caller holds ``node.lock``, the file
        settled on disk) with the retries; updates its ``upload_state``, ``sent``,
        ``error``, ``refused``, ``attempted``, ``dirty`` and manifest. Returns the
        server's entry; raises the last error (SourceUnavailable, PermissionDenied,
        StorageFull, InvalidInput, …), or :class:`NameRewritten` (the file is then clean:
        its bytes are on the server).

        Logs each failed try once: its number, the server's reply and the wait before
        the next; then the end once (given up after the last try, or refused)."""
        if self.stopping:
            raise SourceUnavailable(f"not uploaded: the drive is being unmounted ({node.path!r} "
                                    "stays in the spool, sent by the next mount)")
        change = node.changes
        try:
            return self._tries(node, size)
        finally:
            node.attempted = max(node.attempted, change)

    def _tries(self, node: SpoolFile, size: int) -> Entry:
        error: ReelhouseError | None = None
        node.upload_size = size
        tries = 0
        for attempt in range(self.attempts):
            if attempt or node.error:
                node.upload_state, node.sent = "retrying", 0
            else:
                node.upload_state = "uploading"  # a streamed file's ``sent`` goes on
            if attempt and (self._stopping.wait(self.delay * 2 ** (attempt - 1)) or node.deleting):
                break  # unmounting, or deleted meanwhile: no more tries
            tries += 1
            try:
                sent = self._put(node, size)
            except NameRewritten as exc:
                node.dirty = False
                node.error = node.refused = None
                node.manifest.unlink(missing_ok=True)
                log.warning("%s", exc.message)
                raise
            except ReelhouseError as exc:
                error = exc
                node.error = exc.message
                if refusal(exc):  # trying again will not help: kept until the user acts
                    node.refused = exc.message
                    node.conflict = isinstance(exc, CreatedElsewhere)
                    try:
                        self.save(node)  # a later mount keeps it as refused too
                    except OSError as disk:
                        log.warning("spool file of %r: %s", node.path, disk)
                    if node.conflict:
                        log.warning("upload of %r stopped: %s", node.path, exc.message)
                    else:
                        log.warning("upload of %r refused by the server: %s; kept in the spool, not sent "
                                    "again until it is written, moved or removed", node.path, exc.message)
                    raise
                node.refused = None
                if not isinstance(exc, SourceUnavailable):
                    break  # full (452/552), or the .part vanished: tried again later, not now
                if attempt + 1 < self.attempts and not self.stopping:
                    log.warning("upload of %r: try %d of %d failed: %s; next try in %g s", node.path,
                                attempt + 1, self.attempts, exc.message, self.delay * 2 ** attempt)
                continue
            node.dirty = node.absent = node.conflict = False
            node.error = node.refused = None
            node.remote_size = size
            node.manifest.unlink(missing_ok=True)
            if sent:
                self.counters.add_written(size)
            self._send_mtime(node)
            return node.entry()
        assert error is not None  # the first try always runs
        log.warning("upload of %r failed after %d %s: %s; kept in the spool, sent again when the "
                    "server is back up, at fsync or at the next mount", node.path, tries,
                    "try" if tries == 1 else "tries", error.message)
        raise error

    def _send_mtime(self, node: SpoolFile) -> None:
        """The time ``utimens`` set while the file was being written, now that the
        server holds the file (MFMT; a server without it keeps the upload's time)."""
        mtime, node.set_mtime = node.set_mtime, None
        setter = getattr(self.source, "set_mtime", None)
        if mtime is None or not callable(setter):
            return
        try:
            setter(node.path, mtime)
        except ReelhouseError as exc:
            log.info("could not set the time of %r: %s", node.path, exc.message)

    def _put(self, node: SpoolFile, size: int) -> bool:
        """One try; :attr:`SpoolFile.sending` names its ``.part`` while it runs. False
        when nothing was sent: the server had the file already (:meth:`_sent_before`)."""
        if node.maybe_sent and node.absent and node.streamer is None and self._sent_before(node, size):
            return False
        streamer = node.streamer
        node.sending = streamer.part if streamer is not None else node.part
        try:
            self._send(node, size)
        finally:
            node.sending = None
        return True

    def _sent_before(self, node: SpoolFile, size: int) -> bool:
        """Does the server hold ``node.path`` with exactly the ``size`` bytes of the
        spool file (an upload a killed mount finished, module docstring)? Read back only
        where the server's size is ``size``; once told (yes or no) it is not asked
        again. Raises SourceUnavailable (asked again at the next try)."""
        try:
            same = remote_size(self.source, node.path) == size and self._holds(node, size)
        except SourceUnavailable:
            raise
        except NotFound:
            same = False
        except ReelhouseError as exc:  # a SIZE or RETR refused: uploaded (and checked) as any other
            log.info("could not compare %r with the spool's copy: %s", node.path, exc.message)
            same = False
        node.maybe_sent = False
        if same:
            log.info("%r is on the server with exactly the spool's bytes (uploaded before the "
                     "earlier mount ended): not sent again", node.path)
        return same

    def _holds(self, node: SpoolFile, size: int) -> bool:
        """The server's ``node.path`` read back and compared with the spool file (the
        transfer aborted at the first difference)."""
        theirs = self.source.read_range(node.path, 0, size)
        try:
            return node.holds(theirs, size)
        finally:
            close = getattr(theirs, "close", None)
            if callable(close):
                close()

    def _send(self, node: SpoolFile, size: int) -> None:
        streamer, node.streamer = node.streamer, None
        streamed = streamer is not None and node.sequential == size and streamer.finish() \
            and streamer.sent == size and streamer.part == node.part
        earlier, node.stream_error = node.stream_error, None
        if streamer is not None and streamer.error is not None:
            earlier = (streamer.part, streamer.error)
        if earlier is not None:
            earlier = (earlier[0], _stor_error(earlier[1]))
        chosen = node.part
        part = node.sending = self.part_of(node)
        if part != chosen:
            self.save(node)  # with the .part a later mount's retry reuses
        if streamer is not None:
            try:
                streamer.close()  # settled already (upload): nothing left to write
            except OSError as exc:
                raise SourceUnavailable(f"spool file of {node.path!r}: {exc}") from exc
        if not streamed:
            if earlier is not None and earlier[0] == part and isinstance(earlier[1], ReelhouseError) \
                    and refusal(earlier[1]):
                raise earlier[1]  # refused while the file was written: this STOR would be too
            try:
                self.source.write(part, node.chunks())
            except NotFound as exc:
                raise _stor_error(exc) from exc
        there: dict[str, int | None] = {}
        if node.absent:  # the .part's size and whether the name is still free: one round trip
            try:
                there = remote_sizes(self.source, [part, node.path])
            except SourceUnavailable:
                raise
            except ReelhouseError as exc:  # a SIZE refused otherwise: the .part's asked alone
                log.info("could not check whether %r is still free: %s", node.path, exc.message)
                there = {part: remote_size(self.source, part)}
            if part not in there:
                raise NotFound(f"{part!r} is not on the server after its upload")
            got = there[part]
        else:
            got = remote_size(self.source, part)
        if got != size:
            raise SourceUnavailable(f"upload of {node.path!r} incomplete: the server has {got} "
                                    f"of {size} bytes")
        if node.path in there:
            self._made_elsewhere(node, part, there[node.path])
        try:
            self.source.rename(part, node.path)
        except (NotFound, SourceUnavailable):
            raise
        except ReelhouseError:
            # a server that will not rename over an existing file: delete it first
            self.source.delete(node.path)
            self.source.rename(part, node.path)
        if risky_name(node.path):
            try:
                remote_size(self.source, node.path)
            except NotFound:
                raise NameRewritten(f"the FTP server stored {node.path!r} under another name "
                                    "(it rewrites control characters or a trailing space)") from None

    def _made_elsewhere(self, node: SpoolFile, part: str, theirs: int | None) -> None:
        """``node.path``, which the server had no file of when it was made here, is a
        file of ``theirs`` bytes now (another client's), found just before the rename
        of ``part`` over it: remove ``part`` (the bytes stay in the spool; a server
        refusing that keeps it, removed by a later discard or upload) and raise
        :class:`CreatedElsewhere`."""
        try:
            self.source.delete(part)
        except ReelhouseError as exc:
            log.info("could not remove %r: %s", part, exc.message)
        size = "" if theirs is None else f" ({theirs} bytes)"
        raise CreatedElsewhere(
            f"another client made {node.path!r}{size} on the server after it was created here: not "
            "uploaded over it; kept in the spool as a conflict (`reelhouse drive spool retry` "
            "replaces theirs, `discard` or rm on the mount drops yours, mv on the mount sends "
            "yours under another name)")
