"""ORM models, one module per noun. Models hold data only: no I/O, no business rules
(services own those). Every model is re-exported here: ``from reelhouse.db.models
import X`` is the import path to use.

- ``base``: ``Base``, the UTC datetime column type, ``utcnow``
- ``users``: ``User``
- ``auth``: ``AuthSession``, ``ApiKey``, ``UserSource``, ``AuditEvent`` (sessions, API
  keys, per-user source grants, the audit log)
- ``sources``: ``SourceRow``
- ``library``: ``Movie``, ``Show``, ``Season``, ``Episode``, ``MediaFile``, ``MediaStream``
- ``metadata``: ``Image``, ``TmdbCache``
- ``progress``: ``WatchProgress``, ``Favorite``
- ``jobs``: ``Job``
- ``transfers``: ``Transfer``, ``SyncRun``, ``OfflineCopy``, ``OfflineClaim``
- ``parties``: ``WatchSession``, ``WatchParticipant``
- ``prefs``: ``DisplayPrefs`` (Jellyfin apps' display preferences)
"""

from reelhouse.db.models.auth import ApiKey, AuditEvent, AuthSession, UserSource
from reelhouse.db.models.base import Base, UTCDateTime, utcnow
from reelhouse.db.models.jobs import Job
from reelhouse.db.models.library import Episode, MediaFile, MediaStream, Movie, Season, Show
from reelhouse.db.models.metadata import Image, TmdbCache
from reelhouse.db.models.parties import SyncPlayMember, SyncPlayQueue, WatchParticipant, WatchSession
from reelhouse.db.models.prefs import DisplayPrefs
from reelhouse.db.models.progress import Favorite, WatchProgress
from reelhouse.db.models.sources import SourceRow
from reelhouse.db.models.transfers import OfflineClaim, OfflineCopy, SyncRun, Transfer
from reelhouse.db.models.users import User

__all__ = [
    "ApiKey",
    "AuditEvent",
    "AuthSession",
    "Base",
    "DisplayPrefs",
    "Episode",
    "Favorite",
    "Image",
    "Job",
    "MediaFile",
    "MediaStream",
    "Movie",
    "OfflineClaim",
    "OfflineCopy",
    "Season",
    "Show",
    "SourceRow",
    "SyncPlayMember",
    "SyncPlayQueue",
    "SyncRun",
    "TmdbCache",
    "Transfer",
    "UTCDateTime",
    "User",
    "UserSource",
    "WatchParticipant",
    "WatchProgress",
    "WatchSession",
    "utcnow",
]


# Indexes of the big-library queries live beside the queries' needs (db/indexes.py);
# imported here so that every user of the models (migrations' check, create_all) has them.
# The show of an episode file kept on the file for every ORM write (db/episode_show.py).
from reelhouse.db import episode_show as _episode_show  # noqa: F401
from reelhouse.db import indexes as _indexes  # noqa: F401
