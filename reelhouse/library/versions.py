"""A movie's files grouped into versions ("1080p", "Director's Cut", the parts of a
split film) for the player's choice. Pure: no I/O.

Order as Jellyfin presents alternate versions: the file without a label first, then
labelled versions by resolution (2160p before 1080p before 720p), then by name.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

__all__ = ["VersionFile", "group_versions"]


class VersionFile(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def version(self) -> str | None: ...
    @property
    def part(self) -> int | None: ...
    @property
    def height(self) -> int | None: ...


F = TypeVar("F", bound=VersionFile)


def _resolution(height: int | None) -> str | None:
    if not height:
        return None
    for limit, label in ((1800, "2160p"), (1000, "1080p"), (700, "720p"), (500, "576p")):
        if height >= limit:
            return label
    return "SD"


def _rank(label: str) -> int:
    m = re.search(r"(\d{3,4})[pi]\b|\b(4k)\b", label, re.I)
    if m is None:
        return 0
    return 2160 if m.group(2) else int(m.group(1))


def group_versions(files: Sequence[F]) -> list[tuple[str, list[F]]]:
    """``[(label, files)]``: files with the same version label (or the unlabelled parts
    of a split film) form one version, in part order; each other unlabelled file is a
    version of its own, labelled by its resolution (and name, where two would match)."""
    groups: dict[str, list[F]] = {}
    for f in sorted(files, key=lambda f: (f.part or 0, f.path)):
        if f.version:
            key = "v:" + f.version.casefold()
        elif f.part is not None:
            key = "parts"
        else:
            key = "f:" + f.path
        groups.setdefault(key, []).append(f)
    labelled: list[tuple[str, bool, list[F]]] = []
    for members in groups.values():
        first = members[0]
        explicit = bool(first.version)
        label = first.version or _resolution(first.height) or posixpath.splitext(posixpath.basename(first.path))[0]
        labelled.append((label or "Default", explicit, members))
    counts: dict[str, int] = {}
    for label, _, _ in labelled:
        counts[label] = counts.get(label, 0) + 1
    out = [
        (f"{label} · {posixpath.basename(members[0].path)}" if counts[label] > 1 and not explicit else label,
         explicit, members)
        for label, explicit, members in labelled
    ]
    out.sort(key=lambda v: (v[1], -_rank(v[0]), v[0].casefold()))
    return [(label, members) for label, _, members in out]
