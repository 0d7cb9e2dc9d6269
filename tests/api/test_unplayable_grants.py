"""``playable`` is judged on the files the user can see (source grants): a film whose
one good file is on a source the user has no grant for, and whose file on a granted
source is garbled, cannot be played by that user — the grid (web and ``/items``, a
search too) says so, as the title's own page does; for the admin, who sees both, it
plays. A film whose only broken file is on the hidden source plays for that user. The
grid judged every present file (a restricted user saw a playable tile that their
player could not play, the title page said the reverse)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelhouse.auth.users import UserChange
from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import ENGINES, log_in, place, put_garbled, scan_local

pytestmark = pytest.mark.requires_ffmpeg


def granted_world(core: Core, client: TestClient, tmp_path: Path, sample_mkv: Path) -> int:
    """Sources "open" (granted to "guest") and "hidden"; returns guest's user id.

    - "Split" (2010): garbled on open, good on hidden → guest cannot play it.
    - "Fine" (2011): good on open, garbled on hidden → guest can.
    - "Split Show": S01E01 garbled on open, S01E02 good on hidden → guest cannot.
    """
    open_root, hidden_root = tmp_path / "open", tmp_path / "hidden"
    put_garbled(open_root, "Split (2010)/Split.2010.mkv")
    place(sample_mkv, open_root, "Fine (2011)/Fine.2011.mkv")
    put_garbled(open_root, "Split Show/Season 01/Split.Show.S01E01.mkv")
    place(sample_mkv, hidden_root, "Split (2010)/Split.2010.1080p.mkv")
    put_garbled(hidden_root, "Fine (2011)/Fine.2011.1080p.mkv")
    place(sample_mkv, hidden_root, "Split Show/Season 01/Split.Show.S01E02.mkv")
    open_id = scan_local(client, "open", open_root)[0]
    scan_local(client, "hidden", hidden_root)
    guest = core.users.add("guest", "guest-password")
    core.users.update(guest.id, UserChange(restrict_sources=True, sources=[open_id]))
    return guest.id


def _playable(c: TestClient, **params: str) -> dict[str, bool]:
    return {i["title"]: i["playable"] for i in c.get("/api/library/items", params=params).json()["items"]}


@pytest.mark.parametrize("core", ENGINES, indirect=True)
def test_playable_is_judged_on_the_files_the_user_sees(core: Core, client: TestClient, tmp_path: Path,
                                                       sample_mkv: Path) -> None:
    _check(core, client, tmp_path, sample_mkv)


def _check(core: Core, client: TestClient, tmp_path: Path, sample_mkv: Path) -> None:
    granted_world(core, client, tmp_path, sample_mkv)
    assert _playable(client) == {"Fine": True, "Split": True, "Split Show": True}
    with TestClient(create_app(core)) as guest:
        log_in(guest, "guest", "guest-password")
        expected = {"Fine": True, "Split": False, "Split Show": False}
        assert _playable(guest) == expected
        assert _playable(guest, q="split") == {"Split": False, "Split Show": False}
        # the title pages agree with the grid
        items = guest.get("/api/library/items").json()["items"]
        for item in items:
            page = guest.get(f"/api/library/{item['type']}s/{item['id']}").json()
            assert page["playable"] is expected[item["title"]], page
            if not page["playable"]:
                assert page["unplayable_reason"] == item["unplayable_reason"], (page, item)
        # the web grid flags the same tiles, and a search in it too
        for params in ({}, {"q": "split"}):
            html = guest.get("/", params=params).text
            flagged = html.count('class="tile tile-movie tile-unplayable"') + html.count(
                'class="tile tile-show tile-unplayable"')
            assert flagged == 2, (params, html)
        assert client.get("/").text.count("tile-unplayable") == 0
