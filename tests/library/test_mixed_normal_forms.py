"""A film copied from a Mac (its name in NFD: ``e`` + U+0301) whose subtitle, NFO and
poster were made on Linux or Windows (NFC: ``é``), on a local disk and on pure-ftpd
(which sends names as bytes as they are on disk). The two names look the same to a
person; they are one film's files: the plan lists the sidecar subtitle, the NFO's title
and the poster are the film's. Both were missed before (sidecars matched by exact
lower-cased stem)."""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelhouse.core import Core
from reelhouse.sources.registry import SourceSpec

from helpers import PURE_PASSWORD, PURE_USER, pure_ftpd

pytestmark = pytest.mark.requires_ffmpeg

CAPS = {"containers": ["mp4", "webm"], "video": ["h264", "vp9"], "audio": ["aac", "opus"]}
FILM = unicodedata.normalize("NFD", "Films/Café (2010)/Café (2010).mp4")
#: the sidecars' path: the film's (NFD) folder, an NFC stem
NFC = unicodedata.normalize("NFD", "Films/Café (2010)/") + unicodedata.normalize("NFC", "Café (2010)")
SRT = "1\n00:00:00,500 --> 00:00:01,500\nUn café\n"
NFO = "<movie><title>Le Café</title><year>2010</year></movie>"


def _fill(root: Path, clip: Path, poster: Path) -> None:
    (root / FILM).parent.mkdir(parents=True)
    shutil.copyfile(clip, root / FILM)
    (root / f"{NFC}.fr.srt").write_text(SRT)
    (root / f"{NFC}.nfo").write_text(NFO)
    shutil.copyfile(poster, root / f"{NFC}-poster.png")


@pytest.fixture(scope="module")
def poster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image

    path = tmp_path_factory.mktemp("poster") / "poster.png"
    Image.new("RGB", (60, 90), "red").save(path)
    return path


@pytest.fixture(params=["local", pytest.param("pure-ftpd", marks=pytest.mark.ftpd)])
def spec(request: pytest.FixtureRequest, tmp_path: Path, sample_mp4: Path, poster: Path) -> Iterator[SourceSpec]:
    if request.param == "local":
        _fill(tmp_path / "disk", sample_mp4, poster)
        yield SourceSpec(name="disk", kind="local", path=str(tmp_path / "disk"))
        return
    with pure_ftpd(tmp_path, lambda home: _fill(home, sample_mp4, poster)) as (port, _):
        yield SourceSpec(name="pure", kind="ftp", host="127.0.0.1", port=port, username=PURE_USER,
                         password=PURE_PASSWORD)


def test_nfc_sidecars_of_an_nfd_film(spec: SourceSpec, core: Core, client: TestClient) -> None:
    sid = core.sources.create(spec).id
    report = core.jobs.run_scan_now(sid)
    assert not report.errors, report.errors
    [movie] = client.get("/api/library/movies").json()["items"]
    assert movie["title"] == "Le Café", movie
    assert movie["poster_url"], movie
    image = client.get(movie["poster_url"])
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/")

    [file] = client.get("/api/library/media-files").json()["items"]
    plan = client.post(f"/api/library/media-files/{file['id']}/playback/plan", json=CAPS)
    assert plan.status_code == 200, plan.text
    assert [(s["key"], s["language"]) for s in plan.json()["subtitles"]] == [("x0", "fr")], plan.text
    token = plan.json()["token"]
    vtt = client.get(f"/api/library/media-files/{file['id']}/hls/subs/x0.vtt?token={token}")
    assert vtt.status_code == 200 and "Un café" in vtt.text, vtt.text
