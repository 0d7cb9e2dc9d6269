"""The party pages: join by code, the party page, the Watch together button."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_party_pages(client: TestClient, anon: TestClient, media_id: int) -> None:
    code = client.post("/api/parties", json={"media_file_id": media_id}).json()["code"]

    r = client.get(f"/party?code={code[:3].lower()} {code[3:].lower()}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/party/{code}"
    r = client.get("/party?code=nope")
    assert r.status_code == 400 and "6 letters and digits" in r.text
    r = client.get("/party?code=ZZ-zz 1o")  # six of them, but no code has Z, 1 or O
    assert r.status_code == 400 and "No party code has Z 1 O: codes leave out look-alikes" in r.text
    r = client.get("/party")
    assert r.status_code == 200 and f"/party/{code}" in r.text  # my parties

    page = client.get(f"/party/{code}")
    assert page.status_code == 200
    assert f'data-code="{code}"' in page.text and "/stream?token=" in page.text
    assert f"http://testserver/party/{code}" in page.text  # the invite link
    assert client.get("/party/ZZZZZZ").status_code == 404
    r = anon.get(f"/party/{code}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=%2Fparty%2F{code}"

    client.post(f"/api/parties/{code}/end")
    assert 'data-ended="yes"' in client.get(f"/party/{code}").text
