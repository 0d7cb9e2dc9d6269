"""schemathesis over the whole reelhouse API (its own ``/openapi.json``), served by
uvicorn over a small real library: a local folder and an FTP server (pyftpdlib) with
real clips, scanned. Every generated request — valid and invalid data, as schemathesis
makes them from the schema — is sent as an admin and as a plain user; no answer may be
a 5xx, and answers must match the schema where the schema says what they are.

Checks (schemathesis's names):

- ``not_a_server_error``: the house rule — bad input is a 4xx with a message.
- ``response_schema_conformance``, ``content_type_conformance``: a documented answer
  has the documented shape and media type.

Turned off, because they are noise here and say nothing about 500s or shapes:

- ``status_code_conformance``: FastAPI documents 200/201/204 and 422 only; the 400,
  401, 403, 404, 409, 413, 416 and 429 that the API answers by design (each a
  ``{"detail": …}`` from :mod:`reelhouse.api.errors`) are not listed per route.
- ``negative_data_rejection``: an unknown query argument is ignored (as by most HTTP
  APIs), which schemathesis counts as "accepting invalid data" (an unknown body field
  is a 422: tests/api/test_bad_input.py).
- ``positive_data_acceptance``: schema-valid data can still be refused by the domain
  (an id that names no row is a 404, a source path that does not exist a 400).
- ``missing_required_header``, ``unsupported_method``, ``ignored_auth``,
  ``use_after_free``, ``ensure_resource_availability``: need request pairs or
  stateful links; auth refusals are tested in tests/api/test_security.py.

Operations that would end the test's own sessions or remove the library under it are
left out (logout, password and session revocation, user edits and deletion, source
deletion); tests/api/test_users_api.py and test_sources_api.py cover them.

Bounded: ``EXAMPLES`` cases per operation (~80 operations), well under a minute on two
loaded cores. A failure prints the request (a ``curl`` line) and the answer.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from tmdb_fake import FakeTmdb

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, FTP_PASSWORD, FTP_USER, free_port, place, serving, stop_without_leaks

pytestmark = pytest.mark.requires_ffmpeg

#: Cases per operation and role.
EXAMPLES = int(os.environ.get("REELHOUSE_FUZZ_EXAMPLES", "12"))
USER, USER_PASSWORD = "viewer", "viewer-password"
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
#: (method, path) left out: they end the caller's sessions or delete the library.
LEFT_OUT = {("POST", "/api/auth/logout"), ("POST", "/api/auth/password"),
            ("DELETE", "/api/auth/sessions/{session_id}"), ("POST", "/api/auth/sessions/revoke-others"),
            ("PATCH", "/api/users/{user_id}"), ("DELETE", "/api/users/{user_id}"),
            ("DELETE", "/api/sources/{source_id}")}


class Fuzzed:
    """The server under test: base URL and the two roles' headers."""

    def __init__(self, url: str, admin: dict[str, str], user: dict[str, str]) -> None:
        self.url = url
        self.roles = {"admin": admin, "user": user}


@pytest.fixture
def fuzzed(tmp_path: Path, sample_mp4: Path, sample_mkv: Path) -> Iterator[Fuzzed]:
    """A scanned library on a local folder and an FTP server, an admin and a user, TMDB
    (the recorded fake, tests/tmdb_fake.py) for the match routes, and uvicorn serving
    it all; the session tokens come from real logins."""
    import httpx

    base = tmp_path
    local, ftp_root = base / "media", base / "ftp"
    place(sample_mp4, local, "Films/Sintel (2010)/Sintel.2010.mp4")
    place(sample_mkv, local, "Shows/Example Show/Season 01/Example.Show.S01E01.mkv")
    place(sample_mp4, ftp_root, "Films/Tears of Steel (2012)/Tears.of.Steel.2012.mp4")
    ftp = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, port=free_port()).start()
    tmdb = FakeTmdb().__enter__()
    core = Core(load_settings(data_dir=base / "data", **tmdb.settings()))
    try:
        core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
        core.users.add(USER, USER_PASSWORD)
        with serving(create_app(core)) as url, httpx.Client(base_url=url, timeout=30) as http:
            tokens = {}
            for name, password in ((ADMIN, ADMIN_PASSWORD), (USER, USER_PASSWORD)):
                r = http.post("/api/auth/login", json={"username": name, "password": password})
                assert r.status_code == 200, r.text
                tokens[name] = r.json()["token"]
                http.cookies.clear()
            admin = {"authorization": f"Bearer {tokens[ADMIN]}"}
            for spec in ({"name": "disk", "kind": "local", "path": str(local)},
                         {"name": "seedbox", "kind": "ftp", "host": "127.0.0.1", "port": ftp.port,
                          "username": FTP_USER, "password": FTP_PASSWORD}):
                r = http.post("/api/sources", json=spec, headers=admin)
                assert r.status_code == 201, r.text
                report = core.jobs.run_scan_now(int(r.json()["id"]))
                assert not report.errors, report.errors
            files = http.get("/api/library/media-files", headers=admin).json()["items"]
            assert len(files) == 3, files
            r = http.post("/api/parties", json={"media_file_id": files[0]["id"]}, headers=admin)
            assert r.status_code in (200, 201), r.text
            yield Fuzzed(url, admin, {"authorization": f"Bearer {tokens[USER]}"})
    finally:
        core.close()
        tmdb.__exit__(None, None, None)
        stop_without_leaks(ftp)


def _operations(url: str) -> list[Any]:
    """The operations of the app's own OpenAPI document, as the server publishes it,
    without :data:`LEFT_OUT`."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    ops = [result.ok() for result in schema.get_all_operations()]
    return [op for op in ops if (op.method.upper(), op.path) not in LEFT_OUT]


def test_no_server_errors_and_documented_shapes(fuzzed: Fuzzed) -> None:
    """``EXAMPLES`` cases per operation of schema-valid data and as many of invalid data,
    each sent as the admin and as the user; all failures are reported together."""
    failures: list[str] = []
    for op, mode in itertools.product(_operations(fuzzed.url), GenerationMode):
        strategy = op.as_strategy(generation_mode=mode)

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def run(case: schemathesis.Case) -> None:
            for role, headers in fuzzed.roles.items():
                response = case.call(base_url=fuzzed.url, headers=headers, timeout=30)
                try:
                    case.validate_response(response, checks=CHECKS)
                except FailureGroup as exc:
                    raise AssertionError(f"as the {role}: {exc}") from None

        try:
            run()
        except Unsatisfiable:  # nothing of this operation can be made invalid (no parameters)
            assert mode is GenerationMode.NEGATIVE, f"{op.method.upper()} {op.path}"
        except AssertionError as exc:
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
    assert not failures, "\n\n".join(failures)
