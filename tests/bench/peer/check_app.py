"""Checks that the peer behaves as the seed gist describes: `python3 tests/bench/peer/check_app.py`
(or `… check_app.py DIR` for the app.py in DIR, e.g. the gist's own: tests/bench/run's workload P).

The gist's own test (one turn, then the session must hold the prompt and the answer) fails on its
app, because the answer is added after the request's context manager has saved the session; with
the gist's manual save (PEER_HACK=1) it passes. This peer must do the same, and serve the chunks
the background task cached. Plain asserts, no pytest: the peer needs only its own packages.
"""
import importlib
import os
import sys

from fastapi.testclient import TestClient

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True


def one_turn(hack):
    os.environ.update(PEER_HACK="1" if hack else "0", PEER_QUIET="1", PEER_CHUNK_DELAY="0.001", PEER_CHUNKS="4")
    sys.modules.pop("app", None)
    app = importlib.import_module("app")
    with TestClient(app.app) as client:
        assert client.get("/test/1/test_input").json() == "success"
        # TestClient runs the background task before the request returns.
        chunks = client.get("/test/1/chunks").json()
        assert len(chunks) == 4 and all(c.startswith(f"resp{i}:") for i, c in enumerate(chunks)), chunks
        session = client.get("/test").json()
    assert session["id"] == "test" and session["history"][0] == "prompt:test_input", session
    return session


def main():
    lost = one_turn(hack=False)
    assert len(lost["history"]) == 1 and lost["total"] == 1, lost  # the gist's bug, kept
    kept = one_turn(hack=True)
    assert len(kept["history"]) == 2 and kept["total"] == 2, kept
    assert kept["history"][1].startswith("resp0:"), kept
    print("peer: ok (without PEER_HACK the answer is lost, as in the gist; with it, kept)")


if __name__ == "__main__":
    main()
