"""The playback service (playback/service.py): ``open`` issues the token bound to the
file (the HLS plan for client capabilities is tested over HTTP with real clips in
tests/api/test_hls.py); ``stream`` hands out the file's bytes from its source, or
through the offline-copy fallback when a copy of the same version is ready."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, utcnow
from reelhouse.errors import AuthenticationFailed, NotFound, SourceUnavailable
from reelhouse.playback.fallback import FallbackSource
from reelhouse.playback.service import PlaybackService
from reelhouse.sources.local import LocalSource
from reelhouse.sources.registry import SourceSpec

PAYLOAD = bytes(range(256)) * 64


@dataclass(frozen=True)
class Copy:
    path: str
    size: int
    mtime: float | None


class Store:
    """An offline store with one copy, its source marked down on failure."""

    def __init__(self, root: Path, copy: Copy | None) -> None:
        self.local = LocalSource(root)
        self.copy = copy
        self.down: set[int] = set()

    def ready_copy(self, media_file_id: int) -> Copy | None:
        return self.copy

    def source_down(self, source_id: int) -> bool:
        return source_id in self.down

    def mark_down(self, source_id: int) -> None:
        self.down.add(source_id)

    def copy_gone(self, media_file_id: int) -> None:
        self.copy = None


@pytest.fixture
def film(core: Core, tmp_path: Path) -> MediaFile:
    folder = tmp_path / "films"
    folder.mkdir()
    (folder / "Heat.1995.mp4").write_bytes(PAYLOAD)
    row = core.sources.create(SourceSpec(name="disk", kind="local", path=str(folder)))
    mtime = (folder / "Heat.1995.mp4").stat().st_mtime
    with core.sessions() as s:
        mf = MediaFile(source_id=row.id, path="Heat.1995.mp4", size=len(PAYLOAD), mtime=mtime,
                       kind="movie", container="mp4", video_codec="h264", audio_codec="aac")
        s.add(mf)
        s.commit()
        s.refresh(mf)
        s.expunge(mf)
        return mf


def _service(core: Core, store: Store) -> PlaybackService:
    return PlaybackService(60, core.auth, core.stream_targets, core.sources, store, core.hls)


def test_open_direct_issues_a_token_bound_to_the_file(core: Core, film: MediaFile) -> None:
    _, session = core.auth_sessions.create(1)
    opened = core.playback.open(film.id, 1, grant=f"s:{session.id}")
    assert (opened.mode, opened.direct, opened.content_type) == ("direct", True, "video/mp4")
    assert opened.expires_in == core.settings.playback_token_ttl
    assert core.playback.check_token(opened.token, film.id) == 1
    with pytest.raises(AuthenticationFailed):
        core.playback.check_token(opened.token, film.id + 1)
    with pytest.raises(NotFound):
        core.playback.open(9999, 1, grant=f"s:{session.id}")
    core.auth_sessions.revoke(session.id)  # the token dies with its session
    with pytest.raises(AuthenticationFailed):
        core.playback.check_token(opened.token, film.id)


def test_stream_from_the_source_then_from_the_copy(core: Core, film: MediaFile, tmp_path: Path) -> None:
    store_root = tmp_path / "store"
    (store_root / "offline").mkdir(parents=True)
    (store_root / "offline/heat.mp4").write_bytes(PAYLOAD)

    plain = anyio.run(_service(core, Store(store_root, None)).stream, film.id)
    assert not isinstance(plain.source, FallbackSource) and plain.kind == "local"
    assert b"".join(plain.source.read_range(plain.target.path, 0, 16)) == PAYLOAD[:16]

    stale = Copy("offline/heat.mp4", len(PAYLOAD), 1.0)  # a copy of another version: not used
    assert not isinstance(anyio.run(_service(core, Store(store_root, stale)).stream, film.id).source,
                          FallbackSource)

    store = Store(store_root, Copy("offline/heat.mp4", len(PAYLOAD), film.mtime))
    backed = anyio.run(_service(core, store).stream, film.id)
    assert isinstance(backed.source, FallbackSource) and backed.kind == "local"
    assert backed.etag == plain.etag

    class Down:
        kind = "ftp"

        def read_range(self, path: str, offset: int, length: int):  # type: ignore[no-untyped-def]
            raise SourceUnavailable("the server is down")
            yield b""

    backed.source.primary = Down()  # type: ignore[attr-defined]
    assert b"".join(backed.source.read_range(backed.target.path, 10, 20)) == PAYLOAD[10:30]
    assert store.down == {film.source_id} and backed.source.served_from == "offline-copy"  # type: ignore[attr-defined]


def test_stream_refuses_a_missing_file(core: Core, film: MediaFile) -> None:
    with core.sessions() as s:
        s.get(MediaFile, film.id).missing_since = utcnow()  # type: ignore[union-attr]
        s.commit()
    core.stream_targets.clear()
    with pytest.raises(NotFound, match="no longer on its source"):
        anyio.run(core.playback.stream, film.id)
    with pytest.raises(NotFound):
        anyio.run(core.playback.stream, 9999)
