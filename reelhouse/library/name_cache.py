"""A memo of :func:`~reelhouse.library.naming.parse_media_path` for one scan: the
episodes of a show share one parse (issue 14: guessit costs ~20 ms a name, about 80 % of
a first scan's time).

Names that differ only in their one ``SxxEyy`` token (``Show.S01E01.720p.mkv``,
``Show.S01E02.720p.mkv``, same folder) are parsed once: the key is the path with that
token's numbers masked, and a hit is the first parse with its season and episode
replaced. A name with no or several such tokens, a parse that did not read exactly
those numbers, or a multi-episode file is parsed on its own (never cached). The
parser stays the naming module's; this only decides when a parse can be reused.
"""

from __future__ import annotations

import posixpath
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

from reelhouse.library.naming import Parsed, parse_media_path

__all__ = ["NameCache"]

_EPISODE = re.compile(r"(?<![A-Za-z0-9])[Ss](\d{1,2})[Ee](\d{1,3})(?![0-9A-Za-z])")


class NameCache:
    """``cache(path) → Parsed``, equal to ``parse(path)``; ``size``: templates kept
    (least recently used out). Not thread-safe: one per scan."""

    def __init__(self, parse: Callable[[str], Parsed] = parse_media_path, size: int = 4096) -> None:
        self.parse = parse
        self.size = size
        self._memo: OrderedDict[str, Parsed] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __call__(self, path: str) -> Parsed:
        folder, name = posixpath.split(path)
        found = list(_EPISODE.finditer(name))
        if len(found) != 1:
            return self.parse(path)
        m = found[0]
        season, episode = int(m.group(1)), int(m.group(2))
        key = f"{folder}/{name[:m.start()]}\0{name[m.end():]}"
        hit = self._memo.get(key)
        if hit is not None:
            self.hits += 1
            self._memo.move_to_end(key)
            return replace(hit, season=season, episode=episode)
        self.misses += 1
        parsed = self.parse(path)
        if (parsed.kind == "episode" and parsed.season == season and parsed.episode == episode
                and parsed.episode_end is None and parsed.air_date is None):
            self._memo[key] = parsed
            if len(self._memo) > self.size:
                self._memo.popitem(last=False)
        return parsed
