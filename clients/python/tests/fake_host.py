"""Loopback hosts for the SDK's tests (tidy42: one way to write them, where each file wrote its own): an HTTP server on
127.0.0.1 whose POST handler the test gives, JSON answers, a forward to the real host for a proxy in front of it, and
the agent keys and wallet signatures the fake hosts answer with."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bursar.agent_key import agent_id_from_public_key


class Handler(BaseHTTPRequestHandler):
    """What a fake host's ``do_post(handler)`` is given: the request, plus ``body()`` and ``send_json``."""

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers["content-length"]))

    def send_json(self, status: int, obj) -> None:
        self.send_raw(status, json.dumps(obj).encode())

    def send_raw(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):  # quiet
        pass


class FakeHost:
    """Serves POSTs on loopback with ``do_post(handler)`` until ``close()``; one request at a time unless ``threaded``
    (then a thread per request). ``url``: its base URL; ``handler``: its request handler class."""

    def __init__(self, do_post: Callable[[Handler], None], threaded: bool = False) -> None:
        self.handler = type("H", (Handler,), {"do_POST": lambda h: do_post(h)})
        self.server = (ThreadingHTTPServer if threaded else HTTPServer)(("127.0.0.1", 0), self.handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()


class RawServer:
    """A TCP server on loopback for answers an HTTP server would not send (trickled, chunked, garbage): a thread per
    connection runs the subclass's ``serve(connection)``; counts ``connections``; ``close()`` stops accepting."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.sock.close()


def read_head(c: socket.socket) -> bytes | None:
    """Reads from ``c`` until a request's head has ended (``\\r\\n\\r\\n``): what was read, or None if the peer closed first."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            return None
        buf += d
    return buf


def forward(upstream: str, path: str, body: bytes) -> tuple[int, bytes]:
    """POSTs ``body`` to the real host at ``upstream + path``: its status and answer, refusals included."""
    req = urllib.request.Request(upstream + path, data=body, method="POST", headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def agent_key(wallet: str) -> dict:
    """A fresh Ed25519 agent key file's contents for ``wallet``."""
    sk = Ed25519PrivateKey.generate()
    pub = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"agentId": agent_id_from_public_key(pub), "publicKey": pub.hex(), "privateKey": sk.private_bytes_raw().hex(), "wallet": wallet}


def sign_wallet(account, req: dict) -> str:
    """The wallet's (``account``'s) EIP-712 signature of a sign request's typed data, as an honest enclave answers it."""
    td = req["typedData"]
    m = td["message"]
    msg = {**m, "value": int(m["value"]), "validAfter": int(m["validAfter"]), "validBefore": int(m["validBefore"]), "nonce": bytes.fromhex(m["nonce"][2:])}
    return "0x" + bytes(account.sign_typed_data(td["domain"], td["types"], msg).signature).hex()
