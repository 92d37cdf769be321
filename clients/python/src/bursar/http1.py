"""A minimal keep-alive HTTP/1.1 POST client for the bursar host (the Python twin of agent/postHttp1.ts).

One request is one ``sendall`` of head + body; the answer's status line and headers are parsed by hand (no
``email`` parser, which is most of ``http.client``'s per-request CPU). Bodies by Content-Length, chunked
transfer coding, or until the server closes. Not thread-safe: the caller keeps one connection per thread.
"""

from __future__ import annotations

import socket
import ssl
import time

_MAX_HEAD = 64 * 1024
_MAX_BODY = 16 * 1024 * 1024  # bursar answers are a few KB; a host sending more is refused, not buffered
_SSL: ssl.SSLContext | None = None


class BadAnswer(ConnectionError):
    """The server's bytes are not an HTTP/1.x answer (an OSError: the request may have been received)."""


class Http1Connection:
    def __init__(self, scheme: str, host: str, port: int, timeout: float) -> None:
        global _SSL
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                _SSL = _SSL or ssl.create_default_context()
                sock = _SSL.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        self.sock: socket.socket | None = sock
        self._buf = b""
        self._deadline = 0.0  # monotonic; the current post's whole answer must arrive before it
        default_port = 443 if scheme == "https" else 80
        name = f"[{host}]" if ":" in host else host
        self._host_header = name if port == default_port else f"{name}:{port}"

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def _recv(self) -> bytes:
        if self.sock is None:
            raise BadAnswer("connection closed")
        # SECURITY: the timeout bounds the whole answer, not each recv: a host trickling a byte at a time would
        # otherwise hold a sign request past its deadline, or a session open's thread, forever (hostTricklesAnswer).
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no whole answer before the deadline")
        self.sock.settimeout(left)
        return self.sock.recv(65536)

    def _read_until(self, sep: bytes, limit: int) -> bytes:
        while True:
            i = self._buf.find(sep)
            if i >= 0:
                out, self._buf = self._buf[:i], self._buf[i + len(sep) :]
                return out
            if len(self._buf) > limit:
                raise BadAnswer("HTTP answer head too long")
            chunk = self._recv()
            if not chunk:
                raise BadAnswer("connection closed inside the HTTP answer")
            self._buf += chunk

    def _read_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self._recv()
            if not chunk:
                raise BadAnswer("connection closed inside the HTTP answer body")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def post(self, path: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        """Sends one POST and reads its answer: (status, body).

        Raises ConnectionResetError when the server closed the connection before sending any byte of an answer
        (on a kept connection: it was idle-closed), other OSErrors as they come."""
        if self.sock is None:
            raise ConnectionResetError("connection closed")
        self._deadline = time.monotonic() + timeout
        self.sock.settimeout(timeout)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host_header}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\naccept-encoding: identity\r\n\r\n"
        ).encode("latin-1")
        self.sock.sendall(head + body)
        while True:
            if not self._buf:
                first = self._recv()
                if not first:
                    raise ConnectionResetError("the server closed the connection before answering")
                self._buf = first
            # The whole head at once (status line + headers up to the empty line), then split in place.
            head = self._read_until(b"\r\n\r\n", _MAX_HEAD)
            lines = head.split(b"\r\n")
            status_line = lines[0]
            parts = status_line.split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
                raise BadAnswer(f"not an HTTP/1.x status line: {status_line[:80]!r}")
            status = int(parts[1])
            version_10 = parts[0] == b"HTTP/1.0"
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(b":")
                if not sep:
                    raise BadAnswer("malformed HTTP header line")
                key = name.strip().lower().decode("latin-1")
                val = value.strip().decode("latin-1")
                headers[key] = f"{headers[key]}, {val}" if key in headers else val
            if 100 <= status < 200:
                continue  # an interim answer (e.g. 100 Continue): the final one follows
            break
        connection = headers.get("connection", "").lower()
        keep = ("keep-alive" in connection) if version_10 else ("close" not in connection)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            out = bytearray()
            while True:
                size_line = self._read_until(b"\r\n", 1024)
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError as e:
                    raise BadAnswer("malformed chunk size") from e
                if size == 0:
                    while self._read_until(b"\r\n", _MAX_HEAD):  # trailers, up to the empty line
                        pass
                    break
                if len(out) + size > _MAX_BODY:
                    raise BadAnswer("HTTP answer body too large")
                out += self._read_exact(size)
                if self._read_exact(2) != b"\r\n":
                    raise BadAnswer("malformed chunk end")
            data = bytes(out)
        elif "content-length" in headers:
            try:
                n = int(headers["content-length"])
            except ValueError as e:
                raise BadAnswer("malformed content-length") from e
            if n < 0 or n > _MAX_BODY:
                raise BadAnswer("HTTP answer body too large")
            data = self._read_exact(n)
        elif status in (204, 304):
            data = b""
        else:  # the body runs to the end of the connection
            keep = False
            while True:
                chunk = self._recv()
                if not chunk:
                    break
                self._buf += chunk
                if len(self._buf) > _MAX_BODY:
                    raise BadAnswer("HTTP answer body too large")
            data, self._buf = self._buf, b""
        if not keep:
            self.close()
        return status, data
