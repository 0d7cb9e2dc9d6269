"""Jellyfin item ids: 32 lowercase hex digits, stable and reversible to (kind, row id).

Jellyfin's own ids are GUIDs written as 32 hex digits without dashes; Kotlin clients
(Findroid, the Android TV app) parse them as UUIDs, so ours have the same form:
``KKKKKKKK`` (kind code) + ``7265656c`` ("reel", a namespace marker) + 16 hex digits of
the row id. A well-formed id without the marker or with an unknown kind is simply not
ours (NotFound); anything that is not 32 hex digits (dashes allowed, as in a UUID) is
InvalidInput.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal

from reelhouse.db.limits import INT_MAX
from reelhouse.errors import InvalidInput, NotFound

__all__ = ["Kind", "Ref", "decode", "encode", "genre_id", "image_key", "image_tag", "server_id", "try_decode"]

Kind = Literal["movie", "show", "season", "episode", "file", "view", "user", "image", "genre", "party", "syncgroup",
               "year"]

_CODES: dict[Kind, int] = {"movie": 1, "show": 2, "season": 3, "episode": 4, "file": 5,
                           "view": 6, "user": 7, "image": 8, "genre": 9, "party": 10, "syncgroup": 11,
                           "year": 12}
_KINDS = {v: k for k, v in _CODES.items()}
_MARK = "7265656c"
_HEX32 = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class Ref:
    """What an id points at: a kind and a row id (views: 1 films, 2 shows)."""

    kind: Kind
    id: int


def encode(kind: Kind, row_id: int) -> str:
    """The id of row ``row_id`` of ``kind`` (row ids are 0 .. ``INT_MAX``, 2**31-1)."""
    return f"{_CODES[kind]:08x}{_MARK}{row_id:016x}"


def _normal(text: str) -> str:
    value = text.strip().replace("-", "").lower()
    if not _HEX32.fullmatch(value):
        raise InvalidInput(f"malformed id {text[:64]!r}: expected 32 hex digits")
    return value


def decode(text: str, *kinds: Kind) -> Ref:
    """The row an id points at; ``kinds`` limits what is accepted (none: any).

    Raises InvalidInput for a malformed id, NotFound for a well-formed id that names no
    row kind of ours (or one not in ``kinds``), or a row id past what the database
    stores (:mod:`reelhouse.db.limits`: 32 bits on PostgreSQL)."""
    value = _normal(text)
    code = int(value[:8], 16)
    kind = _KINDS.get(code)
    row = int(value[16:], 16)
    if value[8:16] != _MARK or kind is None or row > INT_MAX or (kinds and kind not in kinds):
        raise NotFound(f"no item with id {value}")
    return Ref(kind, row)


def try_decode(text: str | None, *kinds: Kind) -> Ref | None:
    """Like :func:`decode` but None for a missing, malformed or foreign id."""
    if not text:
        return None
    try:
        return decode(text, *kinds)
    except (InvalidInput, NotFound):
        return None


def genre_id(name: str) -> str:
    """The id of a genre (genres are names in the titles' metadata, not rows): kind
    ``genre`` with a 31-bit BLAKE2b hash of the name in lower case as its row id, so
    ``Drama`` and ``drama`` are one genre. It is read back by hashing the names a user
    can see (:mod:`.genres`); two names of one library sharing a hash is a 1 in 2**31
    chance per pair."""
    digest = hashlib.blake2b(name.strip().lower().encode(), digest_size=4, person=b"genre").digest()
    return encode("genre", int.from_bytes(digest, "big") & INT_MAX)


def server_id(secret: bytes) -> str:
    """A stable server id (32 hex) derived from the server's secret."""
    return hashlib.blake2b(secret, digest_size=16, person=b"jellyfin-server").hexdigest()


def image_key(secret: bytes) -> bytes:
    """The key of the image tags, derived from the server's ``jellyfin`` secret."""
    return hmac.new(secret, b"reelhouse jellyfin image tags", hashlib.sha256).digest()


def image_tag(key: bytes, image_id: int) -> str:
    """An image's tag (``ImageTags``, the ``tag`` of an image URL): 32 hex digits of
    HMAC-SHA256(key, image id). It changes with the image, as a cache key should, and
    cannot be guessed, so an image URL with its tag works without a token (``<img>``
    cannot send headers, as in Jellyfin) while ids alone, which are guessable, do not."""
    return hmac.new(key, b"image:%d" % image_id, hashlib.sha256).hexdigest()[:32]
