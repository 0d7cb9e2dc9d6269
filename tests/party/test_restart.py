"""A single-process server that died with sockets open (killed, power cut) left their
members "connected" in the database; the host among them kept control of the party
for ever (host mode), though nobody could be connected to a server that just started.
``reelhouse serve`` without a party Redis (one process: nothing else holds sockets)
marks every member of every open party disconnected when it starts."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from party.support import USERS, add_media_file

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.party import state as st

from helpers import serve_process

pytestmark = pytest.mark.timeout(90)


def test_serve_starts_with_nobody_connected(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    core = Core(load_settings(data_dir=data_dir))
    try:
        for name, password in USERS.items():
            core.users.add(name, password)
        media_id = add_media_file(core)
        sam = core.users.by_name("sam")
        alex = core.users.by_name("alex")
        assert sam is not None and alex is not None
        code = core.parties.create(sam, media_id).code
        # both had sockets open, sam pressed play, then the server died
        core.parties.apply(code, lambda now: st.Join(sam.id, "sam", now))
        core.parties.apply(code, lambda now: st.Join(alex.id, "alex", now))
        core.parties.apply(code, lambda now: st.Play(sam.id, now))
    finally:
        core.close()

    with serve_process({"REELHOUSE_DATA_DIR": str(data_dir), "REELHOUSE_LOG_LEVEL": "WARNING"}) as base:
        token = httpx.post(base + "/api/auth/login", json={"username": "alex", "password": USERS["alex"]},
                           timeout=30).json()["token"]
        party = httpx.get(base + f"/api/parties/{code}", headers={"Authorization": f"Bearer {token}"},
                          timeout=30).json()
        assert [(p["name"], p["connected"]) for p in party["participants"]] == [("sam", False), ("alex", False)]
        assert party["state"] == "playing"  # the film goes on; alex, when back, controls it
