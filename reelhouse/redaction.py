"""Secrets out of error texts and log lines.

Two tools. :class:`Redactor` replaces the secrets this server knows (the stored
passwords of its sources, the TMDB key, the passwords in its database and Redis URLs)
wherever they appear, in any case: an FTP server may say a wrong password back in its
``530`` reply ("530 Login incorrect: reel/hunter2"), and that reply becomes the error of
a scan, a transfer or a sync, which admins read in ``GET /api/jobs`` and the job
system's logs. The job system, the transfer queue, syncs and scans pass every error
text through it before storing it (jobs/system.py, transfers/); :meth:`Redactor.install`
puts it on the log records of reelhouse's own loggers too (every ``reelhouse.*`` logger,
those made later included), and the CLI on the error lines it prints (cli/common.py).

The second, for the libraries reelhouse uses:

httpx logs every request at INFO with its whole URL (``HTTP Request: GET
https://api.themoviedb.org/3/search/movie?query=…&api_key=KEY "HTTP/1.1 200 OK"``), and
TMDB's v3 API takes its key only as that query parameter, so a deployment logging at
INFO would write the TMDB key to its log on every request (and uvicorn's access log
the playback tokens of ``?token=`` URLs). :func:`install` puts a
filter on those libraries' loggers that replaces the value of every credential-looking
query parameter (``api_key``, ``token``, ``password``, …: :data:`SECRET_PARAMS`) and the
password of a ``scheme://user:password@host`` URL with ``***`` before any handler sees
the record. reelhouse's own messages never hold a secret in the first place (DESIGN.md,
"FTP passwords never leave the server").
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["LIBRARY_LOGGERS", "SECRET_PARAMS", "RedactSecrets", "Redactor", "install", "redact"]

#: Query parameters whose value is a credential (compared case-insensitively).
SECRET_PARAMS = ("api_key", "apikey", "access_token", "token", "password", "passwd", "secret", "sig",
                 "signature", "key")
_PARAM = re.compile(rf"(?i)([?&;](?:{'|'.join(SECRET_PARAMS)})=)[^&;#\s\"'<>]+")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@\"'<>]*:)[^/\s@\"'<>]+@")
#: Loggers of libraries that write URLs: httpx (INFO per request), httpcore (DEBUG) and
#: uvicorn's access log (a playback URL's ``?token=``, a Jellyfin client's ``?api_key=``).
LIBRARY_LOGGERS = ("httpx", "httpcore", "uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    """``text`` with the values of credential query parameters and URL passwords
    replaced by ``***`` ("…?q=x&api_key=abc" → "…?q=x&api_key=***")."""
    if "=" in text:
        text = _PARAM.sub(r"\1***", text)
    if "@" in text:
        text = _USERINFO.sub(r"\1***@", text)
    return text


class RedactSecrets(logging.Filter):
    """A logging filter that rewrites a record's message and arguments (strings and
    numbers one by one; other objects merged into the message first, as their text may
    hold a secret) and its exception text through ``scrub`` (:func:`redact` by default)."""

    def __init__(self, scrub: Callable[[str], str] = redact) -> None:
        super().__init__()
        self.scrub = scrub

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and all(isinstance(a, str | int | float | None) for a in args):
            # each argument on its own, the tuple kept: formatters read it (uvicorn's
            # access log unpacks client, method, path, version and status from it)
            record.args = tuple(self.scrub(a) if isinstance(a, str) else a for a in args)
            if isinstance(record.msg, str):
                record.msg = self.scrub(record.msg)
        else:
            message = record.getMessage()
            safe = self.scrub(message)
            if safe != message:
                record.msg, record.args = safe, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True


_FILTER = RedactSecrets()


class Redactor:
    """``redactor(text)``: ``text`` without any of the secrets ``secrets()`` names
    (each replaced by ``***``, matched in any case; values shorter than 4 characters
    are left alone, they would mangle ordinary words) and through :func:`redact`.

    ``secrets()`` is asked again when its last answer is older than ``ttl`` seconds (a
    source's password may change at any time); a failing ``secrets()`` (the database
    gone) keeps the last answer, and so does a call made while it runs (a log line
    written by ``secrets()`` itself)."""

    def __init__(self, secrets: Callable[[], Iterable[str | None]], ttl: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.secrets = secrets
        self.ttl = ttl
        self.clock = clock
        self._pattern: re.Pattern[str] | None = None
        self._at = -math.inf
        self._busy = threading.local()
        self._filter = RedactSecrets(self)

    def forget(self) -> None:
        """Ask ``secrets()`` again on the next call (a password was just changed)."""
        self._at = -math.inf

    def _known(self) -> re.Pattern[str] | None:
        if self.clock() - self._at < self.ttl or getattr(self._busy, "on", False):
            return self._pattern
        self._busy.on = True
        try:
            known = sorted({s for s in self.secrets() if s and len(s) >= 4}, key=len, reverse=True)
        except Exception:  # never fail a log line or an error report
            return self._pattern
        finally:
            self._busy.on = False
        self._pattern = re.compile("|".join(re.escape(s) for s in known), re.IGNORECASE) if known else None
        self._at = self.clock()
        return self._pattern

    def __call__(self, text: str) -> str:
        if not text:
            return text
        pattern = self._known()
        if pattern is not None:
            text = pattern.sub("***", text)
        return redact(text)

    def install(self, prefix: str = "reelhouse") -> None:
        """Redact every record of the logger ``prefix`` and of all its children, those
        that exist now and those made later (a module imported after the Core started).

        A filter on a logger sees only the records made at that logger, never its
        children's (propagation hands a record to the parents' *handlers*, skipping
        the parents' filters), and handlers come and go (uvicorn's, a test's). So the
        redaction is done where every record is born: the log record factory
        (:func:`logging.setLogRecordFactory`) runs this redactor's filter on each record
        whose logger is ``prefix`` or ``prefix.…``, before any filter or handler sees it."""
        with _FACTORY_LOCK:
            if (prefix, self._filter) not in _ACTIVE:
                _ACTIVE.append((prefix, self._filter))
            current = logging.getLogRecordFactory()
            if current is not _make_record:  # the first time, or another replaced ours
                _BASE[:] = [current]
                logging.setLogRecordFactory(_make_record)

    def uninstall(self) -> None:
        """Take the redaction off again (a closed Core's secrets are no longer asked for)."""
        with _FACTORY_LOCK:
            _ACTIVE[:] = [(p, f) for p, f in _ACTIVE if f is not self._filter]


#: The (logger name prefix, filter) of each installed Redactor (several Cores may run
#: in one process: tests, a CLI command beside a server).
_ACTIVE: list[tuple[str, RedactSecrets]] = []
#: The record factory ours calls: the one in place when ours was put in.
_BASE: list[Callable[..., logging.LogRecord]] = []
_FACTORY_LOCK = threading.Lock()
_IN_FACTORY = threading.local()


def _make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    if getattr(_IN_FACTORY, "on", False) or not _BASE:  # a factory that wraps ours: no loop
        return logging.LogRecord(*args, **kwargs)
    _IN_FACTORY.on = True
    try:
        record = _BASE[0](*args, **kwargs)
    finally:
        _IN_FACTORY.on = False
    name = record.name
    for prefix, filt in list(_ACTIVE):
        if name == prefix or name.startswith(prefix + "."):
            try:
                filt.filter(record)
            except Exception:  # never lose a log line to its redaction
                record.msg, record.args = "(log message withheld: its redaction failed)", None
    return record


def install(names: tuple[str, ...] = LIBRARY_LOGGERS) -> None:
    """Put the filter on the loggers ``names`` (once each; safe to call again)."""
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
