"""An FTP server that refuses the stored password (changed on the server after the
source was added): the viewer's requests answer 502 with the server's reason, never
401 — a 401 tells the browser's api.js and every Jellyfin app that *their* session
ended (they log the user out, and logging in again cannot help). A scan fails with
the reason and deletes nothing; fixing the password brings playback back."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from jellyfin.support import AUTH

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import ADMIN, ADMIN_PASSWORD, FTP_PASSWORD, FTP_USER, free_port, stop_without_leaks, wait_job


def test_a_refused_source_password_is_502_not_the_user_s_401(client: TestClient, tmp_path: Path,
                                                              sample_mp4: Path) -> None:
    root = tmp_path / "ftp"
    (root / "Films").mkdir(parents=True)
    (root / "Films/Heat (1995).mp4").write_bytes(sample_mp4.read_bytes())
    port = free_port()
    server = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, port=port).start()
    sid = client.post("/api/sources", json={"name": "box", "kind": "ftp", "host": "127.0.0.1", "port": port,
                                            "username": FTP_USER, "password": FTP_PASSWORD}).json()["id"]
    assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    fid = client.get("/api/library/media-files").json()["items"][0]["id"]
    server.stop()
    server = EmbeddedFtpServer(root, FTP_USER, "changed-on-the-server", port=port,
                               handler_overrides={"auth_failed_timeout": 0}).start()  # no 3 s wait after a 530
    try:
        for method, url, body in [
            ("GET", f"/api/library/media-files/{fid}/stream", None),
            ("POST", f"/api/library/media-files/{fid}/playback/plan", {"containers": ["webm"], "video": ["vp9"],
                                                                       "audio": ["opus"]}),
            ("PUT", f"/api/sources/{sid}/files?path=new.bin", None),
        ]:
            r = client.request(method, url, json=body, headers={"range": "bytes=0-99"})
            assert r.status_code == 502, (url, r.status_code, r.text)
            assert "FTP login refused" in r.json()["detail"] and "www-authenticate" not in r.headers
        # a Jellyfin app keeps its session too
        login = client.post("/jellyfin/Users/AuthenticateByName", json={"Username": ADMIN, "Pw": ADMIN_PASSWORD},
                            headers={"authorization": AUTH + ', Token=""'})
        jf = {"authorization": AUTH + f', Token="{login.json()["AccessToken"]}"'}
        r = client.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Movie"}, headers=jf)
        item = r.json()["Items"][0]["Id"]
        r = client.get(f"/jellyfin/Videos/{item}/stream", params={"static": "true"},
                       headers={**jf, "range": "bytes=0-9"})
        assert r.status_code == 502, r.text
        assert client.get("/jellyfin/Users/Me", headers=jf).status_code == 200
        assert client.get("/api/library/items").status_code == 200  # the web session still works
        job = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
        assert job["state"] == "failed" and "FTP login refused" in str(job["error"])
        files = client.get("/api/library/media-files").json()["items"]
        assert [f["missing"] for f in files] == [False]
        assert client.patch(f"/api/sources/{sid}", json={"password": "changed-on-the-server"}).status_code == 200
        r = client.get(f"/api/library/media-files/{fid}/stream", headers={"range": "bytes=0-99"})
        assert r.status_code == 206 and r.content == sample_mp4.read_bytes()[:100]
        assert client.delete(f"/api/sources/{sid}").status_code == 204  # closes its pool
    finally:
        stop_without_leaks(server)
