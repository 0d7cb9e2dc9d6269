"""EncoderPool's per-user cap of audio-only encoders (HLS audio renditions): before it,
only the server's ``4 * max_encoders`` bounded them, so with ``max_per_user`` set one
user's audio tracks took every slot and the next user got 503. Real processes (``sh``
writing the segment asked for, then running until killed) stand for ffmpeg."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reelhouse.errors import ServiceBusy
from reelhouse.playback.hls.encoders import EncoderPool

pytestmark = pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX sh")


def _writer(out_dir: Path) -> Callable[[int], list[str]]:
    def command(start: int) -> list[str]:
        return ["sh", "-c", 'echo x > "$1" && exec sleep 600', "sh", str(out_dir / f"{start}.ts")]
    return command


@pytest.fixture
def pool() -> Iterator[EncoderPool]:
    # server: 2 transcodes, 8 encoders of every kind; a user: 1 transcode, 4 audio encoders
    p = EncoderPool(max_encoders=2, idle_timeout=300, max_per_user=1, stale_after=300)
    yield p
    p.close()


def _audio(pool: EncoderPool, tmp: Path, user: str, i: int) -> Path:
    out = tmp / f"{user}-{i}"
    return pool.segment((f"file{i}", "audio0"), 0, out, _writer(out), timeout=60, heavy=False,
                        viewer=f"{user}-tab{i}", user=user)


def test_a_second_user_gets_an_audio_encoder_while_the_first_is_at_the_cap(
        pool: EncoderPool, tmp_path: Path) -> None:
    assert pool.max_audio_per_user == 4
    for i in range(4):
        assert _audio(pool, tmp_path, "user:1", i).exists()
    with pytest.raises(ServiceBusy, match=r"your 4 audio encoder\(s\), the limit per user"):
        _audio(pool, tmp_path, "user:1", 4)
    assert len(pool.running()) == 4  # watched encoders were not killed to make room
    # before the cap alice went on to 8 (the server's limit) and bob got 503
    assert _audio(pool, tmp_path, "user:2", 0).exists()
    assert sorted(e.owner or "" for e in pool.running()) == ["user:1"] * 4 + ["user:2"]


def test_without_a_per_user_cap_the_audio_cap_is_the_servers(tmp_path: Path) -> None:
    pool = EncoderPool(max_encoders=1, idle_timeout=300, stale_after=300)
    try:
        assert pool.max_audio_per_user == 4  # 4 * max_encoders, the server's own limit
        for i in range(4):
            _audio(pool, tmp_path, "user:1", i)
        with pytest.raises(ServiceBusy):
            _audio(pool, tmp_path, "user:2", 0)
    finally:
        pool.close()
