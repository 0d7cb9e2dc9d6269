"""Anamorphic video through the official TypeScript SDK: a DVD's 720x576 picture shown
16:9 reads ``AspectRatio`` 16:9 (the display ratio, from the sample aspect ratio the
probe keeps), not 5:4 (its pixel size), with ``Width``/``Height`` the stored pixels and
``IsAnamorphic`` true, as Jellyfin's ProbeResultNormalizer reports it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jellyfin.test_sdk_calls import sdk

from reelhouse.demo.media import ffmpeg_exe

from helpers import scan_local

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.requires_node, pytest.mark.usefixtures("jellyfin_sdk")]


def _clip(path: Path, *video_args: str) -> None:
    """A 2 s 720x576 H.264 clip written with ``video_args`` (the pixel shape)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=720x576:rate=25",
                    "-t", "2", *video_args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    str(path)], check=True, capture_output=True, timeout=120)


def test_anamorphic_video_reads_its_display_aspect_ratio(server: str, client: TestClient, tmp_path: Path) -> None:
    root = tmp_path / "media"
    _clip(root / "Films/Wide Picture (1999)/Wide.Picture.1999.mkv", "-vf", "setsar=64/45")  # PAL 16:9
    _clip(root / "Films/Tall Picture (1998)/Tall.Picture.1998.mp4", "-aspect", "4:3")  # PAL 4:3, SAR 16:15
    _clip(root / "Films/Square (1997)/Square.1997.mp4")  # square pixels: 5:4
    scan_local(client, "disk", root)
    got = sdk(server, ("items", "getItems", {"userId": "$userId", "recursive": True, "includeItemTypes": ["Movie"],
                                             "fields": ["MediaStreams", "MediaSources"], "sortBy": ["SortName"]}))
    assert got[0][0] == 200, got
    video = {i["Name"]: next(st for st in i["MediaStreams"] if st["Type"] == "Video") for i in got[0][1]["Items"]}
    facts = {name: (st["Width"], st["Height"], st["AspectRatio"], st.get("IsAnamorphic")) for name, st in video.items()}
    assert facts == {"Square": (720, 576, "5:4", False), "Tall Picture": (720, 576, "4:3", True),
                     "Wide Picture": (720, 576, "16:9", True)}
