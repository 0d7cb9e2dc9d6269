"""Offline copies: a film or a season the user wants to keep playable when its source
is down. Marking one queues a download of each of its files into
``<store>/offline/<source id>/<path>`` (priority -10: after the user's own transfers);
when a download ends the copy becomes ready (or failed). A copy is made once per file
and shared: each user who keeps it holds a claim (``transfers/offline_claims.py``),
releasing removes only that claim, and the copy and its file go with the last claim.
Whoever plays the file gets the copy as a fallback. What a scope holds and where a
copy goes in the store: ``transfers/offline_scope.py``. The stream endpoint asks
:meth:`OfflineCopies.ready_copy` (memory only, no I/O: ``transfers/offline_ready.py``)
and falls back to the copy when the source fails (``playback/fallback.py``).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Collection
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import MediaFile, OfflineClaim, OfflineCopy, Transfer, utcnow
from reelhouse.errors import Conflict, InvalidInput, NotFound
from reelhouse.transfers import offline_claims as claims
from reelhouse.transfers.offline_claims import ClaimView, CopyClaims
from reelhouse.transfers.offline_ready import LocalCopy, ReadyCopies
from reelhouse.transfers.offline_scope import copy_place, is_current, parse_scope, scope_files
from reelhouse.transfers.queue import TransferQueue

__all__ = ["OFFLINE_PRIORITY", "ClaimView", "CopyClaims", "LocalCopy", "OfflineCopies"]

log = logging.getLogger(__name__)

OFFLINE_PRIORITY = -10

#: The error of a copy's download cancelled because the user let go of the copy.
_GONE = "cancelled: no longer kept offline"


class OfflineCopies(ReadyCopies):
    """Mark / unmark scopes, follow their downloads, answer "is there a copy"."""

    def __init__(self, sessions: sessionmaker[Session], queue: TransferQueue, store: Path) -> None:
        super().__init__(sessions, store)
        self.queue = queue
        queue.listeners.append(self._transfer_ended)

    # -- marking ---------------------------------------------------------------------
    def keep(self, scope: str, user_id: int | None = None,
             sources: Collection[int] | None = None, max_open: int | None = None) -> list[OfflineCopy]:
        """Keep a scope offline for ``user_id``: ``movie:<id>`` or ``season:<id>``. Gives
        the user a claim on the copy of every present file (on one of ``sources``, the
        asking user's granted sources; None: any) and queues a download of each file
        without a ready, current copy (as a transfer of ``user_id``); a copy another user
        keeps is shared, not made again (``user_id`` None: no claim, a copy only admins
        see). Returns the copies of those files. ``max_open``:
        how many transfers ``user_id`` may have queued or running once these are queued
        (``transfer_max_open_per_user`` for a non-admin; None: no limit); joining a copy
        that is there or coming queues nothing and costs nothing. Raises InvalidInput
        (bad scope), NotFound (no such movie/season, also one with no file on
        ``sources``, in the same words; or no file present), Conflict (past
        ``max_open``; nothing is queued, unless the user's other transfers, on this node
        or another, were queued while these were: then each download is counted as it
        is queued, with the user's row locked (:meth:`TransferQueue.submit`), the cap
        holds, and those queued before stay)."""
        files = [mf for mf in self._files(scope) if sources is None or mf.source_id in sources]
        if not files and sources is not None:  # all on sources not granted: as an unknown id
            kind, ident = parse_scope(scope)
            raise NotFound(f"no {kind} with id {ident}")
        files = [mf for mf in files if mf.missing_since is None]
        if not files:
            raise NotFound(f"nothing to keep offline in {scope}: no file is present")
        if max_open is not None and user_id is not None:
            self._check_room(files, user_id, max_open)
        out = []
        for mf in files:
            try:
                out.append(self._keep_file(scope, mf, user_id, max_open))
            except IntegrityError:  # another request made the copy or claim meanwhile
                out.append(self._keep_file(scope, mf, user_id, max_open))
        self._forget_ready()
        # a download may have ended before the copy row pointed at it
        for copy in out:
            if copy.transfer_id is not None and copy.state == "pending":
                self._transfer_ended(self.queue.get(copy.transfer_id))
        kept = {mf.id for mf in files}
        return [c for c in self.copies() if c.media_file_id in kept]

    def _keep_file(self, scope: str, mf: MediaFile, user_id: int | None,
                   max_open: int | None) -> OfflineCopy:
        """Claim the copy of ``mf`` for ``user_id``, queuing its download unless a
        current copy is there or coming. The claim is made with the copy's row locked
        (:func:`~reelhouse.transfers.offline_claims.lock_copies`): a release of the
        copy's last claim meanwhile comes first (the copy is gone and made again) or
        waits and sees this claim. A download is queued between two such transactions
        (the queue writes in a session of its own, which SQLite's write lock, held,
        would make wait for ever)."""
        with self.sessions() as s:
            copy = self._locked(s, mf.id)
            if copy is not None and is_current(copy, mf):
                self._claim(s, copy, user_id)
                return copy
        rel, transfer = self._submit(mf, user_id, max_open)
        made = self._point(scope, mf, rel, transfer.id, user_id)
        assert made is not None  # (None only for a refresh)
        return made

    def _locked(self, s: Session, file_id: int) -> OfflineCopy | None:
        return next(iter(claims.lock_copies(s, OfflineCopy.media_file_id == file_id)), None)

    @staticmethod
    def _claim(s: Session, copy: OfflineCopy, user_id: int | None) -> None:
        if user_id is not None:
            claims.add_claim(s, copy.id, user_id)
        s.commit()  # (a claim made meanwhile by the same user: IntegrityError, tried again)

    def _submit(self, mf: MediaFile, user_id: int | None, max_open: int | None) -> tuple[str, Transfer]:
        """Queue a download of ``mf`` into the store (``user_id``'s transfer, within
        ``max_open``); (its path in the store, the transfer)."""
        rel = copy_place(self.store, mf.source_id, mf.id, mf.path)
        transfer = self.queue.submit("download", mf.source_id, mf.path, local_path=self.store / rel,
                                     priority=OFFLINE_PRIORITY, user_id=user_id, max_open=max_open)
        return rel, transfer

    def _point(self, scope: str, mf: MediaFile, rel: str, transfer_id: int, user_id: int | None,
               refresh: bool = False) -> OfflineCopy | None:
        """With the copy of ``mf`` locked: point it (made if there is none, unless
        ``refresh``) at download ``transfer_id`` into ``rel`` and give ``user_id`` a
        claim on it. A current copy there by then (another keep or refresh made it
        meanwhile) gets the claim instead, and the download is cancelled, as it is when
        a copy to ``refresh`` is gone (then None)."""
        try:
            with self.sessions() as s:
                copy = self._locked(s, mf.id)
                theirs = copy is not None and is_current(copy, mf)
                if copy is None and not refresh:
                    copy = OfflineCopy(media_file_id=mf.id)
                    s.add(copy)
                if copy is not None and not theirs:
                    copy.scope, copy.local_path, copy.size, copy.mtime = scope, rel, mf.size, mf.mtime
                    copy.state, copy.transfer_id, copy.error, copy.ready_at = "pending", transfer_id, None, None
                    s.flush()
                if copy is not None:
                    self._claim(s, copy, user_id)
        except IntegrityError:  # another request made the copy meanwhile: theirs stands
            self._cancel(transfer_id)
            raise
        if theirs or copy is None:
            self._cancel(transfer_id)
        return copy

    def _cancel(self, transfer_id: int) -> None:
        try:
            self.queue.cancel(transfer_id, "cancelled: the file is being kept offline already")
        except (Conflict, NotFound):
            pass

    def _check_room(self, files: list[MediaFile], user_id: int, max_open: int) -> None:
        """Conflict when queuing a download of each of ``files`` without a current copy
        would give ``user_id`` more than ``max_open`` open transfers (their own downloads
        and offline copies share the one cap: both hold places in the one queue)."""
        with self.sessions() as s:
            copies = {c.media_file_id: c for c in s.scalars(select(OfflineCopy).where(
                OfflineCopy.media_file_id.in_([mf.id for mf in files])))}
        new = sum(1 for mf in files if not is_current(copies.get(mf.id), mf))
        have = self.queue.open_count(user_id)
        if new and have + new > max_open:
            raise Conflict(f"keeping this offline queues {new} downloads and you have {have} transfers "
                           f"waiting or running; one user may have {max_open} at once: wait for some to "
                           "end, or cancel some")

    def release(self, scope: str, user_id: int) -> int:
        """Stop keeping a scope offline for ``user_id``: remove their claims on the
        copies of the scope's files (its files now, and copies made for it); a copy
        left with no claim is removed with its file and its pending download; one that
        others still claim stays, and a download of it that was ``user_id``'s is handed
        to them. Returns how many claims were removed (0: the user kept nothing there).
        Raises InvalidInput (bad scope), NotFound (no such movie/season)."""
        files = {mf.id for mf in self._files(scope)}
        with self.sessions() as s:
            ids = set(s.scalars(select(OfflineCopy.id).where(
                OfflineCopy.media_file_id.in_(files) | (OfflineCopy.scope == scope))))
        return self._let_go(user_id, ids)

    def release_claim(self, claim_id: int, user_id: int | None) -> None:
        """Remove one claim, as :meth:`release` does; ``user_id``: only if it is theirs
        (None: an admin, any claim). NotFound when there is no such claim (of theirs)."""
        with self.sessions() as s:
            claim = s.get(OfflineClaim, claim_id)
            if claim is None or (user_id is not None and claim.user_id != user_id):
                raise NotFound(f"no offline claim with id {claim_id}")
            owner, copy_id = claim.user_id, claim.copy_id
        self._let_go(owner, {copy_id})

    def remove_copy(self, copy_id: int) -> None:
        """Remove a copy whoever claims it (an admin's act): its claims, its file and
        its pending download go. NotFound when there is no such copy."""
        with self.sessions() as s:
            copy = next(iter(claims.lock_copies(s, OfflineCopy.id == copy_id)), None)
            if copy is None:
                raise NotFound(f"no offline copy with id {copy_id}")
            s.execute(delete(OfflineCopy).where(OfflineCopy.id == copy_id))
            s.commit()
        self._remove_files([copy])

    def user_removing(self, user_id: int) -> None:
        """A user is about to be deleted: their claims go (copies nobody else keeps are
        removed) and the downloads they queued for copies others keep are handed over
        (before the queue cancels the user's transfers)."""
        self._let_go(user_id, None)

    def user_disabled(self, user_id: int) -> None:
        """A user was disabled: their claims stay, but the downloads they queued for
        copies others keep are handed over (the queue then cancels the rest)."""
        with self.sessions() as s:
            ids = list(s.scalars(select(OfflineClaim.copy_id).where(OfflineClaim.user_id == user_id)))
            claims.hand_over(s, ids, user_id)
            s.commit()

    def leave_download(self, transfer_id: int, user_id: int) -> Transfer | None:
        """A user (not an admin) cancels transfer ``transfer_id`` of theirs: when it is
        the download of a pending copy, their claim on the copy goes instead, as
        :meth:`release` does (the download is cancelled with the copy if nobody else
        keeps the file, else it goes on as the next keeper's), and the transfer is
        returned as they last own it, cancelled — the same answer either way, so a
        user learns nothing of other users' claims (the cancel used to be a 409 saying
        that other users keep the file). None when it is no copy's download (cancel it
        as any other). Raises Conflict when it has ended already."""
        with self.sessions() as s:
            copy_id = s.scalar(select(OfflineCopy.id).where(OfflineCopy.transfer_id == transfer_id,
                                                            OfflineCopy.state == "pending"))
        if copy_id is None:
            return None
        before = self.queue.get(transfer_id)
        if before.state not in ("queued", "running"):
            raise Conflict(f"transfer {transfer_id} has ended already ({before.state})")
        self._let_go(user_id, {copy_id}, also_unclaimed=True)
        after = self.queue.get(transfer_id)
        if after.user_id == user_id and after.state in ("queued", "running"):
            return self.queue.cancel(transfer_id, _GONE)  # nobody keeps it (not even a claim of theirs)
        if after.user_id == user_id:
            return after
        before.state, before.error, before.finished_at = "cancelled", _GONE, utcnow()
        return before  # (a detached row: nothing is written)

    def _let_go(self, user_id: int, copy_ids: set[int] | None, also_unclaimed: bool = False) -> int:
        """Remove ``user_id``'s claims (on ``copy_ids`` only, if given): hand their
        downloads of copies others keep to them, remove the copies left unclaimed.
        ``also_unclaimed``: the downloads of ``copy_ids`` that are ``user_id``'s without
        a claim of theirs are handed over too. Returns how many claims were removed."""
        with self.sessions() as s:
            # the copies locked first: a keep of one of them waits, and is seen (its claim
            # keeps the copy) or finds it gone (and makes it again); never dropped with it
            mine = select(OfflineClaim.copy_id).where(OfflineClaim.user_id == user_id)
            claims.lock_copies(s, OfflineCopy.id.in_(mine if copy_ids is None else list(copy_ids)))
            held = claims.drop_claims(s, user_id, copy_ids)
            claims.hand_over(s, copy_ids if also_unclaimed and copy_ids is not None else held, user_id)
            gone = claims.unclaimed(s, held)
            if gone:
                s.execute(delete(OfflineCopy).where(OfflineCopy.id.in_([c.id for c in gone])))
            s.commit()
        self._remove_files(gone)
        return len(held)

    def _remove_files(self, copies: list[OfflineCopy]) -> None:
        """Cancel the pending downloads of removed copies and delete their files."""
        for copy in copies:
            if copy.state == "pending" and copy.transfer_id is not None:
                try:
                    self.queue.cancel(copy.transfer_id, _GONE)
                except (Conflict, NotFound):
                    pass
            try:
                full = self.local._resolve(copy.local_path)
                full.unlink(missing_ok=True)
            except (OSError, InvalidInput):
                pass
        self._forget_ready()

    def source_removed(self, source_id: int) -> None:
        """A source was removed (its files' copies rows went with them): delete the
        copies' files, ``<store>/offline/<source id>/``, which nothing would ever list or
        serve again (a later source given the same id would find them in its way)."""
        folder = self.store / "offline" / str(source_id)
        shutil.rmtree(folder, ignore_errors=True)
        self._forget_ready()

    def refresh_stale(self) -> int:
        """Download again the copies whose source file changed (size or mtime) since
        they were made, e.g. after a sync found it updated; returns how many were
        queued again (no one's claim changes; the downloads are no user's). A copy of an
        older version is never served meanwhile."""
        with self.sessions() as s:
            stale = list(s.execute(select(OfflineCopy.scope, MediaFile).join(MediaFile)
                                   .where(MediaFile.missing_since.is_(None),
                                          OfflineCopy.state != "pending",
                                          (OfflineCopy.size != MediaFile.size)
                                          | (OfflineCopy.mtime != MediaFile.mtime))))
        queued = []
        for scope, mf in stale:
            try:
                rel, transfer = self._submit(mf, None, None)
            except (NotFound, InvalidInput) as exc:
                log.warning("offline copy of file %s not refreshed: %s", mf.id, exc)
                continue
            copy = self._point(scope, mf, rel, transfer.id, None, refresh=True)
            if copy is not None and copy.transfer_id == transfer.id:
                queued.append(copy)
        self._forget_ready()
        for copy in queued:
            if copy.transfer_id is not None:
                self._transfer_ended(self.queue.get(copy.transfer_id))
        return len(queued)

    def copies(self) -> list[OfflineCopy]:
        """Every copy, oldest first (whoever claims it: :meth:`mine` and
        :meth:`every_copy` say who)."""
        with self.sessions() as s:
            return list(s.scalars(select(OfflineCopy).order_by(OfflineCopy.id)))

    def mine(self, user_id: int, file_ids: Collection[int] | None = None) -> list[ClaimView]:
        """``user_id``'s claims with their copies (on ``file_ids`` only, if given)."""
        with self.sessions() as s:
            return claims.claims_of(s, user_id, file_ids)

    def every_copy(self) -> list[CopyClaims]:
        """Every copy with who claims it (an admin's view)."""
        with self.sessions() as s:
            return claims.every_copy(s)

    def states(self, file_ids: list[int], user_id: int) -> dict[int, str]:
        """``{media_file_id: "pending" | "ready" | "failed"}`` for the given files that
        ``user_id`` keeps offline (another user's copy is not theirs to see)."""
        if not file_ids:
            return {}
        return {v.copy.media_file_id: v.copy.state for v in self.mine(user_id, file_ids)}

    def _files(self, scope: str) -> list[MediaFile]:
        """The scope's files, missing ones too (:func:`.offline_scope.scope_files`)."""
        with self.sessions() as s:
            return scope_files(s, scope)

    # -- following downloads -----------------------------------------------------------
    def _transfer_ended(self, transfer: Transfer) -> None:
        if transfer.state not in ("done", "failed", "cancelled"):
            return
        with self.sessions() as s:
            if s.scalar(select(OfflineCopy.id).where(OfflineCopy.transfer_id == transfer.id,
                                                     OfflineCopy.state == "pending")) is None:
                return  # not a copy's download (most transfers): nothing locked
        with self.sessions() as s:  # locked: not removed between this read and the update
            copy = next(iter(claims.lock_copies(s, OfflineCopy.transfer_id == transfer.id)), None)
            if copy is None or copy.state != "pending":
                return
            if transfer.state == "done":
                copy.state, copy.ready_at, copy.error = "ready", utcnow(), None
            elif transfer.state in ("failed", "cancelled"):
                copy.state, copy.error = "failed", transfer.error
            else:
                return
            s.commit()
        self._forget_ready()

