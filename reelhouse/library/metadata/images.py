"""Cached pictures: posters, backdrops, season posters and episode stills, from TMDB or
from artwork files on a source, kept under ``<data_dir>/images`` and served resized.

Originals are stored as they came (JPEG, PNG or WebP, checked with Pillow) as
``images/orig/<id>.<ext>``; a resized copy ``images/w<width>/<id>.jpg`` is made on
first request for the widths in :data:`WIDTHS` and kept. Pillow's decompression-bomb
guard stays on (images over ~179 Mpixels are refused).
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import warnings
from pathlib import Path

from PIL import Image as PILImage
from PIL import UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import Image, utcnow
from reelhouse.errors import InvalidInput, NotFound

__all__ = ["WIDTHS", "ImageStore"]

log = logging.getLogger(__name__)

#: Widths (pixels) the image endpoint serves besides the original.
WIDTHS = (200, 400, 800)
_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}


class ImageStore:
    """Stores image bytes with a row in ``images`` and hands out (resized) files."""

    def __init__(self, root: Path, sessions: sessionmaker[Session]) -> None:
        self.root = root
        self.sessions = sessions

    def find(self, origin: str, ref: str, size: int | None = None, mtime: float | None = None) -> int | None:
        """The id of a stored image from ``origin``/``ref`` whose origin size and mtime
        are the given ones (both None: any), or None."""
        with self.sessions() as s:
            row = s.scalar(select(Image).where(Image.origin == origin, Image.ref == ref))
            if row is None or not (self.root / row.file).exists():
                return None
            if (size, mtime) != (None, None) and (row.size, row.mtime) != (size, mtime):
                return None
            return row.id

    def put(self, origin: str, ref: str, data: bytes, size: int | None = None,
            mtime: float | None = None) -> int | None:
        """Store ``data`` as the image ``origin``/``ref`` (replacing an older one) and
        return its id; None (with a log line) when ``data`` is no JPEG/PNG/WebP image."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", PILImage.DecompressionBombWarning)
                with PILImage.open(io.BytesIO(data)) as img:
                    fmt = img.format or ""
                    width, height = img.size
                    img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
                PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
            log.warning("ignoring image %s %s: %s", origin, ref, exc)
            return None
        if fmt not in _FORMATS:
            log.warning("ignoring image %s %s: format %s is not served", origin, ref, fmt)
            return None
        ext, content_type = _FORMATS[fmt]
        with self.sessions() as s:
            row = s.scalar(select(Image).where(Image.origin == origin, Image.ref == ref))
            if row is None:
                row = Image(origin=origin, ref=ref, file="", content_type=content_type, width=width,
                            height=height)
                s.add(row)
                try:
                    s.flush()
                except IntegrityError:  # stored by another thread a moment ago
                    s.rollback()
                    row = s.scalar(select(Image).where(Image.origin == origin, Image.ref == ref))
                    assert row is not None
            else:
                self._drop_resized(row.id)
            row.file = f"orig/{row.id}.{ext}"
            row.content_type, row.width, row.height = content_type, width, height
            row.size, row.mtime, row.created_at = size, mtime, utcnow()
            _write(self.root / row.file, data)
            s.commit()
            return row.id

    def file(self, image_id: int, width: int | None = None) -> tuple[Path, str]:
        """(path, content type) of image ``image_id``, ``width`` pixels wide (one of
        :data:`WIDTHS`; None: the original). Never upscales: a width at or above the
        original's serves the original. Raises NotFound, InvalidInput."""
        if width is not None and width not in WIDTHS:
            raise InvalidInput(f"width must be one of {', '.join(map(str, WIDTHS))}")
        with self.sessions() as s:
            row = s.get(Image, image_id)
            if row is None or not row.file:
                raise NotFound(f"no image with id {image_id}")
            original = self.root / row.file
            content_type, orig_width = row.content_type, row.width
        if not original.exists():
            raise NotFound(f"image {image_id} is no longer in the cache")
        if width is None or width >= orig_width:
            return original, content_type
        resized = self.root / f"w{width}" / f"{image_id}.jpg"
        if not resized.exists():
            try:
                with PILImage.open(original) as img:
                    img.draft("RGB", (width, width * 4))  # JPEG: decode at a smaller scale
                    rgb = img.convert("RGB")
                    height = max(1, round(rgb.height * width / rgb.width))
                    out = io.BytesIO()
                    rgb.resize((width, height), PILImage.Resampling.LANCZOS).save(
                        out, "JPEG", quality=85, optimize=True, progressive=True)
            except (OSError, ValueError, PILImage.DecompressionBombError) as exc:
                raise NotFound(f"image {image_id} in the cache cannot be read: {exc}") from exc
            _write(resized, out.getvalue())
        return resized, "image/jpeg"

    def _drop_resized(self, image_id: int) -> None:
        for w in WIDTHS:
            (self.root / f"w{w}" / f"{image_id}.jpg").unlink(missing_ok=True)


def _write(path: Path, data: bytes) -> None:
    """Write atomically (temp file + rename), so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
