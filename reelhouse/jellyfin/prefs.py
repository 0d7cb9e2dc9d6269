"""Display preferences the Jellyfin apps keep on the server (``DisplayPreferencesDto``):
per user, client name and preferences id (jellyfin-web saves a library's sort order
and view type under the library's id, its home screen under ``usersettings``).

What a client saves is read back as it was saved, field by field; fields it never set
have Jellyfin's defaults. Values are checked the way ASP.NET binds them: a wrong type
or an unknown ``ScrollDirection``/``SortOrder`` is InvalidInput (400); unknown fields
are ignored; names are case-insensitive.

Bounded per user: a save is at most :data:`MAX_BYTES` of JSON, and a user keeps at most
:data:`MAX_ROWS` saves (client and id pairs); a new one past that drops the user's
least recently saved (read back as Jellyfin's defaults). Without the bound one user
filled the database: every new id or client name was a row of up to the body limit
(256 KiB), 60 requests 15 MB.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reelhouse.core import Core
from reelhouse.db.models import DisplayPrefs
from reelhouse.errors import InvalidInput

__all__ = ["MAX_BYTES", "MAX_CUSTOM", "MAX_ROWS", "defaults", "load", "save"]

#: At most this many ``CustomPrefs`` entries, each key ≤ 256 and value ≤ 8,192 characters.
MAX_CUSTOM = 200
#: The largest save, bytes of its JSON (jellyfin-web's home screen settings: ~1 KiB).
MAX_BYTES = 64 * 1024
#: Saves one user keeps (a few per app: ``usersettings``, ``home``, each library's id).
MAX_ROWS = 200
_TEXT = {"viewtype": ("ViewType", 64), "sortby": ("SortBy", 512), "indexby": ("IndexBy", 64)}
_FLAGS = {"rememberindexing": "RememberIndexing", "showbackdrop": "ShowBackdrop",
          "remembersorting": "RememberSorting", "showsidebar": "ShowSidebar"}
_NUMBERS = {"primaryimageheight": "PrimaryImageHeight", "primaryimagewidth": "PrimaryImageWidth"}
_ENUMS = {"scrolldirection": ("ScrollDirection", ("Horizontal", "Vertical")),
          "sortorder": ("SortOrder", ("Ascending", "Descending"))}


def defaults(pref_id: str, client: str) -> dict[str, Any]:
    """Jellyfin's defaults (``DisplayPreferencesDto`` of a preferences id never saved)."""
    return {"Id": pref_id, "SortBy": "SortName", "RememberIndexing": False, "PrimaryImageHeight": 250,
            "PrimaryImageWidth": 250, "CustomPrefs": {}, "ScrollDirection": "Horizontal",
            "ShowBackdrop": True, "RememberSorting": False, "SortOrder": "Ascending",
            "ShowSidebar": False, "Client": client}


def _clean(body: Any) -> dict[str, Any]:
    """The savable fields of a ``DisplayPreferencesDto`` body (see the module doc)."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a DisplayPreferencesDto object")
    out: dict[str, Any] = {}
    for key, value in body.items():
        low = str(key).lower()
        if low in _TEXT:
            name, limit = _TEXT[low]
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                raise InvalidInput(f"{name} must be text of at most {limit} characters")
            out[name] = value
        elif low in _FLAGS:
            if not isinstance(value, bool):
                raise InvalidInput(f"{_FLAGS[low]} must be true or false")
            out[_FLAGS[low]] = value
        elif low in _NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
                raise InvalidInput(f"{_NUMBERS[low]} must be a whole number of pixels (0 to 100000)")
            out[_NUMBERS[low]] = value
        elif low in _ENUMS:
            name, allowed = _ENUMS[low]
            found = next((a for a in allowed if isinstance(value, str) and value.lower() == a.lower()), None)
            if found is None:
                raise InvalidInput(f"{name} must be one of {', '.join(allowed)}")
            out[name] = found
        elif low == "customprefs" and value is not None:
            out["CustomPrefs"] = _custom(value)
    return out


def _custom(value: Any) -> dict[str, str | None]:
    if not isinstance(value, dict) or len(value) > MAX_CUSTOM:
        raise InvalidInput(f"CustomPrefs must be an object of at most {MAX_CUSTOM} entries")
    out: dict[str, str | None] = {}
    for k, v in value.items():
        if len(k) > 256 or (v is not None and (not isinstance(v, str) or len(v) > 8192)):
            raise InvalidInput("CustomPrefs maps names (≤ 256 characters) to text (≤ 8192) or null")
        out[k] = v
    return out


def load(core: Core, user_id: int, client: str, pref_id: str) -> dict[str, Any]:
    """The ``DisplayPreferencesDto`` the user's ``client`` saved under ``pref_id``."""
    out = defaults(pref_id, client)
    with core.sessions() as s:
        row = s.scalar(select(DisplayPrefs).where(DisplayPrefs.user_id == user_id,
                                                  DisplayPrefs.client == client,
                                                  DisplayPrefs.pref_id == pref_id))
        if row is not None:
            out.update(row.data)
    return out


def save(core: Core, user_id: int, client: str, pref_id: str, body: Any) -> None:
    """Store ``body`` (a ``DisplayPreferencesDto``) as what the user's ``client`` keeps
    under ``pref_id``, replacing what was there; raises InvalidInput (see the module doc:
    also for a save over MAX_BYTES). A new save past the user's MAX_ROWS drops their
    least recently saved ones."""
    data = _clean(body)
    if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_BYTES:
        raise InvalidInput(f"display preferences are at most {MAX_BYTES // 1024} KiB of JSON")
    for attempt in (1, 2):  # two first saves at once: the second finds the first's row
        with core.sessions() as s:
            row = s.scalar(select(DisplayPrefs).where(DisplayPrefs.user_id == user_id,
                                                      DisplayPrefs.client == client,
                                                      DisplayPrefs.pref_id == pref_id))
            if row is None:
                _make_room(s, user_id)
                s.add(DisplayPrefs(user_id=user_id, client=client, pref_id=pref_id, data=data))
            else:
                row.data = data
            try:
                s.commit()
                return
            except IntegrityError:
                s.rollback()
                if attempt == 2:
                    raise


def _make_room(s: Session, user_id: int) -> None:
    """Drop the user's least recently saved rows so that one more stays within MAX_ROWS."""
    kept = s.scalar(select(func.count()).select_from(DisplayPrefs).where(DisplayPrefs.user_id == user_id)) or 0
    if kept < MAX_ROWS:
        return
    oldest = s.scalars(select(DisplayPrefs.id).where(DisplayPrefs.user_id == user_id)
                       .order_by(DisplayPrefs.updated_at, DisplayPrefs.id).limit(kept - MAX_ROWS + 1)).all()
    s.execute(delete(DisplayPrefs).where(DisplayPrefs.id.in_(oldest)))
