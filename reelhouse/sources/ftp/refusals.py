"""A server refusing every login of a pool (421 "too many connections") while the pool
holds no connection to wait for: its connection limit is taken by someone else (a
seedbox's limit shared with the user's FileZilla or rclone), and one of those may end
in a moment. No I/O, no lock of its own: the pool's lock guards it (:mod:`.granting`).

The pool tries again after a backoff (0.25 s, doubling, at most 2 s: within the 5 s a
stream waits that is four or five tries), one login at a time for all its callers
(:meth:`Refusals.blocks_new`): a thundering herd of waiting streams would only take
more of the server's slots as they free. A caller waits at most :data:`RETRY_FOR`
seconds from the first refusal it saw (a health check :data:`HEALTH_RETRY_FOR`), then
gets :class:`~reelhouse.errors.SourceBusy` quoting the server's reply. RFC 959 §4.2:
421 "Service not available, closing control connection" is a transient refusal
(4yz: "the command was not accepted ... the error condition is temporary").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from reelhouse.errors import SourceBusy

__all__ = ["BACKOFF_FIRST", "BACKOFF_MOST", "HEALTH_RETRY_FOR", "RETRY_FOR", "Refusals"]

#: Seconds a stream (or any waiting caller) waits for a refusing server to take a login.
RETRY_FOR: Final = 5.0
#: Seconds a health check waits for it (a health page answers quickly).
HEALTH_RETRY_FOR: Final = 1.0
#: The first backoff after a refusal, seconds; it doubles with each refusal in a row.
BACKOFF_FIRST: Final = 0.25
#: The longest backoff, seconds.
BACKOFF_MOST: Final = 2.0


@dataclass
class Refusals:
    """The refusals in a row of one pool's logins with no connection of its own.

    ``tries``: refusals in a row (0: the server takes logins); ``until``: monotonic
    time before which no new login is tried; ``trying``: the ``seq`` of the caller whose
    login is the one try under way (-1: none); ``reply``: the server's last refusal.
    How long each caller waits is its own (``Ask.refusal_wait``, :mod:`.granting`)."""

    tries: int = 0
    until: float = 0.0
    trying: int = -1
    reply: str = ""

    @property
    def active(self) -> bool:
        """Whether the server refused the pool's last login with none of ours open."""
        return self.tries > 0

    def blocks_new(self, now: float) -> bool:
        """Whether a new login must wait: one is being tried, or the backoff runs."""
        return self.tries > 0 and (self.trying >= 0 or now < self.until)

    def begin(self, seq: int) -> None:
        """The caller ``seq`` is granted the one login tried after the backoff."""
        if self.tries > 0:
            self.trying = seq

    def refused(self, reply: str, now: float, seq: int) -> None:
        """The login of the caller ``seq`` was refused with no connection of ours open:
        back off. Logins that began before the first refusal (a pool filling up) and
        are refused after it count as that one refusal."""
        self.reply = reply
        if self.tries and self.trying != seq:
            return
        self.tries += 1
        self.trying = -1
        self.until = now + min(BACKOFF_MOST, BACKOFF_FIRST * 2 ** (self.tries - 1))

    def ended(self, seq: int) -> None:
        """The caller ``seq``'s login ended otherwise (another error, cancelled): the
        next caller may try."""
        if self.trying == seq:
            self.trying = -1

    def accepted(self) -> None:
        """A login went through: the server takes them again."""
        self.tries, self.trying, self.until, self.reply = 0, -1, 0.0, ""

    def wait(self, now: float) -> float | None:
        """Seconds until a waiter looks again: the backoff's end, or while a login is
        tried :data:`BACKOFF_FIRST` (its refusal wakes nobody); None: no refusal."""
        if self.tries == 0:
            return None
        return BACKOFF_FIRST if self.trying >= 0 else max(0.0, self.until - now)

    def error(self, host: str) -> SourceBusy:
        """The error a caller gets once its wait is over: what the server said."""
        return SourceBusy(
            f"the FTP server {host} refuses more connections ({self.reply}); tried {self.tries} "
            f"time{'s' if self.tries != 1 else ''}. Its connection limit may be taken by other programs "
            "using the same account (an FTP client, rclone, another reelhouse)")
