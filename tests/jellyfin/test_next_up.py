"""``Shows/NextUp`` and the watched state as an app's home screen shows them, on a show
with what real shows have: specials (season 0), a double episode in one file
(``S01E01E02``), the same episode also as a file of its own from another release, a
missing episode (E04) and a later one: next up is the first unwatched regular episode
after the last watched one — specials never, a double episode counted to its last
number, the gap skipped — and the series' unplayed count follows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from helpers import place, wait_job

pytestmark = pytest.mark.requires_ffmpeg

FILES = ["Shows/Gapped/Season 00/Gapped.S00E01.mp4",
         "Shows/Gapped/Season 01/Gapped.S01E01E02.mp4",
         "Shows/Gapped/Season 01/Gapped.S01E02.mp4",
         "Shows/Gapped/Season 01/Gapped.S01E03.mp4",
         "Shows/Gapped/Season 01/Gapped.S01E05.mp4"]


def _episodes(jf: TestClient, series_id: str) -> dict[tuple[int, int], dict[str, Any]]:
    items = jf.get(f"/jellyfin/Shows/{series_id}/Episodes").json()["Items"]
    return {(e["ParentIndexNumber"], e["IndexNumber"]): e for e in items}


def _next(jf: TestClient, series_id: str | None = None) -> list[tuple[int, int, int | None]]:
    params = {"SeriesId": series_id} if series_id else {}
    items = jf.get("/jellyfin/Shows/NextUp", params=params).json()["Items"]
    return [(e["ParentIndexNumber"], e["IndexNumber"], e.get("IndexNumberEnd")) for e in items]


def test_next_up_over_specials_double_episodes_and_gaps(client: TestClient, jf: TestClient, tmp_path: Path,
                                                       sample_mp4: Path) -> None:
    root = tmp_path / "media"
    for rel in FILES:
        place(sample_mp4, root, rel)
    r = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(root)})
    assert wait_job(client, client.post(f"/api/sources/{r.json()['id']}/scan").json()["id"])["state"] == "done"
    series = jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Series"}).json()["Items"][0]
    sid = series["Id"]
    eps = _episodes(jf, sid)
    assert sorted(eps) == [(0, 1), (1, 1), (1, 2), (1, 3), (1, 5)]
    assert eps[1, 1]["IndexNumberEnd"] == 2
    seasons = jf.get(f"/jellyfin/Shows/{sid}/Seasons").json()["Items"]
    assert [(s["IndexNumber"], s["Name"]) for s in seasons] == [(0, "Specials"), (1, "Season 1")]
    assert _next(jf) == []  # nothing watched yet: no row

    def watch(key: tuple[int, int]) -> None:
        assert jf.post(f"/jellyfin/UserPlayedItems/{eps[key]['Id']}").json()["Played"] is True

    watch((0, 1))  # a special: the show starts at its first regular episode
    assert _next(jf) == [(1, 1, 2)]
    watch((1, 1))  # the double episode: E02 is behind
    assert _next(jf) == [(1, 3, None)] == _next(jf, sid)
    watch((1, 3))  # E04 is missing: E05 comes next
    assert _next(jf) == [(1, 5, None)]
    unplayed = jf.get(f"/jellyfin/Items/{sid}").json()["UserData"]["UnplayedItemCount"]
    assert unplayed == 2  # E02 (its own file) and E05
    watch((1, 5))
    assert _next(jf) == []  # the special and E02 behind are not "next"
    assert jf.delete(f"/jellyfin/UserPlayedItems/{eps[1, 5]['Id']}").json()["Played"] is False
    assert _next(jf) == [(1, 5, None)]
