"""Helpers for tests (import as ``from helpers import place, wait_job``)."""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.sources.local import LocalSource
from reelhouse.sources.registry import SourceSpec

FTP_USER, FTP_PASSWORD = "reel", "h0use pass"
PURE_USER, PURE_PASSWORD = "reel", "pure-secret-1"
PG_URL = os.environ.get("REELHOUSE_TEST_POSTGRES_URL", "")
#: ``params`` of a fixture that runs its tests on SQLite and on PostgreSQL (see :func:`core_on`).
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.requires_postgres)]
ADMIN, ADMIN_PASSWORD = "admin", "admin-password"


def place(src: Path, root: Path, rel: str) -> Path:
    """Copy ``src`` to ``root/rel`` (creating folders); returns the new path."""
    dest = root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def random_file(root: Path, rel: str, size: int) -> bytes:
    """Write ``size`` random bytes to ``root/rel`` (its folders made); the bytes. Random
    bytes do not compress, so a stalled reader of a large one really holds its
    connection (loopback buffers hold a few MB)."""
    data = os.urandom(size)
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


_GARBLED = itertools.count(1)


def garbled(size: int) -> bytes:
    """``size`` (≥ 16) bytes that FFmpeg cannot read as a film named .mp4, .mkv, .mov,
    .webm, .avi or .ts (not .m4v: its raw MPEG-4 demuxer takes anything): zeros with a
    serial number at bytes 8–15, so no two calls give the same file (a scan may take a
    same-content file for a moved one). Random bytes will not do: FFmpeg read 2 of 300
    random 200 kB ".mp4" files as LRC lyrics (measured with ffprobe 5.1), and a CI run
    failed on one."""
    return bytes(8) + next(_GARBLED).to_bytes(8, "big") + bytes(size - 16)


def put_garbled(root: Path, rel: str, size: int = 150_000) -> None:
    """Write a :func:`garbled` file of ``size`` bytes at ``root / rel`` (folders made)."""
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(garbled(size))


#: A library of good, garbled and empty files (:func:`unplayable_library`): films "Heat"
#: (good), "Two" (one good and one garbled version), "Garbled", "Hollow" (empty); shows
#: "Good Show" (one good, one garbled episode) and "Broken Show" (garbled).
UNPLAYABLE_GOOD = ["Films/Heat (1995)/Heat (1995).mkv", "Films/Two (2005)/Two.2005.mkv",
                   "Shows/Good Show/Season 01/Good.Show.S01E01.mkv"]
UNPLAYABLE_BROKEN = ["Films/Garbled (2001)/Garbled.2001.mkv", "Films/Two (2005)/Two.2005.1080p.mkv",
                     "Shows/Broken Show/Season 01/Broken.Show.S01E01.mkv",
                     "Shows/Good Show/Season 01/Good.Show.S01E02.mkv"]
UNPLAYABLE_EMPTY = "Films/Hollow (2002)/Hollow.2002.mkv"


def unplayable_library(root: Path, sample: Path) -> None:
    """Fill ``root`` with :data:`UNPLAYABLE_GOOD` (copies of ``sample``),
    :data:`UNPLAYABLE_BROKEN` (garbled) and :data:`UNPLAYABLE_EMPTY` (0 bytes)."""
    for rel in UNPLAYABLE_GOOD:
        place(sample, root, rel)
    for rel in UNPLAYABLE_BROKEN:
        put_garbled(root, rel)
    (root / UNPLAYABLE_EMPTY).parent.mkdir(parents=True, exist_ok=True)
    (root / UNPLAYABLE_EMPTY).write_bytes(b"")


def scan_local(client: TestClient, name: str, root: Path,
               expect: str | None = "done") -> tuple[int, dict[str, object]]:
    """Add the local source ``name`` at ``root`` through the API, scan it and wait for
    the scan, which must end in state ``expect`` (unless ``None``); returns ``(source
    id, the scan job)``."""
    sid = int(client.post("/api/sources", json={"name": name, "kind": "local", "path": str(root)}).json()["id"])
    job = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
    assert expect is None or job["state"] == expect, job
    return sid, job


def log_in(client: TestClient, name: str = ADMIN, password: str = ADMIN_PASSWORD) -> TestClient:
    """Log ``client`` in as ``name`` (``POST /api/auth/login``, which must succeed) and
    send the session's token as a bearer token from then on; returns ``client``."""
    r = client.post("/api/auth/login", json={"username": name, "password": password})
    assert r.status_code == 200, r.text
    client.headers["authorization"] = f"Bearer {r.json()['token']}"
    return client


def wait_job(client: TestClient, job_id: int, timeout: float = 60) -> dict[str, object]:
    """Poll a job until it ended (done, partial, failed, cancelled); returns its JSON."""
    from reelhouse.jobs.board import ENDED

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, object] = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ENDED:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def ftp_connections(port: int) -> int:
    """Established TCP connections from this process to ``port`` (Linux /proc): the
    leak guard's count of FTP connections left open to a test server."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return sum(1 for cols in established_tcp() if cols[2].endswith(f":{port:04X}") and cols[9] in inodes)


def established_tcp() -> Iterator[list[str]]:
    """The columns of every established TCP connection of this network namespace
    (``/proc/net/tcp`` and ``tcp6``: local address, remote address, …, inode at 9)."""
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "01":
                yield cols


def free_port() -> int:
    """A TCP port free on loopback right now, below the kernel's ephemeral range: a
    server stopped and started again on it (or started after its clients) never finds
    it taken by an outgoing connection or by a passive-mode data port, which the kernel
    hands out from the ephemeral range ("Address already in use" flakes)."""
    low = 32768
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    for _ in range(200):
        port = random.randrange(10000, max(low, 10001))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def vsftpd_binary() -> str:
    """vsftpd's path: ``$REELHOUSE_TEST_VSFTPD``, on PATH, or unpacked by .ci/run into
    .ci/vsftpd; skips the test when there is none (a failure under CI=true)."""
    for candidate in (os.environ.get("REELHOUSE_TEST_VSFTPD"), shutil.which("vsftpd"), "/usr/sbin/vsftpd",
                      str(Path(__file__).parents[1] / ".ci/vsftpd/usr/sbin/vsftpd")):
        if candidate and os.path.exists(candidate):
            return candidate
    pytest.skip("vsftpd not found (.ci/run unpacks Debian's vsftpd into .ci/vsftpd)")


@contextmanager
def daemon(argv: list[str], port: int, timeout: float = 30.0) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process (a system FTP daemon) until the block ends; waits until it
    accepts connections on ``port``; :func:`daemon_of` gives its pid meanwhile."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _DAEMONS[port] = proc.pid
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield proc
    finally:
        _DAEMONS.pop(port, None)
        proc.terminate()
        proc.wait(timeout=10)


_DAEMONS: dict[int, int] = {}


def daemon_of(port: int) -> int:
    """The pid of the :func:`daemon` listening on ``port`` (KeyError if none)."""
    return _DAEMONS[port]


def daemon_sessions(port: int) -> int:
    """The session processes (children) of the :func:`daemon` on ``port`` still running."""
    def ppid(proc: Path) -> int:
        try:
            return int((proc / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            return 0

    pid = daemon_of(port)
    return sum(1 for p in Path("/proc").iterdir() if p.name.isdigit() and ppid(p) == pid)


@contextmanager
def vsftpd(folder: Path, anon: Path, *, writable: bool = False, tls: tuple[Path, Path] | None = None,
           options: Mapping[str, str] | None = None, as_nobody: bool = False) -> Iterator[int]:
    """A vsftpd (:func:`vsftpd_binary`, LIST only) on a free loopback port serving
    ``anon`` to anonymous users (no password, not chrooted: paths are relative to the
    login folder) until the block ends; yields the port.

    ``writable``: anonymous uploads, mkdir, rename and delete (where the folders allow:
    vsftpd refuses to serve a world-writable ``anon``, so make a folder in it 0777);
    else every write is answered "550 Permission denied.". ``tls=(cert, key)``: explicit
    FTPS demanded on login and data, with TLS session reuse (``require_ssl_reuse``).
    ``options`` are vsftpd.conf keys set last (e.g. ``{"utf8_filesystem": "NO"}``).
    ``as_nobody``: run as user nobody (root only; ``folder`` and its parents must be
    searchable by nobody), so file modes apply (as root, vsftpd reads everything).
    Writes ``folder/vsftpd.conf`` and ``folder/empty`` (its secure_chroot_dir) and makes
    ``folder`` and ``anon`` 0755, as vsftpd demands."""
    binary = vsftpd_binary()
    (folder / "empty").mkdir(exist_ok=True)
    folder.chmod(0o755)
    anon.chmod(0o755)
    port = free_port()
    low = random.Random(port).randrange(42000, 58000)
    conf = {
        "listen": "YES", "listen_address": "127.0.0.1", "listen_port": str(port),
        "anonymous_enable": "YES", "no_anon_password": "YES", "anon_root": str(anon), "local_enable": "NO",
        "pasv_enable": "YES", "pasv_min_port": str(low), "pasv_max_port": str(low + 100),
        "secure_chroot_dir": str(folder / "empty"), "run_as_launching_user": "YES", "seccomp_sandbox": "NO",
        "background": "NO", "utf8_filesystem": "YES",
        "ftp_username": "nobody" if os.geteuid() == 0 else os.environ.get("USER", "nobody"),
        "write_enable": "NO",
    }
    if writable:
        conf.update(write_enable="YES", anon_upload_enable="YES", anon_mkdir_write_enable="YES",
                    anon_other_write_enable="YES", anon_umask="022")
    if tls is not None:
        conf.update(ssl_enable="YES", rsa_cert_file=str(tls[0]), rsa_private_key_file=str(tls[1]),
                    allow_anon_ssl="YES", force_anon_logins_ssl="YES", force_anon_data_ssl="YES",
                    require_ssl_reuse="YES")
    conf.update(options or {})
    path = folder / "vsftpd.conf"
    path.write_text("".join(f"{k}={v}\n" for k, v in conf.items()))
    argv = [binary, str(path)]
    if as_nobody:  # vsftpd reads a config file owned by root or by the user it runs as
        if os.geteuid() != 0:
            pytest.skip("vsftpd as nobody needs root")
        os.chown(path, 65534, -1)
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    with daemon(argv, port):
        yield port


@contextmanager
def pure_ftpd(folder: Path, fill: Callable[[Path], None] = lambda home: None,
              args: Sequence[str] = ()) -> Iterator[tuple[int, Path]]:
    """A pure-ftpd (MLSD, MFMT) on a free loopback port with one virtual user
    (PURE_USER / PURE_PASSWORD) whose home ``folder/home`` ``fill`` fills first, until the
    block ends; yields ``(port, home)``. ``args`` go to pure-ftpd last (e.g. ``-L 20:5``:
    listings cut at 20 entries). Skips the test where pure-ftpd is not installed or this
    is not root (virtual users run as nobody). The password's hash is SHA-512 crypt
    (pure-pw's default, argon2 with t=1023, costs ~10 s a login here)."""
    pure, pw = shutil.which("pure-ftpd") or "/usr/sbin/pure-ftpd", shutil.which("pure-pw") or "/usr/bin/pure-pw"
    if not (os.path.exists(pure) and os.path.exists(pw)):
        pytest.skip("pure-ftpd is not installed (apt-get install pure-ftpd)")
    if os.geteuid() != 0:
        pytest.skip("pure-ftpd with virtual users needs root")
    home = folder / "home"
    home.mkdir()
    fill(home)
    subprocess.run(["chown", "-R", "nobody:nogroup", str(home)], check=True)
    folder.chmod(0o755)
    passwd, pdb = folder / "passwd", folder / "pure.pdb"
    subprocess.run([pw, "useradd", PURE_USER, "-u", "nobody", "-g", "nogroup", "-d", str(home), "-f",
                    str(passwd)], input=f"{PURE_PASSWORD}\n{PURE_PASSWORD}\n", text=True, check=True,
                   capture_output=True)
    openssl = shutil.which("openssl")
    if openssl:
        fast = subprocess.run([openssl, "passwd", "-6", PURE_PASSWORD], capture_output=True, text=True,
                              check=True).stdout.strip()
        user, _, rest = passwd.read_text().partition(":")
        passwd.write_text(f"{user}:{fast}:{rest.partition(':')[2]}")
    subprocess.run([pw, "mkdb", str(pdb), "-f", str(passwd)], check=True, capture_output=True)
    port = free_port()
    low = random.Random(port).randrange(41000, 59000)
    argv = [pure, "-S", f"127.0.0.1,{port}", "-l", f"puredb:{pdb}", "-E", "-H",
            "-u", "1", "-p", f"{low}:{low + 200}", "-c", "20", "-C", "20", *args]
    with daemon(argv, port):
        yield port, home


def stop_without_leaks(server: EmbeddedFtpServer, wait: float = 15.0) -> None:
    """Stop a test FTP server, failing if this process still holds a connection to it
    after ``wait`` seconds (the leak guard)."""
    deadline = time.monotonic() + wait
    while ftp_connections(server.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    leaked = ftp_connections(server.port)
    server.stop()
    assert leaked == 0, f"{leaked} FTP connection(s) to the test server left open"


class CappedFtpServer:
    """pyftpdlib allowing ``cap`` connections per address (``max_cons_per_ip``: the
    next gets 421, as a seedbox's per-user limit), counting the most it served at once
    (``peak``) and the 421s it answered (``refused``). Started; stop with
    :func:`stop_without_leaks` on ``server``."""

    def __init__(self, root: Path, cap: int) -> None:
        from pyftpdlib.handlers import FTPHandler

        self.peak = 0
        self.refused = 0
        me = self

        def handle(handler: Any) -> None:
            me.peak = max(me.peak, handler.server.ip_map.count(handler.remote_ip))
            FTPHandler.handle(handler)

        def refuse(handler: Any) -> None:
            me.refused += 1
            FTPHandler.handle_max_cons_per_ip(handler)

        self.server = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, port=free_port(),
                                        handler_overrides={"handle": handle,
                                                           "handle_max_cons_per_ip": refuse})
        self.server.server.max_cons_per_ip = cap
        self.server.start()
        self.port = self.server.port


class Restartable:
    """An FTP server on a fixed port that can be killed and brought back."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, port=free_port()).start()
        self.port = self.server.port

    def kill(self) -> None:
        self.server.stop()  # closes every control and data connection at once

    def revive(self) -> None:
        deadline = time.monotonic() + 30  # a port in TIME_WAIT, a loaded machine
        while True:
            try:
                self.server = EmbeddedFtpServer(self.root, FTP_USER, FTP_PASSWORD, port=self.port).start()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def restart_after(self, delay: float) -> threading.Thread:
        def run() -> None:
            self.kill()
            time.sleep(delay)
            self.revive()

        t = threading.Thread(target=run, name="ftpd-restart", daemon=True)
        t.start()
        return t


@contextmanager
def serving(app: object, timeout: float = 30.0, on_stop: Callable[[], object] | None = None,
            **config: Any) -> Iterator[str]:
    """Serve an ASGI ``app`` with uvicorn in a thread on a free loopback port until the
    block ends; yields the base URL (``http://127.0.0.1:PORT``). ``config``: more
    ``uvicorn.Config`` options (log_level "warning" and a 3 s graceful shutdown unless
    given). ``on_stop`` runs once uvicorn is told to stop, before it is waited for
    (closing the source pools wakes requests waiting for a connection); uvicorn must
    then stop within 10 s."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options: dict[str, Any] = {"log_level": "warning", "timeout_graceful_shutdown": 3, **config}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{port}")
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError("uvicorn did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        if on_stop is not None:
            on_stop()
        thread.join(10)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


def install_source(core: Core, folder: Path, source: object, name: str = "disk") -> int:
    """Add a local source row named ``name`` (on ``folder``) whose live Source is
    ``source`` (a MemorySource, a gated double): scans, probes and syncs of that row read
    ``source``. Returns the row id."""
    row = core.sources.create(SourceSpec(name=name, kind="local", path=str(folder)))
    ident = (row.kind, row.path, row.host, row.port, row.username, row.password_enc, row.tls,
             row.verify_tls)
    core.sources._live[row.id] = (ident, source)  # type: ignore[assignment]
    return row.id


def session_token(core: Core, user_id: int) -> str:
    """A fresh server-side session token for ``user_id`` (as a login makes)."""
    token, _ = core.auth_sessions.create(user_id, device="test")
    return token


def playback_token(core: Core, user_id: int, file_id: int) -> str:
    """A playback token for ``file_id`` bound to a fresh session of ``user_id``."""
    _, info = core.auth_sessions.create(user_id, device="test")
    return core.signer.playback(user_id, file_id, f"s:{info.id}")


#: The two database engines, for ``@pytest.mark.parametrize("core", ENGINES,
#: indirect=True)`` (tests/conftest.py's ``core``): PostgreSQL's case carries the
#: ``requires_postgres`` mark.
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.requires_postgres)]


@contextmanager
def postgres_schema(url: str, prefix: str = "rh_test") -> Iterator[str]:
    """``url`` (a PostgreSQL URL) with a fresh schema first on the search_path, so tests
    sharing one database never see each other's tables; the schema is dropped after."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def migrating(url: str) -> Iterator[tuple[Any, Any]]:
    """alembic's config of the database at ``url`` bound to one transaction of it, and
    that connection: ``command.upgrade(cfg, "0014")``, rows written as they were then,
    ``command.upgrade(cfg, "head")`` (committed when the block ends; engine disposed)."""
    from reelhouse.db.engine import make_engine
    from reelhouse.db.migrate import alembic_config

    engine = make_engine(url)
    cfg = alembic_config(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            yield cfg, conn
    finally:
        engine.dispose()


@contextmanager
def downgraded(engine: Any, url: str, revision: str) -> Iterator[Any]:
    """A connection of ``engine`` (the database at ``url``) inside the transaction that
    has just downgraded it to ``revision`` (on SQLite with foreign keys off: a table
    rebuild with them on would cascade), to read the rows as they came down."""
    from alembic import command

    from reelhouse.db.migrate import alembic_config

    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        with conn.begin():
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
            yield conn


@contextmanager
def core_on(engine: str, data_dir: Path, prefix: str = "rh_test") -> Iterator[Core]:
    """A Core without users on ``data_dir``: on SQLite (``engine="sqlite"``) or, with
    ``"postgres"``, on a fresh schema of ``$REELHOUSE_TEST_POSTGRES_URL`` named after
    ``prefix`` (:func:`postgres_schema`; the test is skipped when that is unset, a
    failure under CI=true). Closed when the block ends."""
    if engine == "postgres" and not PG_URL:
        pytest.skip("set REELHOUSE_TEST_POSTGRES_URL to a postgresql+psycopg:// URL")
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_schema(PG_URL, prefix)) if engine == "postgres" else None
        core = Core(load_settings(data_dir=data_dir, **({"database_url": url} if url else {})))
        stack.callback(core.close)
        yield core


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway ``redis-server`` on a free loopback port, persisting nothing; yields
    its URL (``redis://127.0.0.1:PORT/0``) and stops it after."""
    port = free_port()
    with daemon(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"], port):
        yield f"redis://127.0.0.1:{port}/0"


@contextmanager
def serve_process(env: dict[str, str]) -> Iterator[str]:
    """``reelhouse serve`` in a child process with ``env`` over this process's
    environment, on a free port; yields its base URL once ``/api/health`` answers
    (within 45 s, else AssertionError with the end of its stderr), stops it after."""
    import httpx

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from reelhouse.cli import main; main()", "serve", "--port", str(port)],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 45
        while True:
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                raise AssertionError(f"reelhouse serve did not start: {err}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


class EchoingAuthorizer:
    """A pyftpdlib authorizer wrapper whose 530 reply says the wrong password back, as
    a careless (or hostile) server might: reelhouse must not pass it on."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        from pyftpdlib.authorizers import AuthenticationFailed

        try:
            self.inner.validate_authentication(username, password, handler)
        except AuthenticationFailed:
            raise AuthenticationFailed(f"Login incorrect: {username}/{password}") from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@contextmanager
def admin_core(data_dir: Path, **settings: Any) -> Iterator[Core]:
    """A Core on ``data_dir`` (``settings`` over the defaults) with the admin (ADMIN,
    ADMIN_PASSWORD); closed when the block ends."""
    core = Core(load_settings(data_dir=data_dir, **settings))
    try:
        core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
        yield core
    finally:
        core.close()


@contextmanager
def admin_client(core: Core, raise_server_exceptions: bool = True) -> Iterator[TestClient]:
    """A TestClient of ``core``'s app, the admin logged in (session cookie and bearer
    token); ``raise_server_exceptions=False``: a server error is answered (500), as a
    client would see it."""
    from reelhouse.server import create_app

    with TestClient(create_app(core), raise_server_exceptions=raise_server_exceptions) as c:
        log_in(c)
        yield c


@contextmanager
def scanned_local(data_dir: Path, root: Path, **settings: Any) -> Iterator[tuple[Core, TestClient, dict[str, int]]]:
    """A Core (``settings`` over the defaults) with an admin logged in on a TestClient
    and ``root`` added as a local source and scanned without errors; yields the Core,
    the client and the file id of each path. Closes the Core after."""
    with admin_core(data_dir, **settings) as core, admin_client(core) as client:
        source = core.sources.create(SourceSpec(name="Disk", kind="local", path=str(root)))
        report = core.jobs.run_scan_now(source.id)
        assert not report.errors, report.errors
        items = client.get("/api/library/media-files?per_page=50").json()["items"]
        yield core, client, {f["path"]: f["id"] for f in items}


def scan_ftp(core: Core, port: int, **spec: Any) -> tuple[int, list[Any]]:
    """Add the FTP server on loopback ``port`` to ``core`` as a source (``spec``: more
    SourceSpec fields; the test login by default) and scan it now; returns the source's
    id and its media files (the ORM rows, by path)."""
    from reelhouse.library import queries

    login = {"username": FTP_USER, "password": FTP_PASSWORD} if "username" not in spec else {}
    row = core.sources.create(SourceSpec(**{"name": "ftp", "kind": "ftp", "host": "127.0.0.1", "port": port,
                                            **login, **spec}))
    core.jobs.run_scan_now(row.id)
    with core.sessions() as s:
        files, _ = queries.list_media_files(s, row.id, False, 0, 100)
    return row.id, sorted(files, key=lambda f: f.path)


def cut_request(client: TestClient, method: str, path: str, query: bytes,
                headers: list[tuple[bytes, bytes]]) -> int:
    """Send ``client``'s app a request that announces 100,000 body bytes and whose
    connection drops after 5,000 of them (``http.disconnect``, as uvicorn reports a
    closed socket); the status of its answer (0: none)."""
    sent: list[dict[str, Any]] = []
    pieces: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"x" * 5000, "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return pieces.pop(0) if pieces else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
        "root_path": "", "server": ("testserver", 80), "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"testserver"), (b"content-length", b"100000"), *headers],
    }
    client.portal.call(client.app, scope, receive, send)  # type: ignore[union-attr, arg-type]
    return next((m["status"] for m in sent if m["type"] == "http.response.start"), 0)


def local_or_ftp(kind: str, request: pytest.FixtureRequest, local: Path) -> tuple[Path, LocalSource | FtpSource]:
    """The folder and the Source of a test run on a local folder and on FTP: ``local``
    and a LocalSource over it, or (``kind`` "ftp") the ``ftp_root`` fixture and an
    FtpSource of the ``ftp_server`` fixture (pool of 2), made at the first read. Fill
    the folder before reading; the caller closes the source."""
    if kind != "ftp":
        local.mkdir(parents=True, exist_ok=True)
        return local, LocalSource(local)
    server: EmbeddedFtpServer = request.getfixturevalue("ftp_server")
    root: Path = request.getfixturevalue("ftp_root")
    return root, FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=2))
