"""Sidecar subtitles (.srt, .ass, .vtt) written in the legacy code pages of their
languages convert to correct UTF-8 WebVTT: Cyrillic CP1251, Greek CP1253, Hebrew CP1255,
Arabic CP1256, Central European CP1250, Turkish CP1254, Chinese GBK and Big5, Japanese
Shift-JIS, Korean EUC-KR, and still Western European CP1252. With a language in the
file's name (``Film.el.srt``) and without one (``Film.2.srt``: only the text tells)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers import scanned_local

pytestmark = [
    pytest.mark.requires_ffmpeg,
    pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is missing"),
]

CAPS = {"containers": ["mp4", "webm"], "video": ["h264"], "audio": ["aac"]}
FILM = "Films/Babel (2006)/Babel.2006.mp4"

#: language → (encoding, lines of dialogue)
TEXTS = {
    "ru": ("cp1251", ["Где ты был вчера вечером?", "Я ждал тебя до полуночи.",
                      "Всё в порядке, не волнуйся."]),
    "el": ("cp1253", ["Πού ήσουν χθες το βράδυ;", "Σε περίμενα μέχρι τα μεσάνυχτα.",
                      "Όλα καλά, μην ανησυχείς."]),
    "he": ("cp1255", ["איפה היית אתמול בערב?", "חיכיתי לך עד חצות.", "הכול בסדר, אל תדאג."]),
    "ar": ("cp1256", ["أين كنت مساء أمس؟", "انتظرتك حتى منتصف الليل.",
                      "كل شيء على ما يرام، لا تقلق."]),
    "pl": ("cp1250", ["Gdzie byłeś wczoraj wieczorem?", "Czekałem na ciebie do północy.",
                      "Wszystko w porządku, nie martw się."]),
    "tr": ("cp1254", ["Dün akşam neredeydin?", "Seni gece yarısına kadar bekledim.",
                      "Her şey yolunda, merak etme."]),
    "zh": ("gbk", ["你昨天晚上去哪儿了？", "我一直等你到半夜。", "没事，别担心。"]),
    "cht": ("big5", ["你昨天晚上去哪裡了？", "我一直等你到半夜。", "沒事，別擔心。"]),
    "ja": ("shift_jis", ["昨日の夜はどこにいたの？", "真夜中まで待っていたよ。",
                         "大丈夫、心配しないで。"]),
    "ko": ("euc_kr", ["어젯밤에 어디 있었어?", "자정까지 기다렸어.", "괜찮아, 걱정하지 마."]),
    "fr": ("cp1252", ["Où étais-tu hier soir ?", "Je t'ai attendu jusqu'à minuit.",
                      "Ça va, ne t'inquiète pas."]),
}
#: sidecars whose name says no language: number → language of the text (a longer file)
UNTAGGED = {1: "ru", 2: "el", 3: "he", 4: "pl", 5: "tr", 6: "zh", 7: "cht", 8: "ja", 9: "ko",
            10: "fr", 11: "ar"}


def _srt(lines: list[str], cues: int) -> str:
    out = []
    for i in range(cues):
        out.append(f"{i + 1}\r\n00:00:{i + 1:02d},000 --> 00:00:{i + 1:02d},900\r\n"
                   f"{lines[i % len(lines)]}\r\n\r\n")
    return "".join(out)


def _ass(lines: list[str]) -> str:
    head = ("[Script Info]\r\nScriptType: v4.00+\r\nPlayResX: 384\r\nPlayResY: 288\r\n\r\n"
            "[V4+ Styles]\r\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, "
            "OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, "
            "Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, "
            "Encoding\r\nStyle: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,"
            "1,0,2,10,10,10,0\r\n\r\n[Events]\r\nFormat: Layer, Start, End, Style, Name, MarginL, "
            "MarginR, MarginV, Effect, Text\r\n")
    return head + "".join(f"Dialogue: 0,0:00:0{i + 1}.00,0:00:0{i + 1}.90,Default,,0,0,0,,{line}\r\n"
                          for i, line in enumerate(lines))


def _vtt(lines: list[str]) -> str:
    return "WEBVTT\r\n\r\n" + "".join(f"00:00:0{i + 1}.000 --> 00:00:0{i + 1}.900\r\n{line}\r\n\r\n"
                                      for i, line in enumerate(lines))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, int, dict[str, str]]]:
    root = tmp_path_factory.mktemp("charsets")
    film = root / FILM
    film.parent.mkdir(parents=True)
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=96x54:rate=10",
                    "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", str(film)], check=True, timeout=60)
    stem = film.with_suffix("")
    for lang, (enc, lines) in TEXTS.items():
        Path(f"{stem}.{lang}.srt").write_bytes(_srt(lines, 3).encode(enc))
    for number, lang in UNTAGGED.items():
        enc, lines = TEXTS[lang]
        Path(f"{stem}.{number}.srt").write_bytes(_srt(lines, 40).encode(enc))
    Path(f"{stem}.uk.ass").write_bytes(_ass(["Де ти був учора ввечері?", "Усе гаразд."]).encode("cp1251"))
    Path(f"{stem}.bg.vtt").write_bytes(_vtt(["Къде беше снощи?", "Всичко е наред."]).encode("cp1251"))
    with scanned_local(tmp_path_factory.mktemp("charsets-data"), root) as (_core, client, by_path):
        file_id = by_path[FILM]
        r = client.post(f"/api/library/media-files/{file_id}/playback/plan", json=CAPS)
        assert r.status_code == 200, r.text
        plan = r.json()
        keys = {s["language"] or s["name"]: s["key"] for s in plan["subtitles"]}
        yield client, file_id, {"token": plan["token"], **keys}


def _vtt_text(world: tuple[TestClient, int, dict[str, str]], name: str) -> str:
    client, file_id, keys = world
    r = client.get(f"/api/library/media-files/{file_id}/hls/subs/{keys[name]}.vtt?token={keys['token']}")
    assert r.status_code == 200, r.text
    return r.content.decode("utf-8")


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_a_sidecar_named_with_its_language(world: tuple[TestClient, int, dict[str, str]], lang: str) -> None:
    text = _vtt_text(world, lang)
    for line in TEXTS[lang][1]:
        assert line in text, (lang, text[:300])


@pytest.mark.parametrize("number", sorted(UNTAGGED))
def test_a_sidecar_whose_text_alone_tells(world: tuple[TestClient, int, dict[str, str]], number: int) -> None:
    lang = UNTAGGED[number]
    text = _vtt_text(world, f"Babel.2006.{number}.srt")
    for line in TEXTS[lang][1]:
        assert line in text, (number, lang, text[:300])


def test_ass_and_vtt_sidecars_in_cp1251(world: tuple[TestClient, int, dict[str, str]]) -> None:
    assert "Де ти був учора ввечері?" in _vtt_text(world, "uk")
    assert "Къде беше снощи?" in _vtt_text(world, "bg")
