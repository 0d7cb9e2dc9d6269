"""A fake TMDB: a real HTTP server (``http.server`` in a thread, free loopback port)
replaying the recorded answers in ``tests/library/tmdb_records/`` and serving generated
JPEG images, with scripted faults (429 + Retry-After, 5xx, slow answers).

Use as a context manager::

    with FakeTmdb() as tmdb:
        settings = load_settings(..., **tmdb.settings())
        tmdb.script("/3/search/movie", [(429, {"retry-after": "1"})])
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image

RECORDS = Path(__file__).parent / "library" / "tmdb_records"
API_KEY = "test-key"
_SIZES = {"w780": (780, 1170), "w1280": (1280, 720), "w500": (500, 750), "w200": (200, 300)}
#: A scripted answer: (status, headers) or ("sleep", seconds) before answering normally.
Fault = tuple[Any, Any]


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


class FakeTmdb:
    def __init__(self, records: Path = RECORDS) -> None:
        self.records = records
        self.requests: list[str] = []  # "path?query" of every request, in order
        self.faults: dict[str, list[Fault]] = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"fake-tmdb:{self.port}",
                                       daemon=True)

    # -- control ---------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/3"

    @property
    def image_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/t/p"

    def settings(self, **extra: Any) -> dict[str, Any]:
        """Settings keyword arguments pointing reelhouse at this fake."""
        return {"tmdb_api_key": API_KEY, "tmdb_base_url": self.base_url,
                "tmdb_image_base_url": self.image_base_url, **extra}

    def script(self, path_prefix: str, faults: list[Fault]) -> None:
        """Answer the next requests under ``path_prefix`` with ``faults`` first."""
        with self.lock:
            self.faults.setdefault(path_prefix, []).extend(faults)

    def count(self, prefix: str = "") -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.startswith(prefix))

    def __enter__(self) -> FakeTmdb:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    # -- serving -----------------------------------------------------------------------
    def _fault(self, path: str) -> Fault | None:
        with self.lock:
            for prefix, queue in self.faults.items():
                if path.startswith(prefix) and queue:
                    return queue.pop(0)
        return None

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self.lock:
            self.requests.append(h.path)
        fault = self._fault(url.path)
        if fault is not None:
            if fault[0] == "sleep":
                time.sleep(fault[1])
            else:
                self._send(h, fault[0], {"status_code": 25, "status_message": "scripted"}, fault[1])
                return
        if url.path.startswith("/t/p/"):
            self._image(h, url.path)
            return
        if query.get("api_key") != API_KEY and h.headers.get("authorization") != f"Bearer {API_KEY}":
            self._send(h, 401, {"status_code": 7, "status_message": "Invalid API key."})
            return
        body = self._record(url.path.removeprefix("/3"), query)
        if body is None:
            self._send(h, 404, {"status_code": 34, "status_message": "The resource could not be found."})
        else:
            self._send(h, 200, body)

    def _record(self, path: str, query: dict[str, str]) -> Any:
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["search"] and len(parts) == 2:
            name = f"search_{parts[1]}_{_fold(query.get('query', ''))}.json"
            file = self.records / name
            if not file.exists():
                return {"page": 1, "results": [], "total_pages": 0, "total_results": 0}
            return json.loads(file.read_text())
        name = "_".join(parts) + ".json"
        file = self.records / name
        return json.loads(file.read_text()) if file.exists() else None

    def _image(self, h: BaseHTTPRequestHandler, path: str) -> None:
        _, _, _, size, name = path.split("/", 4)
        width, height = _SIZES.get(size, (600, 900))
        hue = zlib.crc32(name.encode()) % 255
        out = io.BytesIO()
        Image.new("RGB", (width, height), (hue, 90, 255 - hue)).save(out, "JPEG", quality=70)
        data = out.getvalue()
        h.send_response(200)
        h.send_header("content-type", "image/jpeg")
        h.send_header("content-length", str(len(data)))
        h.end_headers()
        with suppress(OSError):
            h.wfile.write(data)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        with suppress(OSError):
            h.send_response(status)
            h.send_header("content-type", "application/json;charset=utf-8")
            h.send_header("content-length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)


def jpeg(width: int = 300, height: int = 450, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A small JPEG (local artwork in tests)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=80)
    return out.getvalue()


def iter_records() -> Iterator[Path]:
    return iter(sorted(RECORDS.glob("*.json")))
