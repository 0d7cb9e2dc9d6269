"""A response cache for the read-mostly library pages (issue 14: API CPU per request).

``GET /api/library/items`` (not with ``unwatched``), ``/movies``, ``/shows``,
``/shows/{id}`` and ``/media-files`` give every user who sees all sources the same
bytes for the same URL, until the library changes. :class:`PageCacheMiddleware` keeps
those answers (key: path and query string) and replays them on the event loop: no
routing, no dependencies, no thread-pool hop, no SQL, no JSON (a few µs instead of
1-5 ms of CPU).

Correctness:

- **Who**: only a request whose token this process resolved within the identity
  window (:meth:`~reelhouse.auth.identity.Authenticator.identify_cached`, which every
  logout, password change, user or grant change empties at once, on every node with
  Redis) or, with ``fast_reads``, resolves for this request (the token read from the
  database in the read lane, as the routes' dependency would; a token that fails there
  goes the normal way and gets its 401) and whose user sees every source (an admin, or no ``restrict_sources``) is
  answered from or stored in the cache. A user with source grants always goes the
  normal way, so the hidden-source rule never depends on the cache; a token that is
  no longer trusted goes the normal way and gets its 401.
- **Library changes in this process**: every write statement on a library table
  (:data:`LIBRARY_TABLES`, seen by the engine's ``after_cursor_execute`` event) and
  the commit or rollback that ends it bump :attr:`PageCache.version`; an entry of an
  older version is never served, and an answer computed while the version moved is
  not stored.
- **Changes in other processes** (``reelhouse worker``, other nodes, the CLI): an
  entry lives :data:`PAGE_CACHE_SECONDS` at most; a revocation message from another
  node (auth/revocations.py) also empties it.
- Progress-dependent answers (``unwatched``) are never cached by URL. Continue
  watching is kept per user (:meth:`PageCache.resume_get`), for a user who sees every
  source, valid while neither the library nor any watch progress changed through this
  process's engine (:data:`PROGRESS_TABLES`: a progress write bumps
  :attr:`PageCache.progress_version` only, the pages stay) and for
  :data:`PAGE_CACHE_SECONDS` at most. Only in a single-node set-up
  (:attr:`PageCache.user_state`, off with ``redis_url``): there every progress write
  goes through this engine (the API and the Jellyfin API; no CLI command or job writes
  progress), so a watched mark or a resume point is never answered stale.

**One computation per URL at a time.** A cacheable request that arrives while the same
URL is being computed for another all-sources user waits for that answer and gets it
if it is kept (same version, a 200 without a cookie: what the cache would give it a
moment later), instead of computing it again; if it is not kept, the waiter computes
its own. After a library change, twenty clients opening the same page cost one page's
SQL, not twenty (issue 14: CPU per request).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import OrderedDict
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelhouse.api import fast_reads
from reelhouse.api.fast_reads import FAST_PATHS
from reelhouse.api.session_cookie import SESSION_COOKIE
from reelhouse.auth.access import sees_all

__all__ = ["LIBRARY_TABLES", "PAGE_CACHE_SECONDS", "PROGRESS_TABLES", "PageCache", "PageCacheMiddleware",
           "touches_library"]

#: Seconds an answer is kept at most (the bound on how late a library change made by
#: another process is seen).
PAGE_CACHE_SECONDS = 5.0
#: Entries kept (least recently used dropped first) and the largest body kept (bytes).
MAX_ENTRIES = 1024
MAX_BODY = 512 * 1024
#: Tables whose rows make up the cached pages: a write to any of them bumps the version.
LIBRARY_TABLES = frozenset({"movies", "shows", "seasons", "episodes", "media_files", "media_streams",
                            "sources", "images", "users", "user_sources"})
#: Tables whose rows make up a user's own state (continue watching).
PROGRESS_TABLES = frozenset({"watch_progress"})
_CACHED_PATH = re.compile(r"^/api/library/(?:items|movies|shows|shows/\d+|media-files)$")
_WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
_READ_ONLY = ("SELECT", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SHOW", "SET ",
              "EXPLAIN")


def touches_library(statement: str, tables: frozenset[str] = LIBRARY_TABLES) -> bool:
    """Whether SQL ``statement`` may change one of ``tables`` (default: the library's;
    unknown kinds: yes)."""
    head = statement.lstrip()[:10].upper()
    if head.startswith(_READ_ONLY):
        return False
    if head.startswith("WITH"):
        return bool(re.search(r"\b(INSERT|UPDATE|DELETE)\b", statement, re.IGNORECASE))
    m = _WRITE.match(statement)
    return m is None or m.group(1).lower() in tables


class PageCache:
    """Answers by URL, valid for one library version and :data:`PAGE_CACHE_SECONDS`."""

    def __init__(self, seconds: float = PAGE_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self.version = 0
        self._entries: OrderedDict[str, tuple[int, float, int, list[tuple[bytes, bytes]], bytes]] = OrderedDict()
        self._kinds: dict[str, tuple[bool, bool]] = {}  # statement -> (touches library, progress)
        self._lock = threading.Lock()
        #: watch progress changed (any user's): no continue-watching answer of before is served
        self.progress_version = 0
        #: keep continue-watching answers (off when other nodes may write progress)
        self.user_state = True
        self._resume: dict[int, tuple[int, int, float, bytes]] = {}

    def bump(self) -> None:
        """The library changed: no entry of before is served again."""
        with self._lock:
            self.version += 1
            self.progress_version += 1
            self._entries.clear()
            self._resume.clear()

    def bump_progress(self) -> None:
        """Someone's watch progress changed: no continue-watching answer of before is served."""
        with self._lock:
            self.progress_version += 1
            self._resume.clear()

    def versions(self) -> tuple[int, int]:
        """(library version, progress version) now: pass to :meth:`resume_put`."""
        return self.version, self.progress_version

    def resume_get(self, user_id: int) -> bytes | None:
        """The continue-watching body kept for ``user_id``, if still valid."""
        hit = self._resume.get(user_id)
        if (not self.user_state or hit is None or (hit[0], hit[1]) != (self.version, self.progress_version)
                or time.monotonic() - hit[2] >= self.seconds):
            return None
        return hit[3]

    def resume_put(self, user_id: int, versions: tuple[int, int], seen: float, body: bytes) -> None:
        """Keep ``user_id``'s continue-watching ``body``, computed from data read after
        ``seen`` at ``versions``; not kept when either moved meanwhile."""
        with self._lock:
            if not self.user_state or versions != (self.version, self.progress_version) or len(body) > MAX_BODY:
                return
            if len(self._resume) >= MAX_ENTRIES:
                self._resume.clear()
            self._resume[user_id] = (versions[0], versions[1], seen, body)

    def watch(self, engine: Engine) -> None:
        """Bump on every library write through ``engine`` and on the end of its transaction."""

        def after_execute(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            kind = self._kinds.get(statement)
            if kind is None:
                library = touches_library(statement)
                kind = (library, library or touches_library(statement, PROGRESS_TABLES))
                if len(self._kinds) < 4096:
                    self._kinds[statement] = kind
            if kind[0]:
                conn.info["page_cache_dirty"] = True
                self.bump()
            elif kind[1]:
                conn.info["page_cache_progress"] = True
                self.bump_progress()

        def end(conn: Any) -> None:
            progress = conn.info.pop("page_cache_progress", False)
            if conn.info.pop("page_cache_dirty", False):
                self.bump()
            elif progress:
                self.bump_progress()

        event.listen(engine, "after_cursor_execute", after_execute)
        event.listen(engine, "commit", end)
        event.listen(engine, "rollback", end)

    def get(self, key: str) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        hit = self._entries.get(key)
        if hit is None or hit[0] != self.version or time.monotonic() - hit[1] >= self.seconds:
            return None
        return hit[2], hit[3], hit[4]

    def put(self, key: str, version: int, seen: float, status: int, headers: list[tuple[bytes, bytes]],
            body: bytes) -> bool:
        """Keep an answer computed from data of ``version`` read after ``seen``; False
        when it is not kept (the library changed meanwhile, or the body is too big)."""
        with self._lock:
            if version != self.version or len(body) > MAX_BODY:
                return False
            self._entries[key] = (version, seen, status, headers, body)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
            return True

    def __len__(self) -> int:
        return len(self._entries)


def _token(scope: Scope) -> str | None:
    cookie = b""
    for name, value in scope["headers"]:
        if name == b"authorization":
            v = value.decode("latin-1")
            if v[:7].lower() == "bearer ":
                return v[7:].strip() or None
        elif name == b"cookie":
            cookie = value
    if cookie:
        for part in cookie.decode("latin-1").split(";"):
            k, _, v = part.strip().partition("=")
            if k == SESSION_COOKIE:
                return v or None
    return None


def _sees_all(identity: Any) -> bool:
    user = getattr(identity, "user", None)
    return user is not None and sees_all(user)


async def _resolve(scope: Scope, core: Any, token: str) -> Any:
    """The identity of ``token`` read from the database in the app's read lane (what
    the routes' dependency would read in anyio's pool), or None when it fails for any
    reason: the app then answers as it always has (a 401, a 503)."""
    lane = getattr(scope["app"].state, "read_lane", None)
    if lane is None:
        return None
    try:
        return await lane.run(core.auth.identify, token)
    except Exception:  # AuthenticationFailed, a database error: the FastAPI way answers it
        return None


_Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class PageCacheMiddleware:
    """Serve and keep the cacheable library pages (module docstring)."""

    def __init__(self, app: ASGIApp, cache: PageCache, fast_reads: bool = False) -> None:
        """``fast_reads``: a miss of a plain request is answered by
        :func:`reelhouse.api.fast_reads.answer` (the app's routes, without FastAPI's
        routing and dependencies) when it can."""
        self.app = app
        self.cache = cache
        self.fast_reads = fast_reads
        #: URL -> the answer being computed for an all-sources user (None: not kept)
        self._computing: dict[str, asyncio.Future[_Answer | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" and scope["method"] == "GET" else ""
        if not ((self.fast_reads and FAST_PATHS.match(path)) or _CACHED_PATH.match(path)):
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        token = _token(scope)
        core = scope["app"].state.core
        identity = core.auth.identify_cached(token) if token else None
        if identity is None and token and self.fast_reads:
            identity = await _resolve(scope, core, token)
        if identity is not None:  # what the routes' dependency would find (api/deps.py)
            scope.setdefault("state", {})["identity"] = identity
        if b"unwatched" in query or not _CACHED_PATH.match(path):
            await self._run(scope, receive, send, identity)
            return
        key = path + "?" + query.decode("latin-1")
        shared = identity is not None and _sees_all(identity)
        if shared:
            hit = self.cache.get(key)
            if hit is None and key in self._computing:
                hit = await asyncio.shield(self._computing[key])
            if hit is not None:
                status, headers, body = hit
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        future: asyncio.Future[_Answer | None] | None = None
        if shared and key not in self._computing:
            future = self._computing[key] = asyncio.get_running_loop().create_future()
        answer: _Answer | None = None
        try:
            answer = await self._compute(key, scope, receive, send, identity)
        finally:
            if future is not None:
                del self._computing[key]
                future.set_result(answer)

    async def _run(self, scope: Scope, receive: Receive, send: Send, identity: Any) -> None:
        """Answer the request the fast way when it can (``identity``: resolved within
        the window, else None), else through the app."""
        if self.fast_reads and identity is not None:
            response = await fast_reads.answer(scope, identity.user)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _compute(self, key: str, scope: Scope, receive: Receive, send: Send, identity: Any,
                       ) -> _Answer | None:
        """Run the app for the request; the answer when it was kept in the cache."""
        version, seen = self.cache.version, time.monotonic()
        start: Message | None = None
        parts: list[bytes] = []
        keep = True

        async def capture(message: Message) -> None:
            nonlocal start, keep
            if message["type"] == "http.response.start":
                start = message
                # a per-user header (a cookie) must never be replayed to another user
                keep = message["status"] == 200 and not any(
                    name.lower() == b"set-cookie" for name, _ in message.get("headers", []))
            elif message["type"] == "http.response.body" and keep:
                parts.append(message.get("body", b""))
            await send(message)

        await self._run(scope, receive, capture, identity)
        state = scope.get("state") or {}
        if keep and start is not None and _sees_all(state.get("identity")):
            headers, body = list(start.get("headers", [])), b"".join(parts)
            if self.cache.put(key, version, seen, 200, headers, body):
                return 200, headers, body
        return None
