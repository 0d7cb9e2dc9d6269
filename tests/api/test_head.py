"""HEAD of a GET route answers as the GET without its body (RFC 9110 §9.1, §9.3.2):
``HEAD /api/health`` was 405, and an uptime monitor asking with HEAD saw the server
down; so were the pages, the JSON reads and HLS playlists. A route with its own HEAD
(the stream) keeps it; a path without a GET route is still 404/405."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_head_answers_as_get_without_the_body(client: TestClient, anon: TestClient) -> None:
    for c, path in ((anon, "/api/health"), (client, "/api/auth/me"), (client, "/api/library/items"),
                    (client, "/login"), (anon, "/static/app.css")):
        got, head = c.get(path, follow_redirects=False), c.head(path, follow_redirects=False)
        assert head.status_code == got.status_code, (path, head.status_code, got.status_code)
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        if "content-length" in got.headers and path not in ("/api/health", "/api/auth/me"):
            assert head.headers["content-length"] == got.headers["content-length"], path
    assert anon.head("/api/auth/me").status_code == 401  # the same answer as GET: not logged in
    assert client.head("/api/no/such/thing").status_code == 404
    assert client.head("/api/auth/logout").status_code == 405  # POST only: no GET to answer as
