"""reelhouse.library.known and the rescan's short path (issue 14): files listed
unchanged are matched by one dict lookup, are not queued for phase 2 again, and get
their ``last_seen`` in one UPDATE; changed, new, removed and moved files and failed
folders are handled as before. On SQLite, and on PostgreSQL when
``REELHOUSE_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from reelhouse.core import Core
from reelhouse.db.models import MediaFile
from reelhouse.library.known import Listed, is_gone, load_known, same_mtime
from reelhouse.library.linking import NAMING_VERSION
from reelhouse.library.probing import Pending
from reelhouse.library.scanner import ScanReport, scan_source
from reelhouse.sources.base import Entry
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec

from helpers import ENGINES, core_on


@pytest.fixture(params=ENGINES)
def lib(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Core]:
    with core_on(request.param, tmp_path / "data", "rh_known") as core:
        yield core


class Phase2:
    """A ``phase2`` hook that records what phase 1 left and does nothing."""

    def __init__(self) -> None:
        self.calls: list[Pending] = []

    def __call__(self, pending: Pending, report: ScanReport, progress: object) -> None:
        self.calls.append(pending)


def rows(core: Core, sid: int) -> dict[str, MediaFile]:
    with core.sessions() as s:
        return {m.path: m for m in s.scalars(select(MediaFile).options(selectinload(MediaFile.source))
                                             .where(MediaFile.source_id == sid))}


def seen(core: Core, sid: int) -> dict[str, datetime]:
    """When a scan last listed each file (``MediaFile.seen``, what the API shows)."""
    return {p: m.seen for p, m in rows(core, sid).items()}


def raw_last_seen(core: Core, sid: int) -> dict[str, datetime]:
    return {p: m.last_seen for p, m in rows(core, sid).items()}


FILES = {
    "Shows/Dark/Season 1/Dark.S01E01.mkv": b"d1" * 50,
    "Shows/Dark/Season 1/Dark.S01E02.mkv": b"d2" * 50,
    "Shows/The Office (US)/Season 01/The.Office.S01E01.mkv": b"o1" * 50,
    "Shows/The Office (US)/Season 01/The.Office.S01E02.mkv": b"o2" * 50,
    "Films/Sintel.2010.mkv": b"s" * 100,
    "Films/Tears.of.Steel.2012.mkv": b"t" * 100,
    "Films/Elephants.Dream.2006.mkv": b"e" * 100,
    "Films/Cosmos.Laundromat.2015.mkv": b"c" * 300,
}


def first_scan(core: Core, tmp_path: Path) -> tuple[int, MemorySource]:
    sid = core.sources.create(SourceSpec(name="m", kind="local", path=str(tmp_path))).id
    src = MemorySource(dict(FILES))
    report = scan_source(core.sessions, sid, src)
    assert report.added == len(FILES) and report.probe_done == len(FILES)
    return sid, src


def test_unchanged_rescan_matches_every_file_and_queues_nothing(tmp_path: Path, lib: Core) -> None:
    sid, src = first_scan(lib, tmp_path)
    known = load_known(lib.sessions, sid)
    assert len(known.ids) == len(FILES) and not known.other  # probed, placed by today's rules
    before, raw_before = seen(lib, sid), raw_last_seen(lib, sid)
    hook = Phase2()
    report = scan_source(lib.sessions, sid, src, phase2=hook)
    assert hook.calls == [] and report.to_probe == 0, "phase 2 must not be queued for unchanged files"
    assert (report.unchanged, report.files_seen, report.total) == (len(FILES), len(FILES), len(FILES))
    assert (report.added, report.updated, report.missing, report.moved, report.restored) == (0, 0, 0, 0, 0)
    after = seen(lib, sid)
    assert all(after[p] > before[p] for p in FILES), "every listed file's last_seen moves on"
    assert raw_last_seen(lib, sid) == raw_before, "without writing a file row (the source's time moves)"


def test_changed_new_removed_moved_and_failed_folder_in_one_rescan(tmp_path: Path, lib: Core) -> None:
    sid, src = first_scan(lib, tmp_path)
    ids = {p: m.id for p, m in rows(lib, sid).items()}
    before = seen(lib, sid)
    src.files["Films/Sintel.2010.mkv"] = b"S" * 120  # changed size
    src.mtimes["Films/Tears.of.Steel.2012.mkv"] += 60  # touched
    del src.files["Films/Elephants.Dream.2006.mkv"]  # gone
    src.files["Films/Cosmos Laundromat (2015).mkv"] = src.files.pop("Films/Cosmos.Laundromat.2015.mkv")  # renamed
    src.mtimes["Films/Cosmos Laundromat (2015).mkv"] = src.mtimes.pop("Films/Cosmos.Laundromat.2015.mkv")
    src.files["Films/Big.Buck.Bunny.2008.mkv"] = b"b" * 80  # new
    src.mtimes["Films/Big.Buck.Bunny.2008.mkv"] = 1_700_000_000.0
    src.failing = {"Shows/The Office (US)"}  # its files are neither seen nor missing
    hook = Phase2()
    report = scan_source(lib.sessions, sid, src, phase2=hook)
    assert (report.added, report.updated, report.missing, report.moved, report.unchanged) == (1, 2, 1, 1, 2)
    assert report.outcome == "partial" and len(report.folder_errors) == 1
    after = rows(lib, sid)
    assert {p for p, m in after.items() if m.missing_since is not None} == {"Films/Elephants.Dream.2006.mkv"}
    assert after["Films/Cosmos Laundromat (2015).mkv"].id == ids["Films/Cosmos.Laundromat.2015.mkv"]
    assert after["Films/Sintel.2010.mkv"].size == 120
    new_id = after["Films/Big.Buck.Bunny.2008.mkv"].id
    [pending] = hook.calls  # the changed and the new files only
    assert set(pending.probe) == {ids["Films/Sintel.2010.mkv"], ids["Films/Tears.of.Steel.2012.mkv"], new_id}
    office = [p for p in FILES if p.startswith("Shows/The Office")]
    for path in office:  # not listed: last_seen stays
        assert after[path].seen == before[path] and after[path].missing_since is None and after[path].unlisted
    assert after["Films/Elephants.Dream.2006.mkv"].seen == before["Films/Elephants.Dream.2006.mkv"]
    for path in ("Shows/Dark/Season 1/Dark.S01E01.mkv", "Films/Sintel.2010.mkv", "Films/Cosmos Laundromat (2015).mkv"):
        assert after[path].seen > before.get(path, before["Films/Cosmos.Laundromat.2015.mkv"])
    src.failing = set()  # listed again: only the files phase 2 has not probed yet are queued
    hook = Phase2()
    report = scan_source(lib.sessions, sid, src, phase2=hook)
    assert (report.unchanged, report.files_seen, report.added, report.updated) == (5, 8, 0, 0)
    again = rows(lib, sid)
    for path in office:  # listed again: the source's time is theirs again
        assert not again[path].unlisted and again[path].seen == again["Films/Sintel.2010.mkv"].seen > before[path]
    assert again["Films/Elephants.Dream.2006.mkv"].seen == before["Films/Elephants.Dream.2006.mkv"]
    [pending] = hook.calls
    assert set(pending.probe) == {ids["Films/Sintel.2010.mkv"], ids["Films/Tears.of.Steel.2012.mkv"], new_id}


def test_unlisted_files_keep_their_last_seen_over_several_scans(tmp_path: Path, lib: Core) -> None:
    sid, src = first_scan(lib, tmp_path)
    before = seen(lib, sid)
    src.failing = {"Shows"}
    report = scan_source(lib.sessions, sid, src)
    assert report.missing == 0 and report.unchanged == 4
    after = seen(lib, sid)
    for path in FILES:
        if path.startswith("Shows/"):
            assert after[path] == before[path]
        else:
            assert after[path] > before[path]
    scan_source(lib.sessions, sid, src)  # still failing: their own time stays, the rest moves on
    later = seen(lib, sid)
    for path in FILES:
        assert later[path] == before[path] if path.startswith("Shows/") else later[path] > after[path]


def test_rows_needing_work_are_not_clean(tmp_path: Path, lib: Core) -> None:
    sid, src = first_scan(lib, tmp_path)
    ids = {p: m.id for p, m in rows(lib, sid).items()}
    with lib.sessions() as s:
        s.execute(update(MediaFile).where(MediaFile.id == ids["Films/Sintel.2010.mkv"])
                  .values(naming_version=NAMING_VERSION - 1))
        s.execute(update(MediaFile).where(MediaFile.id == ids["Films/Tears.of.Steel.2012.mkv"])
                  .values(probe_bytes=None, probe_error=None))
        s.commit()
    known = load_known(lib.sessions, sid)
    assert set(known.other) == {"Films/Sintel.2010.mkv", "Films/Tears.of.Steel.2012.mkv"}
    assert known.other["Films/Tears.of.Steel.2012.mkv"].unprobed
    assert known.other["Films/Sintel.2010.mkv"].naming_version == NAMING_VERSION - 1
    hook = Phase2()
    report = scan_source(lib.sessions, sid, src, phase2=hook)
    [pending] = hook.calls
    assert pending.probe == [ids["Films/Tears.of.Steel.2012.mkv"]]  # probed again
    assert report.unchanged == len(FILES) - 1
    assert rows(lib, sid)["Films/Sintel.2010.mkv"].naming_version == NAMING_VERSION  # placed again


def test_split_and_rest() -> None:
    from reelhouse.library.known import Known, KnownFiles

    files = KnownFiles({"A/w.mkv": Known(4, 5, 1.0, None, True, None)})
    files.add_clean([("A/x.mkv", 10, 1.0, 1), ("A/y.mkv", 20, 2.0, 2), ("B/z.mkv", 30, None, 3)])
    listing = [Entry("x.mkv", "A/x.mkv", False, 10, 1.0), Entry("y.mkv", "A/y.mkv", False, 21, 2.0),
               Entry("w.mkv", "A/w.mkv", False, 5, 1.0), Entry("n.txt", "A/n.txt", False, 1, 1.0),
               Entry("C", "A/C", True, None, None), Entry("z.mkv", "B/z.mkv", False, 30, None)]
    ids, rest = files.split([listing])
    assert ids == [1, 3]
    assert [e.path for e in rest] == ["A/y.mkv", "A/w.mkv"]  # changed, and a row that needs work


def test_is_gone_builds_names_only_for_the_folders_asked() -> None:
    listed = Listed({"": [Entry("A", "A", True)], "A": [Entry("x.mkv", "A/x.mkv", False, 1, 1.0)]})
    assert not is_gone("A/x.mkv", listed) and is_gone("A/y.mkv", listed)
    assert is_gone("B/z.mkv", listed)  # the root was listed without B
    assert listed.get("C") is None and not is_gone("C/D/e.mkv", Listed({}))


def test_a_name_listed_as_the_other_kind_is_gone() -> None:
    """A file replaced by a folder of its name, and a folder by a file of its name: the
    file is no longer there, though its name is (README: "a file a complete listing no
    longer shows as a file … is marked missing")."""
    listed = Listed({"": [Entry("Heat (1995).mkv", "Heat (1995).mkv", True), Entry("S1", "S1", False, 9, 1.0),
                          Entry("S2", "S2", True)]})
    assert is_gone("Heat (1995).mkv", listed)  # now a folder
    assert is_gone("S1/e01.mkv", listed)  # its folder is now a file
    assert not is_gone("S2/e01.mkv", listed)  # S2 not listed: nothing known below it


@pytest.mark.parametrize(("stored", "listed", "same"), [
    (1_700_000_040.0, 1_700_000_040.0, True),
    (None, None, True),
    (None, 1_700_000_040.0, False),
    (1_700_000_040.0, None, False),
    (1_700_000_040.0, 1_700_000_040.0 + 3600, True),  # a daylight saving switch
    (1_700_000_040.0, 1_700_000_040.0 - 5 * 3600, True),  # UTC -> EST
    (1_700_000_040.0, 1_700_000_040.0 + 5.5 * 3600, True),  # UTC -> India
    (1_700_000_040.0, 1_700_000_040.0 + 26 * 3600, True),  # UTC-12 -> UTC+14
    (1_700_000_040.0, 1_700_000_040.0 + 27 * 3600, False),
    (1_700_000_040.0, 1_700_000_040.0 + 60, False),  # written again a minute later
    (1_700_000_040.5, 1_700_000_040.5 + 3601, False),
    (1_699_920_000.0 + 12 * 3600 + 34 * 60, 1_699_920_000.0, True),  # six months on: the date alone
    (1_699_920_000.0, 1_699_920_000.0 + 12 * 3600 + 34 * 60, True),
    (1_699_920_000.0 + 12 * 3600 + 34 * 60, 1_699_920_000.0 - 2 * 86400, False),
    (1_700_000_077.0, 1_700_000_040.0, True),  # MLSD's seconds, LIST's minute (pure-ftpd LIST -R)
    (1_700_000_040.0, 1_700_000_077.0, True),
    (1_700_000_077.5, 1_700_000_040.0 - 3600, True),  # and a zone
    (1_700_000_077.0, 1_700_000_100.0, False),  # the next minute
    (1_700_000_101.0, 1_700_000_040.0, False),
    (1_700_000_077.0, 1_700_000_041.0, False),  # neither lost its seconds
])
def test_same_mtime(stored: float | None, listed: float | None, same: bool) -> None:
    """A listed time moved by a zone change or LIST's lost time of day or seconds is the same file
    (library/known.same_mtime)."""
    assert same_mtime(stored, listed) is same
