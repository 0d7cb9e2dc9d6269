"""Users as Jellyfin's ``UserDto`` (reelhouse users: name, admin flag)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reelhouse.db.models import User
from reelhouse.jellyfin import ids

__all__ = ["NEVER", "now_iso", "syncplay_access", "user_dto"]

#: Jellyfin's DateTime.MinValue, as it writes a date that never happened.
NEVER = "0001-01-01T00:00:00.0000000Z"


def _iso(user: User) -> str:
    return user.created_at.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def now_iso() -> str:
    """The current time (UTC) as Jellyfin writes dates."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def syncplay_access(policy: str, user: User) -> str:
    """The user's ``SyncPlayAccess`` (Jellyfin's SyncPlayUserAccessType) under the
    ``jellyfin_syncplay`` setting: ``CreateAndJoinGroups`` for everyone, admins only,
    or ``None`` (the apps then hide SyncPlay and the server answers its calls 403)."""
    if policy == "everyone" or (policy == "admins" and user.is_admin):
        return "CreateAndJoinGroups"
    return "None"


def user_dto(user: User, server_id: str, syncplay: str = "None") -> dict[str, Any]:
    """A ``UserDto``: id, name, configuration and policy (admin ↔ IsAdministrator;
    every user sees the whole library and may play; ``syncplay``: SyncPlayAccess,
    :func:`syncplay_access`)."""
    return {
        "Name": user.name,
        "ServerId": server_id,
        "Id": ids.encode("user", user.id),
        "HasPassword": True,
        "HasConfiguredPassword": True,
        "HasConfiguredEasyPassword": False,
        "EnableAutoLogin": False,
        "LastLoginDate": _iso(user),
        "LastActivityDate": _iso(user),
        "Configuration": {
            "PlayDefaultAudioTrack": True,
            "SubtitleLanguagePreference": "",
            "DisplayMissingEpisodes": False,
            "GroupedFolders": [],
            "SubtitleMode": "Default",
            "DisplayCollectionsView": False,
            "EnableLocalPassword": False,
            "OrderedViews": [],
            "LatestItemsExcludes": [],
            "MyMediaExcludes": [],
            "HidePlayedInLatest": True,
            "RememberAudioSelections": True,
            "RememberSubtitleSelections": True,
            "EnableNextEpisodeAutoPlay": True,
        },
        "Policy": {
            "IsAdministrator": bool(user.is_admin),
            "IsHidden": True,
            "EnableCollectionManagement": False,
            "EnableSubtitleManagement": False,
            "EnableLyricManagement": False,
            "IsDisabled": False,
            "BlockedTags": [],
            "EnableUserPreferenceAccess": True,
            "AccessSchedules": [],
            "BlockUnratedItems": [],
            "EnableRemoteControlOfOtherUsers": False,
            "EnableSharedDeviceControl": False,
            "EnableRemoteAccess": True,
            "EnableLiveTvManagement": False,
            "EnableLiveTvAccess": False,
            "EnableMediaPlayback": True,
            "EnableAudioPlaybackTranscoding": True,
            "EnableVideoPlaybackTranscoding": True,
            "EnablePlaybackRemuxing": True,
            "ForceRemoteSourceTranscoding": False,
            "EnableContentDeletion": False,
            "EnableContentDeletionFromFolders": [],
            "EnableContentDownloading": True,
            "EnableSyncTranscoding": False,
            "EnableMediaConversion": False,
            "EnabledDevices": [],
            "EnableAllDevices": True,
            "EnabledChannels": [],
            "EnableAllChannels": False,
            "EnabledFolders": [],
            "EnableAllFolders": True,
            "InvalidLoginAttemptCount": 0,
            "LoginAttemptsBeforeLockout": -1,
            "MaxActiveSessions": 0,
            "EnablePublicSharing": False,
            "BlockedMediaFolders": [],
            "BlockedChannels": [],
            "RemoteClientBitrateLimit": 0,
            "AuthenticationProviderId": "reelhouse",
            "PasswordResetProviderId": "reelhouse",
            "SyncPlayAccess": syncplay,
        },
    }
