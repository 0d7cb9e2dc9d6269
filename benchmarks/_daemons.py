"""A real FTP daemon for the benchmarks, serving a folder read-only on a free loopback
port: vsftpd (anonymous; LIST only, no MLSD; one process per connection) and pure-ftpd
(one virtual user; MLSD; one process per connection). Same interface as
:class:`_setup.Ftpd` (``port``, ``rclone_env``, ``source``)::

    with Vsftpd(root) as d: d.source() ...

vsftpd: ``REELHOUSE_TEST_VSFTPD`` or ``vsftpd`` on PATH. pure-ftpd: on PATH, as root
(virtual users run as nobody). A login to pure-ftpd cost ~3.5-5 s before: pure-pw's
default argon2 hash (the password is stored as SHA-512 crypt here, ``openssl passwd
-6``) and a reverse DNS lookup of the client (``-H``: no name resolution).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _setup import HERE, kill_groups, spawn


def vsftpd_binary() -> str | None:
    for candidate in (os.environ.get("REELHOUSE_TEST_VSFTPD"), shutil.which("vsftpd"), "/usr/sbin/vsftpd"):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(64).startswith(b"220"):
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start (exit {proc.poll()})")
        time.sleep(0.05)


class _Daemon:
    name = ""
    user = ""
    password = ""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix=f"bench-{self.name}-")
        self.tmp = Path(self._tmp.name)
        self.tmp.chmod(0o755)

    def argv(self) -> list[str]:
        raise NotImplementedError

    def __enter__(self) -> _Daemon:
        self.port = _free_port()
        self.proc = spawn(self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, self.proc, self.name)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            kill_groups([self.proc])
        self._tmp.cleanup()

    def rclone_env(self, tmp: Path) -> dict[str, str]:
        obscured = subprocess.run(["rclone", "obscure", self.password], check=True, capture_output=True,
                                  text=True).stdout.strip()
        conf = tmp / "rclone.conf"
        conf.write_text("")
        return dict(os.environ, RCLONE_CONFIG=str(conf), RCLONE_CONFIG_BENCHFTP_TYPE="ftp",
                    RCLONE_CONFIG_BENCHFTP_HOST="127.0.0.1", RCLONE_CONFIG_BENCHFTP_PORT=str(self.port),
                    RCLONE_CONFIG_BENCHFTP_USER=self.user, RCLONE_CONFIG_BENCHFTP_PASS=obscured)

    def source(self, pool_size: int = 5) -> Any:
        import sys

        sys.path.insert(0, str(HERE.parent))
        from reelhouse.sources.ftp.client import FtpConfig
        from reelhouse.sources.ftp.source import FtpSource

        return FtpSource(FtpConfig(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                                   pool_size=pool_size))


class Vsftpd(_Daemon):
    """vsftpd, anonymous, ``root`` as the anonymous root (LIST only: no MLSD)."""

    name, user, password = "vsftpd", "anonymous", "bench@"

    def argv(self) -> list[str]:
        binary = vsftpd_binary()
        if binary is None:
            raise SystemExit("vsftpd not found (set REELHOUSE_TEST_VSFTPD)")
        (self.tmp / "empty").mkdir()
        # wide (each listing leaves its port in TIME_WAIT) and below the ephemeral ports
        # (32768+, where a bind can fail: "500 OOPS: vsf_sysutil_bind")
        low = random.Random(self.port).randrange(10000, 22000)
        conf = ["listen=YES", "listen_address=127.0.0.1", f"listen_port={self.port}", "anonymous_enable=YES",
                "no_anon_password=YES", f"anon_root={self.root}", "local_enable=NO", "write_enable=NO",
                "pasv_enable=YES", f"pasv_min_port={low}", f"pasv_max_port={low + 10000}",
                f"secure_chroot_dir={self.tmp / 'empty'}", "run_as_launching_user=YES", "seccomp_sandbox=NO",
                "background=NO", "utf8_filesystem=YES", "max_clients=50", "max_per_ip=50",
                f"ftp_username={'nobody' if os.geteuid() == 0 else os.environ.get('USER', 'nobody')}"]
        (self.tmp / "vsftpd.conf").write_text("\n".join(conf) + "\n")
        return [binary, str(self.tmp / "vsftpd.conf")]



def pure_ftpd_binary() -> str | None:
    """pure-ftpd's path, when it and pure-pw are installed and this runs as root."""
    pure, pw = shutil.which("pure-ftpd") or "/usr/sbin/pure-ftpd", shutil.which("pure-pw") or "/usr/bin/pure-pw"
    if os.geteuid() != 0 or not (os.path.exists(pure) and os.path.exists(pw)):
        return None
    return pure


class PureFtpd(_Daemon):
    """pure-ftpd with one virtual user whose home is ``root`` (MLSD; read by nobody)."""

    name, user, password = "pure-ftpd", "bench", "bench-pure-1"

    def argv(self) -> list[str]:
        pure = pure_ftpd_binary()
        if pure is None:
            raise SystemExit("pure-ftpd not found, or not root (virtual users run as nobody)")
        pw = shutil.which("pure-pw") or "/usr/bin/pure-pw"
        passwd, pdb = self.tmp / "passwd", self.tmp / "pure.pdb"
        subprocess.run([pw, "useradd", self.user, "-u", "nobody", "-g", "nogroup", "-d", str(self.root),
                        "-f", str(passwd)], input=f"{self.password}\n{self.password}\n", text=True,
                       check=True, capture_output=True)
        fast = subprocess.run(["openssl", "passwd", "-6", self.password], capture_output=True, text=True,
                              check=True).stdout.strip()  # argon2 (pure-pw's default) costs seconds a login
        user, _, rest = passwd.read_text().partition(":")
        passwd.write_text(f"{user}:{fast}:{rest.partition(':')[2]}")
        subprocess.run([pw, "mkdb", str(pdb), "-f", str(passwd)], check=True, capture_output=True)
        low = random.Random(self.port).randrange(10000, 22000)
        # -H: no reverse DNS of each client; -E: no anonymous; -c/-C: the pool and rclone fit
        return [pure, "-S", f"127.0.0.1,{self.port}", "-l", f"puredb:{pdb}", "-E", "-H", "-u", "1",
                "-p", f"{low}:{low + 10000}", "-c", "50", "-C", "50"]
