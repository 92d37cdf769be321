"""rt42 (attack): an agent whose host is reached through a configured HTTP proxy (``http_proxy``) is served by urllib,
not by the bounded keep-alive client (http1.py: 16 MiB, one deadline for the whole answer). urllib's ``res.read()``
took whatever the other end sent: a host (or the proxy) answering a signed read with an endless body grew the agent's
memory until the process died, and a trickled body held the call as long as each byte came inside the per-recv
timeout. Now the proxy path reads the body the way http1 does: past 16 MiB or past the timeout it is a refused answer
(the read raises ``EnclaveUnavailableError``), and the sending end sees the agent close the connection."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import pytest
from eth_account import Account

from bursar import agent_status, load_agent_key
from bursar.errors import BursarError, EnclaveUnavailableError
from bursar.http1 import _MAX_BODY
from fake_host import RawServer, read_head
from fake_host import agent_key as _key

STATUS = {"status": {"agentId": "a", "wallet": "w", "budgets": []}}


class _Proxy(RawServer):
    """An HTTP proxy that answers every request itself: ``mode`` 'endless' (a body without length, up to 256 MiB),
    'trickle' (one byte each 0.05 s of a declared 100,000), or 'honest' (a status answer). Counts what it sent."""

    def __init__(self, mode: str) -> None:
        self.mode, self.sent, self.requests = mode, 0, []
        self.done = threading.Event()
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}"

    def serve(self, c: socket.socket) -> None:
        with c:
            buf = read_head(c)
            if buf is None:
                return
            self.requests.append(buf.split(b"\r\n", 1)[0].decode())
            try:
                if self.mode == "refusal":
                    body = json.dumps({"code": "agent_unknown", "message": "no such agent"}).encode()
                    c.sendall(b"HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body)
                elif self.mode == "honest":
                    body = json.dumps(STATUS).encode()
                    c.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body)
                elif self.mode == "endless":
                    c.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n")
                    piece = b'{"status": "' + b"x" * (1 << 20)
                    while self.sent < 256 << 20:
                        c.sendall(piece)
                        self.sent += len(piece)
                else:
                    c.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n")
                    t0 = time.time()
                    while time.time() - t0 < 60:
                        c.sendall(b" ")
                        self.sent += 1
                        time.sleep(0.05)
            except OSError:
                pass
            finally:
                self.done.set()


@pytest.fixture
def through(monkeypatch):
    """Points http_proxy at a fresh _Proxy; the host URL is an origin nothing listens on (only the proxy answers)."""
    made: list[_Proxy] = []

    def make(mode: str) -> tuple[_Proxy, str]:
        p = _Proxy(mode)
        made.append(p)
        for name in ("http_proxy", "HTTP_PROXY"):
            monkeypatch.setenv(name, p.url)
        for name in ("no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        # urlopen builds its opener (and reads the proxy settings) once per process: again for this proxy.
        monkeypatch.setattr(urllib.request, "_opener", None)
        # A host origin of its own per case: request.py remembers per origin whether a proxy serves it.
        return p, f"http://bursar-host-{len(made)}-{time.monotonic_ns()}.invalid:8080"

    yield make
    for p in made:
        p.close()


def test_an_endless_body_through_the_proxy_is_refused_past_the_body_limit(through):
    proxy, host = through("endless")
    w = Account.create().address
    with pytest.raises(EnclaveUnavailableError) as e:
        agent_status(host, load_agent_key(_key(w)), w)
    assert e.value.code == "enclave_unavailable"
    assert "too large" in str(e.value)
    assert proxy.requests and proxy.requests[0].startswith(f"POST {host}/v1/agent/status ")
    assert proxy.done.wait(30)  # the agent closed the connection: the proxy's send failed
    assert proxy.sent < 64 << 20  # it got at most the body limit and the socket buffers into the agent (old: all 256 MiB)
    assert _MAX_BODY == 16 << 20


def test_a_trickled_body_through_the_proxy_ends_at_the_timeout(through, monkeypatch):
    proxy, host = through("trickle")
    w = Account.create().address
    from bursar import request as request_mod

    real = request_mod.post_signed
    monkeypatch.setattr("bursar.reads.post_signed", lambda *a, **k: real(*a, **{**k, "timeout": 1.0}))
    t0 = time.monotonic()
    with pytest.raises(EnclaveUnavailableError) as e:
        agent_status(host, load_agent_key(_key(w)), w)
    assert e.value.code == "enclave_unavailable"
    assert "deadline" in str(e.value)
    assert proxy.requests and proxy.sent > 0
    assert time.monotonic() - t0 < 30  # old: until the trickle ended (60 s here, as long as the host likes in life)


def test_an_honest_answer_through_the_proxy_is_read(through):
    proxy, host = through("honest")
    w = Account.create().address
    assert agent_status(host, load_agent_key(_key(w)), w) == STATUS["status"]
    assert len(proxy.requests) == 1


def test_an_honest_refusal_through_the_proxy_is_its_typed_error(through):
    """The error path (urllib raises HTTPError for a 401) reads its body bounded too, and the code comes through."""
    proxy, host = through("refusal")
    w = Account.create().address
    with pytest.raises(BursarError) as e:
        agent_status(host, load_agent_key(_key(w)), w)
    assert e.value.code == "agent_unknown"
    assert len(proxy.requests) == 1
