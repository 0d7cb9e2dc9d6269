"""A party whose play queue holds a file of a source a user was not granted is hidden
from that user on every door, as one on such a file is (Jellyfin's
Group.HasAccessToPlayQueue). The queue answers every member with the titles of its
files: a user restricted to one source joined a party by its code and read the title
(and media file id) of a film on a source they were never granted."""

from __future__ import annotations

from fastapi.testclient import TestClient

from reelhouse.auth.users import UserChange
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, SourceRow

from helpers import session_token


def _hidden_film(core: Core) -> int:
    """A film "Secret" on a source of its own; its media file id."""
    with core.sessions() as s:
        src = SourceRow(name="secret", kind="local", path="/secret")
        movie = Movie(title="Secret", year=2001, match_key="secret-2001")
        s.add_all([src, movie])
        s.flush()
        mf = MediaFile(source_id=src.id, path="Secret.2001.mp4", size=1000, kind="movie", duration=30.0,
                       movie_id=movie.id)
        s.add(mf)
        s.commit()
        return mf.id


def _restrict(core: Core, name: str, media_id: int) -> None:
    """Grant ``name`` only the source of ``media_id``."""
    with core.sessions() as s:
        source_id = s.get(MediaFile, media_id).source_id  # type: ignore[union-attr]
    core.users.update(core.users.by_name(name).id, UserChange(restrict_sources=True, sources=[source_id]))


def _bearer(core: Core, name: str) -> dict[str, str]:
    return {"authorization": f"Bearer {session_token(core, core.users.by_name(name).id)}"}


def test_a_queued_film_of_a_source_not_granted_hides_the_party(core: Core, client: TestClient, anon: TestClient,
                                                              media_id: int) -> None:
    secret = _hidden_film(core)
    _restrict(core, "sam", media_id)
    code = client.post("/api/parties", json={"media_file_id": media_id}).json()["code"]
    queue = client.post(f"/api/parties/{code}/queue", json={"op": "add", "media_file_id": secret})
    assert queue.status_code == 200 and [i["title"] for i in queue.json()["items"]][-1] == "Secret"
    sam = _bearer(core, "sam")
    unknown = anon.get("/api/parties/ZZZZZZ", headers=sam).json()["detail"].replace("ZZZZZZ", code)
    for method, path in [("GET", ""), ("POST", "/join"), ("GET", "/queue"), ("POST", "/leave")]:
        r = anon.request(method, f"/api/parties/{code}{path}", headers=sam)
        assert (r.status_code, r.json()["detail"]) == (404, unknown), (method, path)  # word for word
    page = anon.get(f"/party/{code}", headers=sam)
    assert "No party has this code" in page.text and "Secret" not in page.text
    # alex sees every source: joins and reads the queue with its titles
    alex = _bearer(core, "alex")
    assert anon.post(f"/api/parties/{code}/join", headers=alex).status_code == 200
    assert [i["title"] for i in anon.get(f"/api/parties/{code}/queue", headers=alex).json()["items"]][-1] == "Secret"


def test_a_member_whose_grant_to_a_queued_film_goes_loses_the_party(core: Core, client: TestClient, anon: TestClient,
                                                                   media_id: int) -> None:
    """Sam joined while every source was his; the host queued a film of another source
    (everyone present could see it), then sam was restricted: the party leaves his list,
    the page, the queue and Jellyfin's SyncPlay list, as when its playing file's source goes."""
    secret = _hidden_film(core)
    code = client.post("/api/parties", json={"media_file_id": media_id}).json()["code"]
    sam = _bearer(core, "sam")
    assert anon.post(f"/api/parties/{code}/join", headers=sam).status_code == 200
    assert client.post(f"/api/parties/{code}/queue", json={"op": "add", "media_file_id": secret}).status_code == 200
    jf = {"x-emby-token": session_token(core, core.users.by_name("sam").id)}
    assert [g["GroupName"] for g in anon.get("/jellyfin/SyncPlay/List", headers=jf).json()] == [f"Watch party {code}"]
    assert [p["code"] for p in anon.get("/api/parties", headers=sam).json()] == [code]
    _restrict(core, "sam", media_id)
    assert anon.get("/api/parties", headers=sam).json() == []
    assert anon.get(f"/api/parties/{code}/queue", headers=sam).status_code == 404
    assert code not in anon.get("/party", headers=sam).text
    assert anon.get("/jellyfin/SyncPlay/List", headers=jf).json() == []
