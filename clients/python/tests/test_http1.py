"""The SDK's keep-alive HTTP/1.1 client (bursar.http1, used by post_signed) against raw-socket servers on loopback:
one connection reused, chunked and close-delimited answers, an idle-closed connection replaced, garbage refused."""

import threading

import pytest

from bursar import request as req
from bursar.http1 import BadAnswer
from fake_host import RawServer


class _Server(RawServer):
    """Accepts connections; for each request read (head + content-length body) calls `answer(n)` → bytes to send
    (None: close the connection without answering). Counts connections and requests."""

    def __init__(self, answer):
        self.requests: list[bytes] = []
        self.answer = answer
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}/v1/agent/sign"

    def serve(self, c):
        buf = b""
        with c:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
                while len(buf) < n:
                    buf += c.recv(65536)
                body, buf = buf[:n], buf[n:]
                self.requests.append(head + b"\r\n\r\n" + body)
                out = self.answer(len(self.requests))
                if out is None:
                    return
                c.sendall(out)
                if b"connection: close" in out.lower():
                    return


def _ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body


def _fresh_thread(fn):
    """Runs fn in a new thread (its own connection pool) and returns its result or raises its exception."""
    out: dict = {}

    def run():
        try:
            out["v"] = fn()
        except BaseException as e:  # noqa: BLE001
            out["e"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join(20)
    if "e" in out:
        raise out["e"]
    return out["v"]


def test_one_kept_connection_carries_many_requests_with_the_exact_bytes():
    s = _Server(lambda n: _ok(b'{"n":%d}' % n))
    try:
        answers = _fresh_thread(lambda: [req._post_once(s.url, b'{"request":"x"}', 5) for _ in range(5)])
        assert answers == [(200, b'{"n":%d}' % i, False) for i in range(1, 6)]
        assert s.connections == 1
        assert all(r.endswith(b'\r\n\r\n{"request":"x"}') and r.startswith(b"POST /v1/agent/sign HTTP/1.1\r\n") for r in s.requests)
    finally:
        s.close()


def test_chunked_and_close_delimited_answers_are_read_whole():
    answers = {
        1: b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=1\r\n:1}\r\n0\r\nx-trailer: 1\r\n\r\n",
        2: b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\ncontent-length: 2\r\n\r\n{}",
        3: b"HTTP/1.0 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{\"end\":true}",
    }
    s = _Server(lambda n: answers[n])
    try:
        got = _fresh_thread(lambda: [req._post_once(s.url, b"{}", 5) for _ in range(3)])
        assert got == [(200, b'{"a":1}', False), (503, b"{}", False), (200, b'{"end":true}', False)]
        assert s.connections == 1
    finally:
        s.close()


def test_a_kept_connection_the_server_closed_is_replaced_once():
    # Request 2 arrives on the kept connection, which the server drops without answering (an idle close): the same
    # bytes are sent once more on a fresh connection and that answer is returned.
    s = _Server(lambda n: None if n == 2 else _ok(b'{"n":%d}' % n))
    try:
        got = _fresh_thread(lambda: [req._post_once(s.url, b'{"same":1}', 5) for _ in range(2)])
        assert got == [(200, b'{"n":1}', False), (200, b'{"n":3}', True)]  # True: the bytes went out twice
        assert s.connections == 2
        assert s.requests[1] == s.requests[2]
    finally:
        s.close()


def test_a_fresh_connection_closed_without_answer_is_an_error_not_a_retry():
    s = _Server(lambda n: None)
    try:
        with pytest.raises(ConnectionResetError):
            _fresh_thread(lambda: req._post_once(s.url, b"{}", 5))
        assert len(s.requests) == 1
    finally:
        s.close()


def test_garbage_is_refused():
    s = _Server(lambda n: b"SSH-2.0-OpenSSH\r\n\r\n")
    try:
        with pytest.raises(BadAnswer):
            _fresh_thread(lambda: req._post_once(s.url, b"{}", 5))
    finally:
        s.close()


def test_a_forked_child_opens_its_own_connection():
    import os

    s = _Server(lambda n: _ok(b'{"n":%d}' % n))
    try:
        assert req._post_once(s.url, b"{}", 5)[0] == 200  # this thread's kept connection
        pid = os.fork()
        if pid == 0:  # the child: must not write on the parent's socket
            try:
                ok = req._post_once(s.url, b"{}", 5)[0] == 200
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0
        assert req._post_once(s.url, b"{}", 5)[0] == 200
        assert s.connections == 2  # the parent's (reused after the fork) and the child's own
    finally:
        s.close()


def test_a_sign_request_resent_after_a_dropped_kept_connection_and_refused_as_seen_is_outcome_unknown():
    # SECURITY: the first copy went out on a kept connection that then failed, so it may have been signed; the host
    # refusing the resent copy as already seen must not read as a plain refusal (that would invite a second payment).
    import json as _json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from bursar import AgentKey, RequestOutcomeUnknownError
    from bursar.agent_key import agent_id_from_public_key

    sk = Ed25519PrivateKey.generate()
    pub = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = AgentKey(agent_id=agent_id_from_public_key(pub), public_key=pub.hex(), private_key=sk.private_bytes_raw().hex())
    wallet = "0x" + "11" * 20

    def answer(n):
        if n == 1:
            return _ok(_json.dumps({"signature": "0x" + "ab" * 65}).encode())
        if n == 2:
            return None  # the kept connection drops
        return b"HTTP/1.1 409 Conflict\r\ncontent-type: application/json\r\ncontent-length: 27\r\n\r\n" + b'{"code":"request_replayed"}'

    s = _Server(answer)
    host = f"http://127.0.0.1:{s.port}"
    try:
        def run():
            # session=False: this server counts every request on its one connection (no background session open).
            req.post_signed(host, key, wallet, "/v1/agent/sign", {"op": "signTypedData"}, timeout=5, session=False)
            with pytest.raises(RequestOutcomeUnknownError):
                req.post_signed(host, key, wallet, "/v1/agent/sign", {"op": "signTypedData"}, timeout=5, session=False)
            return True

        assert _fresh_thread(run)
        assert s.requests[1] == s.requests[2]  # the same signed bytes, twice
    finally:
        s.close()
