"""A Jellyfin source whose server answers junk: an address that is another web server
(a page, a proxy's login form), a login or item list without the fields Jellyfin sends,
items with values of the wrong type or out of range. The scan says the address does not
answer as a Jellyfin server, or leaves the odd value out; it was "internal error:
Expecting value: line 1 column 1 (char 0)" ('Id', "Unknown format code 'd'", "Python
int too large to convert to SQLite INTEGER") with a traceback. The server here is a
real HTTP server (the standard library's) on a free loopback port."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from reelhouse.errors import SourceUnavailable
from reelhouse.sources.jellyfin import JellyfinRemote, item_of

LOGIN = {"AccessToken": "t", "User": {"Id": "u1"}}


class _Answers:
    """What the fake server answers: (content type, body) for the login and the item lists."""

    login: tuple[str, bytes] = ("application/json", json.dumps(LOGIN).encode())
    items: tuple[str, bytes] = ("application/json", b'{"Items": [], "TotalRecordCount": 0}')


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Answers]]]:
    answers = type("Answers", (_Answers,), {})

    class Handler(BaseHTTPRequestHandler):
        def _send(self, answer: tuple[str, bytes]) -> None:
            self.send_response(200)
            self.send_header("content-type", answer[0])
            self.send_header("content-length", str(len(answer[1])))
            self.end_headers()
            self.wfile.write(answer[1])

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self._send(answers.login)

        def do_GET(self) -> None:
            self._send(answers.items if "/Items" in self.path else ("application/json", b"{}"))

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", answers
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


def _items(*dtos: object) -> tuple[str, bytes]:
    return "application/json", json.dumps({"Items": list(dtos), "TotalRecordCount": len(dtos)}).encode()


@pytest.mark.parametrize(("what", "login", "items"), [
    ("its login", ("text/html", b"<html><form>Sign in</form></html>"), None),
    ("its login", ("application/json", b"{}"), None),
    ("its login", ("application/json", b'{"AccessToken": 5, "User": []}'), None),
    ("its item list", None, ("text/html", b"<html></html>")),
    ("its item list", None, ("application/json", b"[1, 2]")),
    ("its item list", None, ("application/json", b'{"Items": "none"}')),
])
def test_an_address_that_is_no_jellyfin_server_says_so(server: tuple[str, type[_Answers]], what: str,
                                                       login: tuple[str, bytes] | None,
                                                       items: tuple[str, bytes] | None) -> None:
    url, answers = server
    if login is not None:
        answers.login = login
    if items is not None:
        answers.items = items
    remote = JellyfinRemote(url, "a", "b", device_id="d", timeout=10)
    try:
        with pytest.raises(SourceUnavailable, match=f"does not answer as a Jellyfin server \\({what}"):
            remote.catalog()
    finally:
        remote.close()


def test_junk_items_are_left_out_or_their_odd_values_absent(server: tuple[str, type[_Answers]]) -> None:
    url, answers = server
    answers.items = _items(
        {"Type": "Movie", "Name": "No id", "MediaSources": [{"Size": 5}]},  # nothing could stream it
        "not an item",
        {"Id": "a1", "Type": "Movie", "Name": "Text size", "MediaSources": [{"Id": "s", "Size": "abc"}]},
        {"Id": "a2", "Type": "Movie", "Name": "Huge", "ProductionYear": 10**12, "CommunityRating": "x",
         "ProviderIds": ["tt1"], "ImageTags": "Primary", "MediaSources": [{"Id": "s", "Size": 10**30}]},
        {"Id": "a3", "Type": "Movie", "Name": "Inf", "MediaSources": [{"Id": "s", "Size": 1e300}]},
        {"Id": "a4", "Type": "Episode", "Name": "Ep", "SeriesName": "S", "SeriesId": "s9",
         "ParentIndexNumber": "one", "IndexNumber": 10**20, "MediaSources": [{"Id": "s", "Size": 7}]},
        {"Id": "a5", "Type": "Movie", "Name": "Sources as a dict", "MediaSources": {"Id": "s"}},
        {"Id": "a6", "Type": "Movie", "Name": "Good", "ProductionYear": 2001, "MediaSources": [{"Size": 100}]},
        {"Id": "a7", "Type": "Movie", "Name": "Odd dates", "DateCreated": 5, "Genres": 7, "MediaSources": [{}]},
    )
    remote = JellyfinRemote(url, "a", "b", device_id="d", timeout=10)
    try:
        got = {i.title: i for i in remote.catalog()}
    finally:
        remote.close()
    assert sorted(got) == ["Ep", "Good", "Huge", "Inf", "Odd dates", "Text size"]
    assert (got["Odd dates"].mtime, got["Odd dates"].genres) == (None, ())
    assert [got[t].size for t in ("Text size", "Huge", "Inf", "Ep", "Good")] == [0, 0, 0, 7, 100]
    assert (got["Huge"].year, got["Huge"].rating, got["Huge"].imdb_id) == (None, None, None)
    assert (got["Ep"].season, got["Ep"].episode, got["Good"].year) == (None, None, 2001)


def test_item_of_takes_whole_numbers_in_range() -> None:
    dto: dict[str, Any] = {"Id": "e", "Type": "Episode", "Name": "E", "SeriesName": "S",
                           "ParentIndexNumber": 2.0, "IndexNumber": True, "ProductionYear": -5,
                           "MediaSources": [{"Size": 2**63 - 1}]}
    item = item_of(dto, {})
    assert item is not None
    assert (item.season, item.episode, item.year, item.size) == (2, None, None, 2**63 - 1)
