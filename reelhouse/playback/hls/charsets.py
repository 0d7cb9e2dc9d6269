"""The text of a subtitle file (.srt, .ass, .vtt) whatever its encoding. Pure.

Subtitles made before UTF-8 was the norm are in the legacy code page of their language:
CP1251 Russian, CP1253 Greek, GBK Chinese, Shift-JIS Japanese… :func:`decode_subtitle`
decides, first rule that applies:

1. A byte order mark (UTF-8, UTF-32, UTF-16: Notepad's "Unicode"); without one, UTF-16
   LE or BE when NUL bytes fill most odd (or even) bytes of the head and few of the
   others (:func:`_utf16_without_bom`): text in any legacy code page or UTF-8 has no
   NUL, and a subtitle's digits, ``-->`` and line breaks are ASCII, a NUL beside each
   in UTF-16 (some tools write it without a BOM; it was decoded as a code page with
   its NULs kept, and FFmpeg refused it: a 502).
2. Valid UTF-8 (plain ASCII included): certain enough, as a legacy text is practically
   never valid UTF-8.
3. chardet's detection (its byte-bigram models per language and encoding) among the
   encodings subtitle files come in (:data:`CANDIDATES`, each read as its decode-safe
   superset: GBK as GB18030, Shift-JIS as CP932, EUC-KR as CP949). When the file's name
   names a language (``Film.tr.srt``), a candidate that reads as that language wins
   over a better-scored one if it scores at least half as well: one short cue cannot
   tell CP1254 Turkish from CP1252. And when chardet is unsure of everything (best
   confidence under 0.1) and its best encoding is not one chardet's registry gives that
   language, the hinted candidate wins whatever it scores: chardet reads a latin-1
   ``Ça déjà vu`` as CP1251 Macedonian at 0.057 (``Зa dйjа vu``).
   Unsure and without a hint, the first candidate (in chardet's order) whose text has no
   word written in two scripts wins: ``Зa`` (Cyrillic Ze, Latin a) or ``Tsch晧`` is no
   word of any language, and short cues are what forced-subtitle files hold. Unsure,
   with a hint and no result read as that language, the first candidate in one of the
   language's code pages (chardet's registry) wins.
   Last, a choice whose text holds a character no dialogue holds (a C1 control, ``¤``,
   ``¦``) gives way to the first candidate whose text holds none and mixes no scripts
   (of the hinted language's code pages first): Latin-9's ``5 €`` read as CP1250's
   ``5 ¤``. Latin-9 (ISO-8859-15) counts only where CP1252's reading has such a
   character, so ``It´s`` stays CP1252's.
4. CP1252 when nothing fits (a byte it lacks becomes U+FFFD): the only guess before.

chardet 7 rather than charset-normalizer: on subtitles of three to forty cues,
charset-normalizer read French CP1252 as CP1257 (``ù`` as ``ł``) and Hebrew CP1255 as
CP1251, ties its language measure could not break; chardet read every one right
(tests/playback/hls/test_charsets.py).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Mapping

import babelfish  # type: ignore[import-untyped]
import chardet
from chardet.registry import REGISTRY, lookup_encoding

__all__ = ["CANDIDATES", "decode_subtitle", "subtitle_encoding"]

#: The encodings looked for (chardet's names): Windows code pages, the CJK ones, and the
#: ISO and KOI8 pages some Linux-made subtitles use.
CANDIDATES = ("cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257",
              "cp1258", "cp874", "gb18030", "big5", "cp932", "euc-jp", "cp949", "iso-8859-2",
              "iso-8859-7", "iso-8859-15", "koi8-r", "koi8-u")

#: A hinted candidate wins if its confidence is at least this share of the best's.
_HINT_SHARE = 0.5

#: Below this best confidence chardet is guessing (one short cue): the name's language wins.
_UNSURE = 0.1

#: Tags in sidecar names that are no ISO 639 code babelfish knows.
_TAGS = {"chs": "zh", "cht": "zh", "iw": "he", "jp": "ja", "pob": "pt", "scc": "sr"}

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def _alpha2(tag: str | None) -> str | None:
    """The ISO 639-1 code of a sidecar's language tag (``fre``, ``el``, ``cht``, the
    language of ``pt-br``), or None."""
    tag = (tag or "").lower().replace("_", "-")
    if tag not in _TAGS:
        tag = tag.partition("-")[0]
    if tag in _TAGS:
        return _TAGS[tag]
    try:
        if len(tag) == 2:
            return str(babelfish.Language.fromalpha2(tag).alpha2)
        if len(tag) == 3:
            try:
                return str(babelfish.Language(tag).alpha2)
            except ValueError:
                return str(babelfish.Language.fromalpha3b(tag).alpha2)
    except (ValueError, babelfish.Error):
        return None
    return None


def _is_unsure(best: Mapping[str, object]) -> bool:
    """Whether chardet's ``best`` guess is a guess (confidence under :data:`_UNSURE`)."""
    confidence = best["confidence"]
    return isinstance(confidence, float) and confidence < _UNSURE


_WORD = re.compile(r"[^\W\d_]{2,}")


def _script(char: str) -> str:
    """The script of a letter by its Unicode name's first word (``LATIN``, ``CYRILLIC``,
    ``CJK``, ``HIRAGANA`` …)."""
    return unicodedata.name(char, "?").split(" ", 1)[0]


#: Runs of text without spaces or ASCII punctuation (a word with the signs inside it).
_TOKEN = re.compile(r"[^\s!-/:-@\[-`{-~]{2,}")
#: Scripts whose signs (not letters: Thai ``๛``, Arabic ``،``, CJK ``。``) tell the script
#: as its letters do; a sign of these inside a word of another script is a misreading.
_SIGN_SCRIPTS = frozenset({"THAI", "LAO", "ARABIC", "HEBREW", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "CYRILLIC",
                           "GREEK", "ARMENIAN", "GEORGIAN", "KHMER", "DEVANAGARI"})
_LONE_LETTER = re.compile(r"(?<![^\W\d_])[^\W\d_](?![^\W\d_])")


def _mixes_scripts(data: bytes, encoding: str) -> bool:
    """Whether ``data`` read as ``encoding`` has a word whose letters (or signs of
    :data:`_SIGN_SCRIPTS`) are of two scripts (``T๛z``: CP1250's ``Tűz`` read as Thai
    CP874), or a lone letter of another script in a Latin text (``5 ค``: Latin-9's
    ``€`` read as CP874)."""
    try:
        text = data.decode(encoding, errors="replace")
    except LookupError:
        return True
    if any(len({_script(c) for c in word}) > 1 for word in _WORD.findall(text)):
        return True
    for token in _TOKEN.findall(text):  # a script's sign inside a word of another: "T๛z"
        scripts = {script for c in token if (script := _script(c)) in _SIGN_SCRIPTS or c.isalpha()}
        if len(scripts) > 1:
            return True
    lone = {_script(c) for c in _LONE_LETTER.findall(text)} - {"LATIN"}
    return bool(lone) and any(_script(c) == "LATIN" for w in _WORD.findall(text) for c in w)


#: Characters no dialogue holds, the sign of a wrong code page: C1 controls (a CP1252
#: curly quote read as ISO-8859-x), the generic currency sign ``¤`` and the broken bar
#: ``¦`` (Latin-9's ``€`` and ``Š`` read as CP1252, CP1250 or CP1257), a fraction inside
#: a word (Latin-9's ``Œuf`` read as CP1252's ``¼uf``).
_IMPLAUSIBLE = re.compile("[\x80-\x9f\u00a4\u00a6]|(?<=[^\\W\\d_])[¼½¾]|[¼½¾](?=[^\\W\\d_])")


def _implausible(data: bytes, encoding: str) -> bool:
    """Whether ``data`` read as ``encoding`` holds a character no dialogue holds
    (:data:`_IMPLAUSIBLE`). Latin-9 (ISO-8859-15) is CP1252 but for eight bytes: it is
    plausible only where the CP1252 reading is not (``It´s`` stays CP1252's, ``5 €``
    needs Latin-9)."""
    name = lookup_encoding(encoding)
    if name == lookup_encoding("iso-8859-15") and not _implausible(data, "cp1252"):
        return True
    try:
        return _IMPLAUSIBLE.search(data.decode(encoding, errors="replace")) is not None
    except LookupError:
        return True


def _speaks(r: Mapping[str, object], hint: str) -> bool:
    """Whether chardet's result ``r`` reads as the language ``hint``, or is in an
    encoding chardet's registry lists for that language."""
    if r["language"] == hint:
        return True
    name = lookup_encoding(str(r["encoding"]))
    return name is not None and hint in REGISTRY[name].languages


def _unsure_and_foreign(best: Mapping[str, object], hint: str) -> bool:
    """Whether chardet's ``best`` guess is unsure (confidence under :data:`_UNSURE`) and
    in an encoding its registry does not list for the language ``hint`` (ISO 639-1)."""
    if not _is_unsure(best):
        return False
    name = lookup_encoding(str(best["encoding"]))
    return name is None or hint not in REGISTRY[name].languages


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the first 4 KiB of ``data`` read as UTF-16
    without a byte order mark: over half of the odd (LE) or even (BE) bytes are NUL and
    under a tenth of the others; else None."""
    head = data[:4096]
    if len(head) < 8 or b"\x00" not in head:
        return None
    even, odd = head[0::2].count(0) / len(head[0::2]), head[1::2].count(0) / len(head[1::2])
    if odd > 0.5 and even < 0.1:
        return "utf-16-le"
    if even > 0.5 and odd < 0.1:
        return "utf-16-be"
    return None


def subtitle_encoding(data: bytes, language: str | None = None) -> str:
    """The codec name :func:`decode_subtitle` decodes ``data`` with (rules in the module
    doc); ``language``: the ISO 639 tag in the file's name, if any."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if (wide := _utf16_without_bom(data)) is not None:
        return wide
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    found = [r for r in chardet.detect_all(data, include_encodings=CANDIDATES, prefer_superset=True,
                                           ignore_threshold=True) if r["encoding"]]
    if not found:
        return "cp1252"
    best = found[0]
    hint = _alpha2(language)
    if hint is None and _is_unsure(best):
        best = next((r for r in found if not _mixes_scripts(data, str(r["encoding"]))), best)
    if hint is not None:
        foreign = _unsure_and_foreign(best, hint)
        for r in found:
            if r["language"] == hint and (r["confidence"] >= _HINT_SHARE * best["confidence"] or foreign):
                best = r
                break
        else:
            if foreign:  # no result reads as the language: the first in one of its code pages
                best = next((r for r in found if _speaks(r, hint) and not _implausible(data, str(r["encoding"]))),
                            best)
    if _implausible(data, str(best["encoding"])):
        best = next((r for r in found if not _implausible(data, str(r["encoding"]))
                     and not _mixes_scripts(data, str(r["encoding"])) and (hint is None or _speaks(r, hint))),
                    next((r for r in found if not _implausible(data, str(r["encoding"]))
                          and not _mixes_scripts(data, str(r["encoding"]))), best))
    encoding = best["encoding"]
    assert encoding is not None
    return encoding


def decode_subtitle(data: bytes, language: str | None = None) -> str:
    """The text of a subtitle file's bytes ``data``, in whatever encoding it was written
    (module doc); ``language``: the ISO 639 tag in the file's name (``el`` of
    ``Film.el.srt``) or ``None``. Undecodable bytes become U+FFFD; never raises."""
    encoding = subtitle_encoding(data, language)
    try:
        return data.decode(encoding, errors="replace")  # (a BOM's codec drops the BOM)
    except LookupError:  # a name this Python lacks: never for CANDIDATES
        return data.decode("cp1252", errors="replace")
