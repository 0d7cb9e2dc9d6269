"""A scale-out deployment on one machine, for tests and benchmarks: N ``reelhouse
serve`` nodes and M ``reelhouse worker`` processes on one PostgreSQL and one Redis,
behind nginx running the repository's ``deploy/nginx.conf`` (its ports rewritten).

    with Cluster(tmp, database_url, redis_url, nodes=2, workers=1) as c:
        c.proxy_url, c.node_urls ...

Every process gets the same signing and password-encryption keys through the
environment (``REELHOUSE_SIGNING_KEY``, ``REELHOUSE_FERNET_KEY``) and a data dir of its
own, as on separate machines. :meth:`Cluster.settings` gives the same settings to a
``Core`` in the caller (e.g. to add users). Needs ``nginx`` on PATH.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from reelhouse.config import Settings, load_settings

__all__ = ["NGINX_CONF", "Cluster"]

NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise RuntimeError(f"{what} did not start (exit {proc.poll()}): {tail}")
        time.sleep(0.1)


class Cluster:
    """See the module doc. ``nginx_conf``: the config to run (its ``listen`` and the
    upstreams' ``server`` lines are replaced)."""

    def __init__(self, base: Path, database_url: str, redis_url: str, nodes: int = 2, workers: int = 1,
                 nginx_conf: Path = NGINX_CONF, extra_env: dict[str, str] | None = None) -> None:
        self.base = base
        self.database_url = database_url
        self.redis_url = redis_url
        self.n_nodes = nodes
        self.n_workers = workers
        self.nginx_conf = nginx_conf
        self.keys = {"REELHOUSE_SIGNING_KEY": secrets.token_urlsafe(32),
                     "REELHOUSE_FERNET_KEY": secrets.token_urlsafe(32)}
        self.extra_env = extra_env or {}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.node_urls: list[str] = []
        self.proxy_url = ""

    def env(self, name: str) -> dict[str, str]:
        return {**os.environ, **self.keys, **self.extra_env,
                "REELHOUSE_DATA_DIR": str(self.base / name),
                "REELHOUSE_DATABASE_URL": self.database_url,
                "REELHOUSE_REDIS_URL": self.redis_url,
                "REELHOUSE_JOBS_BACKEND": "redis",
                "REELHOUSE_JOBS_IN_PROCESS": "false",
                "REELHOUSE_NODE_NAME": name,
                "REELHOUSE_LOG_LEVEL": "WARNING"}

    def settings(self, **overrides: Any) -> Settings:
        """Settings of a further process of this cluster (its own data dir)."""
        return load_settings(data_dir=self.base / "client", database_url=self.database_url,
                             redis_url=self.redis_url, jobs_backend="redis", jobs_in_process=False,
                             signing_key=self.keys["REELHOUSE_SIGNING_KEY"],
                             fernet_key=self.keys["REELHOUSE_FERNET_KEY"], **overrides)

    def _spawn(self, argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        out = open(log, "wb")
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                start_new_session=True)
        out.close()
        self.procs.append(proc)
        return proc

    def __enter__(self) -> Cluster:
        if shutil.which("nginx") is None:
            raise RuntimeError("nginx is not installed")
        self.base.mkdir(parents=True, exist_ok=True)
        cli = [sys.executable, "-m", "reelhouse"]
        try:
            ports = [_free_port() for _ in range(self.n_nodes)]
            nodes = []
            for i, port in enumerate(ports):
                name = f"node{i + 1}"
                nodes.append((self._spawn([*cli, "serve", "--port", str(port)], self.env(name),
                                          self.base / f"{name}.log"), port))
            for i in range(self.n_workers):
                name = f"worker{i + 1}"
                self._spawn([*cli, "worker"], self.env(name), self.base / f"{name}.log")
            for proc, port in nodes:
                url = f"http://127.0.0.1:{port}"
                _wait_http(url + "/api/health", proc, f"reelhouse serve on port {port}",
                           self.base / f"node{ports.index(port) + 1}.log")
                self.node_urls.append(url)
            self.proxy_url = self._start_nginx(ports)
        except BaseException:
            self.close()
            raise
        return self

    def _start_nginx(self, ports: list[int]) -> str:
        port = _free_port()
        conf = self.nginx_conf.read_text()
        servers = "".join(f"        server 127.0.0.1:{p};\n" for p in ports)
        conf = re.sub(r"(?m)^\s*server 127\.0\.0\.1:\d+;\n(?:\s*server 127\.0\.0\.1:\d+;\n)*", servers, conf)
        conf = re.sub(r"listen \d+;", f"listen 127.0.0.1:{port};", conf)
        prefix = self.base / "nginx"
        for sub in ("logs", "tmp"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        temp = "".join(f"    {d}_temp_path {prefix / 'tmp' / d};\n"
                       for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = conf.replace("http {\n", "http {\n" + temp, 1)
        path = prefix / "nginx.conf"
        path.write_text(conf)
        directives = f"daemon off; pid {prefix / 'nginx.pid'}; error_log {prefix / 'logs' / 'error.log'};"
        if os.geteuid() == 0:
            directives += " user root;"
        proc = self._spawn(["nginx", "-p", str(prefix), "-c", str(path), "-g", directives],
                           dict(os.environ), self.base / "nginx.log")
        url = f"http://127.0.0.1:{port}"
        _wait_http(url + "/api/health", proc, "nginx", self.base / "nginx.log")
        return url

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()

    def __exit__(self, *exc: object) -> None:
        self.close()
