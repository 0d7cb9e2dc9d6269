"""``local_path`` confinement: whatever a client sends, the result is a file strictly
inside the store, or InvalidInput (property tests, hypothesis)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reelhouse.errors import InvalidInput
from reelhouse.transfers.confine import confine, local_name

_PARTS = st.sampled_from(["..", ".", "", "a", "b", "..a", "a..", "~", "/", "\\", "%2e%2e", "\x00",
                          "\r", "\n", "film.mkv", "é", " ", "C:", "//", "/etc/passwd"])
_PATHS = st.one_of(st.lists(_PARTS, max_size=8).map("/".join), st.text(max_size=64))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store") / "library"
    (root / "sub").mkdir(parents=True)
    outside = root.parent / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside)  # a symlink inside the store pointing out
    return root


@settings(max_examples=600, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=_PATHS)
def test_result_is_strictly_inside_the_store(store: Path, path: str) -> None:
    try:
        full = confine(store, path)
    except InvalidInput:
        return
    root = store.resolve()
    assert full != root and full.is_relative_to(root)
    assert full == full.resolve()
    assert not any(c in str(full) for c in "\x00\r\n")


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=_PATHS)
def test_normalised_once_is_stable(store: Path, path: str) -> None:
    try:
        full = confine(store, path)
    except InvalidInput:
        return
    rel = full.relative_to(store.resolve()).as_posix()
    assert confine(store, rel) == full


@pytest.mark.parametrize("bad", ["", ".", "/", "..", "../x", "a/../..", "a/../../x", "sub/../../x",
                                 "escape/x",
                                 "/films/x.mkv", "/etc/passwd", "a\x00b", "a\nb", "a\rb", "x" * 256, "a/" * 2100,
                                 "\\..\\x"])
def test_refused(store: Path, bad: str) -> None:
    with pytest.raises(InvalidInput):
        confine(store, bad)


@pytest.mark.parametrize(("given_path", "expected"), [
    ("a/./b/../c.mkv", "a/c.mkv"), ("a\\b.mkv", "a/b.mkv"),
    ("sub//x", "sub/x"),
])
def test_normalised(store: Path, given_path: str, expected: str) -> None:
    assert confine(store, given_path) == store.resolve() / expected


def test_absolute_path_inside_the_store_is_kept(store: Path) -> None:
    assert confine(store, str(store.resolve() / "sub/x.mkv")) == store.resolve() / "sub/x.mkv"


#: remote path → the local path a download or an offline copy gets on Windows, whose
#: file systems refuse ``<>:"|?*\``, control characters, names ending in a dot or a
#: space, and the device names CON, PRN, AUX, NUL, COM1-9, LPT1-9 with any extension
#: (Microsoft, "Naming Files, Paths, and Namespaces"); on POSIX the path as it is.
WINDOWS_NAMES = [
    ("Films/CON.mkv", "Films/CON_.mkv"),
    ("Films/con.part1.mkv", "Films/con_.part1.mkv"),
    ("NUL/x.mkv", "NUL_/x.mkv"),
    ("Films/COM1.mkv", "Films/COM1_.mkv"),
    ("Films/LPT9", "Films/LPT9_"),
    ("Films/AUX .mkv", "Films/AUX _.mkv"),
    ("Films/CONSOLE.mkv", "Films/CONSOLE.mkv"),  # no device name
    ("Films/Film: Part 1?.mkv", "Films/Film： Part 1？.mkv"),
    ('Films/a<b>c"d|e*f.mkv', "Films/a＜b＞c＂d｜e＊f.mkv"),
    ("Films/back\\slash.mkv", "Films/back＼slash.mkv"),
    ("Films/Film./x.mkv", "Films/Film．/x.mkv"),
    ("Films/Film (2020) /x.mkv", "Films/Film (2020)␠/x.mkv"),
    ("Films/[x]{y}+ 🎬 שלום.mkv", "Films/[x]{y}+ 🎬 שלום.mkv"),
    ("Films/tab\there.mkv", "Films/tab␉here.mkv"),
]


@pytest.mark.parametrize(("remote", "local"), WINDOWS_NAMES)
def test_local_names_on_windows(remote: str, local: str) -> None:
    assert local_name(remote, windows=True) == local
    assert local_name(remote, windows=False) == remote


def test_downloads_and_offline_copies_take_local_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.transfers import confine as confine_module

    core = Core(load_settings(data_dir=tmp_path / "data"))
    try:
        store = core.settings.store_dir.resolve()
        assert core.transfers.local_target("box", "Films/CON.mkv", None) == store / "box/Films/CON.mkv"
        monkeypatch.setattr(confine_module, "_WINDOWS", True)
        assert core.transfers.local_target("box", "Films/CON.mkv", None) == store / "box/Films/CON_.mkv"
        assert core.transfers.local_target("box", "Films/What?.mkv", None) == store / "box/Films/What？.mkv"
    finally:
        core.close()
