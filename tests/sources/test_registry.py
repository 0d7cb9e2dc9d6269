"""Tests for reelhouse.sources.registry.SourceService: validation, encrypted passwords,
live Source objects (cached, rebuilt on change), removal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, SourceRow
from reelhouse.errors import Conflict, InvalidInput, NotFound
from reelhouse.library.scanner import scan_source
from reelhouse.sources.ftp import FtpSource
from reelhouse.sources.local import LocalSource
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec

SECRET = "s3cret pässword"


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    c = Core(load_settings(data_dir=tmp_path / "data", ftp_pool_size=3, ftp_connect_timeout=4,
                           ftp_read_timeout=6))
    yield c
    c.close()


def ftp_spec(**kw: object) -> SourceSpec:
    base: dict[str, object] = {"name": "box", "kind": "ftp", "host": "ftp.example.org",
                               "username": "bob", "password": SECRET}
    base.update(kw)
    return SourceSpec(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "spec",
    [
        SourceSpec(kind="local", path="/x"),  # no name
        SourceSpec(name="x"),  # no kind
        SourceSpec(name="x", kind="smb", path="/x"),
        SourceSpec(name="   ", kind="local", path="/x"),
        SourceSpec(name="x" * 129, kind="local", path="/x"),
        SourceSpec(name="x", kind="local"),
        SourceSpec(name="x", kind="local", path="relative/path"),
        SourceSpec(name="x", kind="ftp"),
        SourceSpec(name="x", kind="ftp", host="   "),
        SourceSpec(name="x", kind="ftp", host="h", port=0),
        SourceSpec(name="x", kind="ftp", host="h", port=70000),
        SourceSpec(name="x", kind="ftp", host="h", tls="maybe"),
    ],
)
def test_create_validation(core: Core, spec: SourceSpec) -> None:
    with pytest.raises(InvalidInput):
        core.sources.create(spec)
    assert core.sources.list() == []


def test_ftp_defaults(core: Core) -> None:
    # a root without a leading slash is relative to the login folder; empty is the login folder
    row = core.sources.create(ftp_spec(path="Media/Films/"))
    assert (row.port, row.path, row.tls, row.verify_tls) == (21, "Media/Films", "none", True)
    row = core.sources.create(ftp_spec(name="absolute", path="/srv//Media/"))
    assert row.path == "/srv/Media"
    row = core.sources.create(ftp_spec(name="implicit", tls="implicit"))
    assert (row.port, row.path) == (990, "")


def test_password_is_encrypted_at_rest(core: Core) -> None:
    row = core.sources.create(ftp_spec())
    with core.engine.connect() as conn:
        raw = conn.execute(text("SELECT * FROM sources")).fetchall()
    assert SECRET.encode() not in repr(raw).encode()
    assert SECRET not in repr(raw)
    assert row.password_enc and SECRET.encode() not in row.password_enc
    assert core.sources.password(core.sources.get(row.id)) == SECRET
    assert SECRET not in repr(row)


def test_live_ftp_source_uses_settings(core: Core) -> None:
    row = core.sources.create(ftp_spec(port=2121, path="/Films"))
    src = core.sources.source(row.id)
    assert isinstance(src, FtpSource)
    c = src.config
    assert (c.host, c.port, c.user, c.password, c.root) == (
        "ftp.example.org", 2121, "bob", SECRET, "/Films")
    assert (c.pool_size, c.connect_timeout, c.read_timeout) == (3, 4, 6)
    assert src.pool.size == 3
    assert SECRET not in repr(c)
    assert core.sources.source(row.id) is src  # cached


def test_update_rebuilds_the_live_source(core: Core, tmp_path: Path) -> None:
    row = core.sources.create(ftp_spec())
    src = core.sources.source(row.id)
    updated = core.sources.update(row.id, SourceSpec(port=2222))
    assert updated.port == 2222 and updated.username == "bob"
    src2 = core.sources.source(row.id)
    assert src2 is not src and isinstance(src2, FtpSource) and src2.config.port == 2222
    assert src2.config.password == SECRET  # untouched fields stay
    core.sources.update(row.id, SourceSpec(password=""))  # empty string clears it
    assert core.sources.get(row.id).password_enc is None
    with pytest.raises(InvalidInput):
        core.sources.update(row.id, SourceSpec(port=0))
    assert core.sources.get(row.id).port == 2222
    with pytest.raises(NotFound):
        core.sources.update(999, SourceSpec(port=21))


def test_names_are_unique(core: Core, tmp_path: Path) -> None:
    core.sources.create(SourceSpec(name="disk", kind="local", path=str(tmp_path)))
    with pytest.raises(Conflict):
        core.sources.create(SourceSpec(name="disk", kind="local", path=str(tmp_path)))

def test_rename_to_a_taken_name_is_conflict(core: Core, tmp_path: Path) -> None:
    core.sources.create(SourceSpec(name="disk", kind="local", path=str(tmp_path)))
    other = core.sources.create(SourceSpec(name="disk2", kind="local", path=str(tmp_path)))
    with pytest.raises(Conflict):
        core.sources.update(other.id, SourceSpec(name="disk"))


def test_get_find_list(core: Core, tmp_path: Path) -> None:
    a = core.sources.create(SourceSpec(name="b-disk", kind="local", path=str(tmp_path)))
    b = core.sources.create(SourceSpec(name="a-disk", kind="local", path=str(tmp_path)))
    assert [r.name for r in core.sources.list()] == ["a-disk", "b-disk"]
    assert core.sources.find(str(a.id)).id == a.id
    assert core.sources.find("a-disk").id == b.id
    for missing in ("nope", "999"):
        with pytest.raises(NotFound):
            core.sources.find(missing)
    with pytest.raises(NotFound):
        core.sources.get(999)
    assert isinstance(core.sources.source(a.id), LocalSource)


def test_remove_deletes_files_and_orphans(core: Core, tmp_path: Path) -> None:
    a = core.sources.create(SourceSpec(name="a", kind="local", path=str(tmp_path)))
    b = core.sources.create(SourceSpec(name="b", kind="local", path=str(tmp_path)))
    scan_source(core.sessions, a.id, MemorySource({"Sintel.2010.mkv": b"1",
                                                   "Tears.of.Steel.2012.mkv": b"2"}))
    scan_source(core.sessions, b.id, MemorySource({"Sintel.2010.720p.mkv": b"3"}))
    core.sources.remove(a.id)
    with core.sessions() as s:
        assert [m.title for m in s.scalars(select(Movie))] == ["Sintel"]  # still has b's file
        assert [f.path for f in s.scalars(select(MediaFile))] == ["Sintel.2010.720p.mkv"]
        assert s.scalars(select(SourceRow)).all()[0].name == "b"
    with pytest.raises(NotFound):
        core.sources.remove(a.id)
    with pytest.raises(NotFound):
        core.sources.source(a.id)


def test_replaced_key_gives_a_clear_error(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    c = Core(settings)
    try:
        row = c.sources.create(ftp_spec())
    finally:
        c.close()
    (tmp_path / "data" / "fernet.key").unlink()
    c = Core(settings)
    try:
        with pytest.raises(InvalidInput, match="password"):
            c.sources.source(row.id)
    finally:
        c.close()
