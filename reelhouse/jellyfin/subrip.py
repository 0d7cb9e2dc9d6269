"""WebVTT → SubRip, for clients that ask Jellyfin for ``Stream.srt`` (pure).

reelhouse converts every text subtitle to WebVTT once (playback/hls/subtitles.py); a
SubRip answer is that document rewritten: each cue numbered from 1, its timing as
``HH:MM:SS,mmm --> HH:MM:SS,mmm`` without cue settings, its text lines kept (``<i>``,
``<b>``, ``<u>`` mean the same in both), the WebVTT character references
(``&amp;`` ``&lt;`` ``&gt;`` ``&nbsp;`` …) written as the characters. Blocks without a
timing line (the header, ``NOTE``, ``STYLE``, ``REGION``) and cues without text are
dropped. Sources: the WebVTT spec (W3C, §4 "Syntax"), SubRip as FFmpeg reads and
writes it (libavformat/srtdec.c, srtenc.c).
"""

from __future__ import annotations

import html
import re

__all__ = ["vtt_to_srt"]

_TIME = re.compile(r"(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})")
_BLOCKS = re.compile(r"\n[ \t]*\n")


def _srt_time(text: str) -> str | None:
    m = _TIME.fullmatch(text.strip())
    if m is None:
        return None
    hours, minutes, seconds, ms = m.groups()
    return f"{int(hours or 0):02d}:{minutes}:{seconds},{ms}"


def vtt_to_srt(vtt: str) -> str:
    """The SubRip document of WebVTT ``vtt`` (see the module doc); "" when it has no
    cue. Lines end with LF, every cue with a blank line (as FFmpeg writes SubRip); a
    malformed timing line drops its cue."""
    text = vtt.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    out: list[str] = []
    for block in _BLOCKS.split(text.strip()):
        lines = block.split("\n")
        at = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if at is None or at > 1:  # the header, NOTE, STYLE, REGION (an id is one line)
            continue
        start, _, rest = lines[at].partition("-->")
        begin, end = _srt_time(start), _srt_time((rest.split() or [""])[0])
        cue = [html.unescape(line) for line in lines[at + 1:] if line.strip()]
        if begin is None or end is None or not cue:
            continue
        out.append(f"{len(out) + 1}\n{begin} --> {end}\n" + "\n".join(cue) + "\n\n")
    return "".join(out)
