"""Shared by the tests against system FTP daemons."""

from __future__ import annotations

import random
from pathlib import Path

from reelhouse.sources.ftp import FtpSource


def transfer_round_trip(src: FtpSource, tmp_path: Path, on_disk: Path, folder: str = "", seed: int = 0) -> None:
    """Transfers through ``src`` (a real daemon that writes ``folder`` into ``on_disk``):
    an upload into new folders (mkdir -p, .part + rename), a resumed upload (the .part
    holds half: APPE), a download back, rename and delete; every byte compared, and no
    pooled connection left in use. ``folder`` must be empty before."""
    from reelhouse.transfers.copy import download, upload

    def at(rel: str) -> str:
        return f"{folder}/{rel}" if folder else rel

    data = random.Random(seed).randbytes(3 * 1024 * 1024 + 5)
    local = tmp_path / "film.mkv"
    local.write_bytes(data)
    film = at("Films/Amélie (2001)/Amélie.mkv")
    assert upload(src, local, film) == len(data)
    assert (on_disk / film).read_bytes() == data
    src.write(at("second.mkv.reelhouse.part"), [data[: len(data) // 2]])
    assert upload(src, local, at("second.mkv")) == len(data)
    assert (on_disk / at("second.mkv")).read_bytes() == data
    out = tmp_path / "back.mkv"
    assert download(src, film, out) == len(data)
    assert out.read_bytes() == data
    src.rename(at("second.mkv"), at("third.mkv"))
    src.delete(at("third.mkv"))
    assert sorted(e.name for e in src.list(folder)) == ["Films"]
    assert src.pool.stats["in_use"] == 0
