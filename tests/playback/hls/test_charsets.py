"""decode_subtitle: real dialogue in each legacy code page, byte order marks, UTF-8 kept
as it is, the language in the file's name breaking a tie, and never an exception."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelhouse.playback.hls.charsets import decode_subtitle, subtitle_encoding

#: (language tag, encoding, dialogue)
CASES = [
    ("ru", "cp1251", "Где ты был вчера вечером? Я ждал тебя до полуночи."),
    ("uk", "cp1251", "Де ти був учора ввечері? Я чекав на тебе до опівночі."),
    ("bg", "cp1251", "Къде беше снощи? Чаках те до полунощ."),
    ("el", "cp1253", "Πού ήσουν χθες το βράδυ; Σε περίμενα μέχρι τα μεσάνυχτα."),
    ("he", "cp1255", "איפה היית אתמול בערב? חיכיתי לך עד חצות."),
    ("ar", "cp1256", "أين كنت مساء أمس؟ انتظرتك حتى منتصف الليل."),
    ("pl", "cp1250", "Gdzie byłeś wczoraj wieczorem? Czekałem na ciebie do północy."),
    ("cs", "cp1250", "Kde jsi byl včera večer? Čekal jsem na tebe až do půlnoci."),
    ("hu", "cp1250", "Hol voltál tegnap este? Éjfélig vártalak rád."),
    ("tr", "cp1254", "Dün akşam neredeydin? Seni gece yarısına kadar bekledim."),
    ("zh", "gbk", "你昨天晚上去哪儿了？我一直等你到半夜。"),
    ("cht", "big5", "你昨天晚上去哪裡了？我一直等你到半夜。"),
    ("ja", "shift_jis", "昨日の夜はどこにいたの？真夜中まで待っていたよ。"),
    ("ko", "euc_kr", "어젯밤에 어디 있었어? 자정까지 기다렸어."),
    ("fr", "cp1252", "Où étais-tu hier soir ? Je t'ai attendu jusqu'à minuit."),
    ("de", "cp1252", "Wo warst du gestern Abend? Ich habe bis Mitternacht gewartet."),
    ("es", "cp1252", "¿Dónde estabas anoche? Te esperé hasta la medianoche."),
]


def _srt(line: str, cues: int = 3) -> str:
    return "".join(f"{i + 1}\r\n00:00:{i + 1:02d},000 --> 00:00:{i + 1:02d},900\r\n{line}\r\n\r\n"
                   for i in range(cues))


@pytest.mark.parametrize(("tag", "encoding", "line"), CASES)
def test_each_code_page_with_and_without_the_language_tag(tag: str, encoding: str, line: str) -> None:
    text = _srt(line)
    data = text.encode(encoding)
    assert decode_subtitle(data, tag) == text
    assert decode_subtitle(data) == text


def test_one_short_cue_needs_the_name_to_tell_turkish_from_western() -> None:
    text = _srt("Dün akşam neredeydin?", 1)
    assert decode_subtitle(text.encode("cp1254"), "tr") == text
    assert decode_subtitle(text.encode("cp1254"), "tur") == text
    # a wrong tag does not override what the text plainly is
    russian = _srt("Где ты был вчера вечером? Я ждал тебя до полуночи.")
    assert decode_subtitle(russian.encode("cp1251"), "en") == russian


#: one short Western cue chardet reads best as another script (CP1251 Macedonian, Big5),
#: each at a confidence under 0.06: the language in the file's name must decide.
SHORT_WESTERN = [("fr", "Ça déjà vu"), ("it", "Perché è così"), ("fr", "Élève"),
                 ("de", "Tschüß"), ("es", "¿Qué pasó, niño?")]


@pytest.mark.parametrize(("tag", "line"), SHORT_WESTERN)
def test_one_short_western_cue_is_read_as_its_named_language(tag: str, line: str) -> None:
    text = _srt(line, 1)
    assert decode_subtitle(text.encode("latin-1"), tag) == text


@pytest.mark.parametrize("line", ["Ça déjà vu", "Tschüß", "Naïve Ça"])
def test_a_short_untagged_cue_is_not_read_as_mixed_scripts(line: str) -> None:
    """A forced-subtitle file of a few short cues, latin-1, named without a language
    (``Film.forced.srt``): chardet is unsure (< 0.1) and its best guesses make words of
    two scripts (``Зa``, ``Tsch晧``), which no language writes. (One Latin code page for
    another, ``così`` as CP1250 ``cosě``, is still beyond telling without the name.)"""
    text = _srt(line, 2)
    assert decode_subtitle(text.encode("latin-1")) == text


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_byte_order_marks(encoding: str) -> None:
    text = _srt("Grüße — Где ты был? 你好")
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    assert decode_subtitle(data) == text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("line", ["Grüße aus Köln", "plain ascii", "Где ты был? 你好"])
def test_utf16_without_a_byte_order_mark(encoding: str, line: str) -> None:
    """Some tools write UTF-16 with no BOM: it was read as a code page (or, all ASCII,
    as UTF-8) with its NUL bytes kept, and FFmpeg refused the text (a 502)."""
    text = _srt(line)
    assert subtitle_encoding(text.encode(encoding)) == encoding
    assert decode_subtitle(text.encode(encoding), "de") == text


def test_utf8_and_ascii_stay_utf8() -> None:
    assert subtitle_encoding(_srt("plain ascii").encode()) == "utf-8"
    assert subtitle_encoding(_srt("Café crème").encode()) == "utf-8"
    assert decode_subtitle(b"") == ""


@given(st.binary(max_size=2000), st.sampled_from([None, "en", "ru", "zz", "xyz", "1"]))
def test_never_raises(data: bytes, tag: str | None) -> None:
    assert isinstance(decode_subtitle(data, tag), str)


@given(st.text(max_size=300))
def test_valid_utf8_round_trips(text: str) -> None:
    # a leading U+FEFF is a byte order mark, dropped once
    assert decode_subtitle(text.encode("utf-8")) == text.removeprefix("\ufeff")


#: (language tag, encoding, one short cue): Central European CP1250, CP1252's curly
#: quotes and dashes, ISO-8859-15's euro sign and Š/Ž (Latin-9, Linux-made subtitles).
SHORT_LATIN = [
    ("cs", "cp1250", "Ještě ne."), ("cs", "cp1250", "Děkuji, pane."), ("cs", "cp1250", "Žluťoučký kůň"),
    ("pl", "cp1250", "Dziękuję bardzo."), ("pl", "cp1250", "Cześć, Łukasz!"), ("pl", "cp1250", "Zażółć gęślą jaźń"),
    ("sk", "cp1250", "Ďakujem, ťava."), ("hu", "cp1250", "Köszönöm szépen, Ödön."),
    ("hr", "cp1250", "Hvala, čovječe."), ("sl", "cp1250", "Kje si, Žiga?"),
    ("en", "cp1252", "“Hello,” she said — ‘really’…"), ("en", "cp1252", "It’s fine."),
    ("en", "cp1252", "It´s fine, isn´t it?"),  # an acute accent for an apostrophe stays one
    ("fr", "cp1252", "« Œuvre » – l’été"), ("de", "cp1252", "„Schön“, sagte er."),
    ("fr", "iso-8859-15", "Ça coûte 5 €."), ("de", "iso-8859-15", "Das kostet 10 €."),
    ("en", "iso-8859-15", "Price: 5 €"), ("fi", "iso-8859-15", "Šakki ja Žanna"),
    ("et", "iso-8859-15", "Šokolaad maksab 3 €"),
]


@pytest.mark.parametrize("cues", [1, 3])
@pytest.mark.parametrize(("tag", "encoding", "line"), SHORT_LATIN)
def test_short_latin_cues_in_each_latin_code_page(tag: str, encoding: str, line: str, cues: int) -> None:
    """chardet cannot tell one Latin code page from another on a cue or three (its
    confidences under 0.05): the euro sign of Latin-9 read as ``¤`` (CP1250) or ``ค``
    (Thai CP874). A text with ``¤``, ``¦`` or a C1 control character is no dialogue."""
    text = _srt(line, cues)
    data = text.encode(encoding)
    assert decode_subtitle(data, tag) == text
    assert decode_subtitle(data) == text


def test_thai_keeps_its_letters() -> None:
    text = _srt("คุณไปไหนมาเมื่อคืน ฉันรอคุณจนเที่ยงคืน", 3)
    assert decode_subtitle(text.encode("cp874"), "th") == text
    assert decode_subtitle(text.encode("cp874")) == text


@pytest.mark.parametrize(("tag", "encoding", "line"), [
    ("fr", "iso-8859-15", "Œuf"),  # CP1252 read "¼uf": a fraction inside a word
    ("fr", "iso-8859-15", "Un œuf, s'il vous plaît."),
    (None, "cp1250", "Tűz!"),  # CP874 read "T๛z!": a Thai sign inside a Latin word
    ("hu", "cp1250", "Tűz! Gyorsan!"),  # untagged, "Tûz" (CP1252) is as likely
])
def test_no_fraction_or_foreign_sign_inside_a_word(tag: str | None, encoding: str, line: str) -> None:
    for cues in (1, 2):
        text = _srt(line, cues)
        assert decode_subtitle(text.encode(encoding), tag) == text


@pytest.mark.parametrize(("tag", "line"), [("pl-PL", "Tak, śpię."), ("pl-pl", "Żółw"), ("cs-CZ", "Řekni mi.")])
def test_a_tag_with_a_region_hints_its_language(tag: str, line: str) -> None:
    text = _srt(line, 1)
    assert decode_subtitle(text.encode("cp1250"), tag) == text
