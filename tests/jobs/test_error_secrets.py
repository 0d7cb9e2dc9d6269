"""Secrets never reach job errors, logs or API responses (DESIGN.md, "FTP passwords never
leave the server"): failures are provoked on purpose — a wrong FTP password, the FTP
server gone during a scan, a transfer, a sync and a probe, TMDB refusing the API key —
with passwords and a TMDB key holding recognizable strings, which are then looked for
in every API answer, every row of the database file and every log record. A non-admin
sees no job and none of the admin's transfers, and source errors only as "unavailable"."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tmdb_fake import FakeTmdb

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.redaction import Redactor, RedactSecrets, redact
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, FTP_USER, EchoingAuthorizer, free_port, log_in, wait_job

SECRET = "Pw-SECRET-kx81q"  # the FTP password
WRONG = "Wrong-SECRET-z7"  # a wrong FTP password of a second source
TMDB_KEY = "tmdbkey-SECRET-4u2"  # refused by the fake TMDB (401)
VIDEO = b"\x00not really a video\x00" * 64
SECRETS = (SECRET, WRONG, TMDB_KEY)


def _login(app: Any, name: str, password: str) -> TestClient:
    c = TestClient(app, raise_server_exceptions=False)
    c.__enter__()
    log_in(c, name, password)
    return c


def _wait(c: TestClient, url: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = c.get(url).json()
        if body.get("state") in ("done", "failed", "cancelled", "partial"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{url} did not end")


def test_secrets_appear_in_no_error_log_row_or_answer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx's and the FTP layer's included
    root = tmp_path / "ftp"
    (root / "Films").mkdir(parents=True)
    (root / "Films" / "Sintel.2010.mkv").write_bytes(VIDEO)
    (root / "Films" / "Heat.1995.mkv").write_bytes(VIDEO)
    server = EmbeddedFtpServer(root, FTP_USER, SECRET, port=free_port(),
                               handler_overrides={"auth_failed_timeout": 0}).start()  # 530 at once
    server.server.handler.authorizer = EchoingAuthorizer(server.server.handler.authorizer)
    texts: list[str] = []
    with FakeTmdb() as tmdb:
        settings = load_settings(data_dir=tmp_path / "data", **{**tmdb.settings(), "tmdb_api_key": TMDB_KEY},
                                 transfer_retries=0)
        core = Core(settings)
        try:
            core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
            core.users.add("bob", "bob-password")
            app = create_app(core)
            admin = _login(app, ADMIN, ADMIN_PASSWORD)
            bob = _login(app, "bob", "bob-password")
            body = {"kind": "ftp", "host": "127.0.0.1", "port": server.port, "username": FTP_USER}
            sid = admin.post("/api/sources", json={**body, "name": "seedbox", "password": SECRET}).json()["id"]
            bad = admin.post("/api/sources", json={**body, "name": "wrong", "password": WRONG}).json()["id"]
            # a scan that works (TMDB refuses the key while matching), one with a wrong password
            first = wait_job(admin, admin.post(f"/api/sources/{sid}/scan").json()["id"])
            assert first["state"] in ("done", "partial"), first
            refused = wait_job(admin, admin.post(f"/api/sources/{bad}/scan").json()["id"])
            assert refused["state"] == "failed" and refused["error"], refused
            texts.append(admin.post(f"/api/sources/{bad}/test").text)
            # the server goes away: a scan, a transfer, a sync, a health check and a test fail
            server.stop()
            gone = wait_job(admin, admin.post(f"/api/sources/{sid}/scan").json()["id"])
            assert gone["state"] == "failed" and gone["error"], gone
            t = admin.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                                   "remote_path": "Films/Sintel.2010.mkv"})
            assert t.status_code == 201, t.text
            transfer = _wait(admin, f"/api/transfers/{t.json()['id']}")
            assert transfer["state"] == "failed" and transfer["error"], transfer
            run = admin.post(f"/api/sources/{sid}/sync")
            assert run.status_code == 202, run.text
            synced = _wait(admin, f"/api/syncs/{run.json()['id']}")
            assert synced["state"] == "failed", synced
            texts.append(admin.post(f"/api/sources/{sid}/test").text)
            for c in (admin, bob):
                for url in ("/api/jobs", "/api/transfers", "/api/syncs", "/api/sources",
                            f"/api/sources/{sid}", f"/api/sources/{sid}/health", f"/api/sources/{bad}/health",
                            "/api/library/media-files", "/api/library/items", "/api/offline"):
                    texts.append(c.get(url).text)
            assert "***" in refused["error"]  # the echoed password, taken out
            for job in admin.get("/api/jobs").json():
                texts.append(admin.get(f"/api/jobs/{job['id']}").text)
            # a non-admin sees no job and not the admin's transfer; sources' errors generically
            assert bob.get("/api/jobs").status_code == 403
            assert bob.get(f"/api/jobs/{gone['id']}").status_code == 403
            assert bob.get("/api/transfers").json() == []
            assert bob.get(f"/api/transfers/{transfer['id']}").status_code == 404
            for c in (admin, bob):
                c.__exit__(None, None, None)
            # a reelhouse log line or traceback holding a source's password (in any case)
            log = logging.getLogger("reelhouse.jobs.system")
            log.warning("server said %s", WRONG.upper())
            try:
                raise RuntimeError(f"reply: 530 {SECRET}")
            except RuntimeError:
                log.exception("crashed")
            assert any("***" in r.getMessage() for r in caplog.records if r.name == "reelhouse.jobs.system")
        finally:
            core.close()
            server.stop()
    data = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert logs, "the failures were logged"
    data, logs = data.lower(), logs.lower()
    for secret in (s.lower() for s in SECRETS):  # in any case (a reply may be folded)
        assert secret.encode() not in data, f"{secret} stored in the data dir"
        assert secret not in logs, f"{secret} logged"
        for text in texts:
            assert secret not in text.lower(), (secret, text)


@pytest.mark.parametrize("line, expected", [
    ("GET https://api.themoviedb.org/3/movie/1?language=en&api_key=abc123 \"HTTP/1.1 200 OK\"",
     "GET https://api.themoviedb.org/3/movie/1?language=en&api_key=*** \"HTTP/1.1 200 OK\""),
    ("GET /api/stream/4?token=eyJ.x.y HTTP/1.1", "GET /api/stream/4?token=*** HTTP/1.1"),
    ("/Videos/1/stream?Static=true&API_KEY=f00d&x=1", "/Videos/1/stream?Static=true&API_KEY=***&x=1"),
    ("redis://:hunter2@10.0.0.5:6379/0 down", "redis://:***@10.0.0.5:6379/0 down"),
    ("postgresql+psycopg://reel:pa ss@db/x", "postgresql+psycopg://reel:pa ss@db/x"),  # not a URL password
    ("no secret here; keys=3, monkey=4", "no secret here; keys=3, monkey=4"),
])
def test_redact_query_credentials_and_url_passwords(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_the_redactor_keeps_its_last_answer_when_asking_fails() -> None:
    answers: list[list[str]] = [["Hunter2-pw"]]

    def secrets() -> list[str]:
        if not answers:
            raise OSError("database gone")
        return answers.pop()

    now = [0.0]
    r = Redactor(secrets, ttl=1.0, clock=lambda: now[0])
    assert r("530 HUNTER2-PW no") == "530 *** no"
    now[0] = 5.0  # asked again: fails, the last answer stays
    assert r("hunter2-pw") == "***" and r("abc") == "abc"


def test_uvicorn_access_lines_keep_their_shape_without_the_token() -> None:
    """uvicorn's access formatter unpacks the record's arguments: they stay a tuple."""
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/api/stream/4?token=eyJ.sig", "1.1", 206), None)
    RedactSecrets().filter(record)
    line = AccessFormatter('%(client_addr)s "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line == '127.0.0.1:5000 "GET /api/stream/4?token=*** HTTP/1.1" 206 Partial Content'
