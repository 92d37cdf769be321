"""Attack (red team rt29b): a malicious host answers a byte at a time, each byte well inside the socket timeout, so a
per-recv timeout never fires. Then the session open's background thread (and its socket) never ends — a new one
starts every RETRY_OPEN_MS, each held forever — and a sign request outlives its deadline: a synchronous caller hangs,
and 64 such payments hold every thread of the async pool, so every later async payment stalls. The TypeScript SDK
sweeps a total deadline per request (agent/postJson.ts); the Python SDK must too."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from bursar import RequestOutcomeUnknownError, load_agent_key
from bursar import request as request_mod
from bursar import session as S
from bursar.http1 import Http1Connection
from fake_host import RawServer, read_head

from pathlib import Path

KEY = json.loads((Path(__file__).parent / "vectors" / "ts_requests.json").read_text())["agentKey"]


class _Trickler(RawServer):
    """Reads each request, then sends a valid HTTP head announcing a long body and one body byte every `every` s
    (for at most `total` s, then closes): each recv is answered well inside any socket timeout."""

    def __init__(self, every: float = 0.2, total: float = 20.0, interim: bool = False) -> None:
        self.interim = interim
        self.every, self.total = every, total
        self.requests = 0
        self.stop = threading.Event()
        super().__init__()

    def serve(self, c: socket.socket) -> None:
        with c:
            if read_head(c) is None:
                return
            self.requests += 1
            try:
                t0 = time.time()
                if self.interim:  # endless interim answers, each one whole: "100 Continue" forever
                    while not self.stop.is_set() and time.time() - t0 < self.total:
                        c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                        time.sleep(self.every)
                    return
                c.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n")
                while not self.stop.is_set() and time.time() - t0 < self.total:
                    c.sendall(b" ")
                    time.sleep(self.every)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        super().close()


def _within(fn, seconds: float):
    """fn() in a thread; its result or exception, or AssertionError if it is still running after `seconds`."""
    out: dict = {}

    def run():
        try:
            out["v"] = fn()
        except BaseException as e:  # noqa: BLE001
            out["e"] = e

    t = threading.Thread(target=run, daemon=True)
    t0 = time.time()
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still waiting on a trickling host after {seconds} s"
    return out, time.time() - t0


@pytest.mark.parametrize("interim", [False, True])
def test_one_post_ends_at_its_timeout_however_slowly_the_host_answers(interim):
    srv = _Trickler(every=0.01 if interim else 0.2, interim=interim)
    try:
        conn = Http1Connection("http", "127.0.0.1", srv.port, 1.0)
        out, took = _within(lambda: conn.post("/v1/agent/session", b"{}", 1.0), 5.0)
        assert isinstance(out.get("e"), OSError) and took < 2.5
    finally:
        srv.close()


def test_a_trickled_session_open_fails_at_its_deadline_and_ends_its_thread(monkeypatch):
    monkeypatch.setattr(S, "OPEN_TIMEOUT_S", 1.0)
    srv = _Trickler()
    try:
        key = load_agent_key(KEY)
        url = f"http://127.0.0.1:{srv.port}/v1/agent/session"
        out, took = _within(lambda: S.open_session(key, "0x" + "11" * 20, lambda body, t: request_mod._post_fresh(url, body, t)), 5.0)
        assert out == {"v": None} and took < 2.5  # a failed open (Ed25519 for a minute), its socket closed
    finally:
        srv.close()


def test_a_trickled_sign_request_ends_at_its_deadline_as_outcome_unknown():
    srv = _Trickler()
    try:
        key = load_agent_key(KEY)
        host = f"http://127.0.0.1:{srv.port}"
        fields = {"op": "signMessage", "message": "hi"}
        out, took = _within(lambda: request_mod.post_signed(host, key, "0x" + "11" * 20, "/v1/agent/sign", fields, timeout=1.0, session=False), 6.0)
        assert isinstance(out.get("e"), RequestOutcomeUnknownError) and took < 3.5
        assert srv.requests >= 1
    finally:
        srv.close()
