"""``reelhouse demo``: a sample library on an embedded FTP server and a local folder.

Everything lives under one folder (``.demo`` by default): the generated clips
(``media/ftp`` served by the embedded FTP server, ``media/local`` added as a local
source), the data dir (database, keys) and the admin password. Running it again reuses
the clips and the library; only the FTP port and password change.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.text import Text

from reelhouse.config import Settings
from reelhouse.core import Core
from reelhouse.db.models import SourceRow
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.demo.media import make_clip
from reelhouse.errors import ConfigError, InvalidInput, NotFound
from reelhouse.sources.registry import SourceSpec

__all__ = ["SAMPLES", "ScanWithProgress", "demo_settings", "make_samples", "run_demo"]

#: (half, path, seconds, width, height, test pattern, tone Hz). Names follow real
#: releases so the scanner's parsing is exercised.
SAMPLES: list[tuple[str, str, int, int, int, str, int]] = [
    ("ftp", "Big Buck Bunny (2008)/Big.Buck.Bunny.2008.1080p.mp4", 60, 640, 360, "testsrc2", 440),
    ("ftp", "The Office (US)/Season 01/The.Office.S01E01.mkv", 30, 640, 360, "smptebars", 523),
    ("ftp", "The Office (US)/Season 01/The.Office.S01E02.mkv", 30, 640, 360, "smptehdbars", 587),
    ("ftp", "Amélie (2001)/Amélie.2001.720p.BluRay.x264.mkv", 30, 640, 272, "rgbtestsrc", 659),
    ("local", "Sintel.2010.720p.mkv", 40, 640, 272, "testsrc", 698),
    ("local", "Tears of Steel (2012)/Tears.of.Steel.2012.1080p.mp4", 30, 640, 360, "yuvtestsrc", 784),
    ("local", "Cosmos Laundromat (2015)/Cosmos.Laundromat.2015.720p.WEB-DL.mp4", 20, 640, 360, "pal100bars", 880),
]


def make_samples(media: Path, console: Console | None = None) -> None:
    """Generate the sample clips under ``media/ftp`` and ``media/local`` (skips existing)."""
    for half, rel, seconds, w, h, pattern, tone in SAMPLES:
        target = media / half / rel
        if target.exists() and target.stat().st_size > 0:
            continue
        if console:
            console.print(f"  making {half}: {rel}")
        tmp = target.with_name(".tmp-" + target.name)
        make_clip(tmp, seconds=seconds, width=w, height=h, pattern=pattern, tone_hz=tone)
        tmp.replace(target)


class _DemoSettings(Settings):
    """Settings from the arguments only: no ``REELHOUSE_*`` variable, no ``REELHOUSE_CONFIG``."""

    arguments_only = True


def demo_settings(data_dir: Path) -> Settings:
    """The demo's settings: its own data dir (SQLite database, keys, store) on loopback,
    whatever the environment says. A shell that names a real server's database
    (``REELHOUSE_DATABASE_URL``, a ``REELHOUSE_CONFIG`` file) made the demo add its
    sources to that library and reset its admin's password. Raises ConfigError."""
    try:
        return _DemoSettings(data_dir=data_dir, host="127.0.0.1")
    except ValueError as exc:  # pydantic's ValidationError
        raise ConfigError(f"demo settings: {exc}") from exc


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.bind((host, 0))  # the port is taken: any free one
    sock.listen(128)
    return sock


def _upsert(core: Core, spec: SourceSpec) -> int:
    assert spec.name is not None
    try:
        row = core.sources.find(spec.name)
    except NotFound:
        return core.sources.create(spec).id
    return core.sources.update(row.id, spec).id


#: Scans sources with progress shown on a console (the CLI's): returns how many failed.
ScanWithProgress = Callable[[Core, list[SourceRow], Console], int]


def run_demo(folder: str, port: int, console: Console, scan_with_progress: ScanWithProgress) -> None:
    """Build the demo and serve it until Ctrl-C; ``scan_with_progress`` scans the two
    sample sources (the CLI passes its progress bar)."""
    from reelhouse.server import make_server

    if not 0 <= port <= 65535:
        raise InvalidInput(f"--port must be 0-65535 (0: any free port), not {port}")
    base = Path(folder).expanduser().resolve()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"--dir {base}: {exc.strerror or exc}") from None
    media = base / "media"
    console.print(Text.assemble(("reelhouse demo", "bold"), f" in {base}"))
    console.print("generating the sample library (first run only)…")
    make_samples(media, console)
    ftp_password = secrets.token_urlsafe(12)
    ftpd = EmbeddedFtpServer(media / "ftp", "demo", ftp_password).start()
    core = Core(demo_settings(base / "data"))
    try:
        ftp_id = _upsert(core, SourceSpec(
            name="Demo FTP", kind="ftp", host="127.0.0.1", port=ftpd.port, username="demo",
            password=ftp_password, tls="none", path=""))
        local_id = _upsert(core, SourceSpec(name="Demo local", kind="local", path=str(media / "local")))
        scan_with_progress(core, [core.sources.get(ftp_id), core.sources.get(local_id)], console)
        pw_file = base / "admin-password.txt"
        if core.users.count() == 0 or not pw_file.exists():
            admin_password = secrets.token_urlsafe(9)
            try:
                core.users.add("admin", admin_password, is_admin=True)
            except Exception:
                core.users.set_password("admin", admin_password)
            pw_file.write_text(admin_password + "\n")
            pw_file.chmod(0o600)
        admin_password = pw_file.read_text().strip()
        sock = _bind("127.0.0.1", port)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        console.print()
        console.print(f"Open {url}", style="bold green")
        console.print(Text.assemble("  log in as ", ("admin", "bold"), " / ", (admin_password, "bold")))
        console.print(f"  FTP source: ftp://demo@127.0.0.1:{ftpd.port}/ (embedded pyftpdlib)")
        console.print("  Ctrl-C to stop")
        server = make_server(core, "127.0.0.1", sock.getsockname()[1])
        server.run(sockets=[sock])
    finally:
        core.close()
        ftpd.stop()
