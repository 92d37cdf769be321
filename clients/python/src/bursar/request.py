"""Signed agent requests to the bursar host: the same framing as the TypeScript SDK, byte for byte.

The request object is serialized once as compact JSON (``JSON.stringify``'s output: no spaces, non-ASCII
kept, the same escapes), the UTF-8 bytes are signed with the agent's Ed25519 key, and
``{"request": text, "signature": hex}`` is posted. The enclave verifies the signature over exactly those bytes.
"""

from __future__ import annotations

import json
import math
import os
import random
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from . import _json
from . import session as _session
from .agent_key import AgentKey
from .http1 import _MAX_BODY, BadAnswer, Http1Connection
from .errors import BursarError, EnclaveUnavailableError, RequestOutcomeUnknownError, ResponseInvalidError, to_agent_error

_RETRY = {"request_stale", "request_not_yet_valid", "request_before_enclave_start"}


# Built once: json.dumps with non-default arguments constructs an encoder on every call.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_ENVELOPE = json.JSONEncoder(ensure_ascii=False)


def request_text(obj: dict[str, Any]) -> str:
    """``JSON.stringify(obj)`` for the values a request holds (str, int, bool, None, list, dict)."""
    text = _COMPACT.encode(obj)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate: JSON.stringify would escape it, so the bytes would differ
        raise BursarError("request_invalid", "request text holds a lone UTF-16 surrogate") from e
    return text


# The longest a sign request may live (expiresAt - issuedAt): the enclave's replay window.
REQUEST_MAX_LIFETIME_MS = 30_000
# Refusals made before the enclave decides: on a resend they say nothing about the first copy.
_UNDECIDED = {"request_replayed", "request_stale", "request_not_yet_valid", "request_before_enclave_start"}
# 503 codes by which the host says it did not forward the request.
_NOT_FORWARDED = {"enclave_not_ready", "enclave_busy"}


def build_request(
    agent_key: AgentKey,
    wallet: str,
    fields: dict[str, Any],
    *,
    nonce: str | None = None,
    issued_at: int | None = None,
    expires_at: int | None = None,
) -> dict[str, Any]:
    """The request object in the TypeScript SDK's key order: v, agentId, wallet, nonce, issuedAt, expiresAt (sign requests), then the fields."""
    issued = issued_at if issued_at is not None else int(time.time() * 1000)
    request: dict[str, Any] = {
        "v": 1,
        "agentId": agent_key.agent_id,
        "wallet": wallet,
        "nonce": nonce if nonce is not None else secrets.token_hex(16),
        "issuedAt": issued,
    }
    if expires_at is not None:
        request["expiresAt"] = expires_at
    request.update(fields)
    return request


def sign_request(agent_key: AgentKey, request: dict[str, Any]) -> tuple[str, str]:
    """Returns (text, signature hex) for a request object."""
    text = request_text(request)
    return text, agent_key.signing_key().sign(text.encode("utf-8")).hex()


def _read_bounded(res: Any, timeout: float) -> bytes:
    """rt42: an answer body read through urllib (a configured proxy), bounded as http1 bounds the direct path: at most
    its body limit (more is ``BadAnswer``, not buffered) and the whole body within ``timeout`` (a trickle is a
    ``TimeoutError``, not a wait as long as the host likes: urllib's timeout is per recv)."""
    deadline = time.monotonic() + timeout
    read = getattr(res, "read1", None) or res.read
    out = bytearray()
    while True:
        chunk = read(65536)
        if not chunk:
            return bytes(out)
        out += chunk
        if len(out) > _MAX_BODY:
            raise BadAnswer("HTTP answer body too large")
        if time.monotonic() > deadline:
            raise TimeoutError("no whole answer before the deadline")


def _post_urllib(url: str, data: bytes, timeout: float) -> tuple[int, bytes, bool]:
    req = urllib.request.Request(url, data=data, method="POST", headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, _read_bounded(res, timeout), False
    except urllib.error.HTTPError as e:
        return e.code, _read_bounded(e, timeout), False


# Keep-alive connections to the host, one per thread and origin (http1.Http1Connection, not thread-safe), so a
# payment does not pay for a TCP connect and teardown. Origins that go through a configured proxy keep using urllib.
_local = threading.local()


def _forget_connections_after_fork() -> None:
    # A forked child must not share the parent's sockets (two processes writing one connection mix their answers).
    global _local
    _local = threading.local()


os.register_at_fork(after_in_child=_forget_connections_after_fork)
_ORIGINS: dict[str, tuple[str, str, int, str] | None] = {}


def _origin(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, path) for a direct http(s) URL, or None (proxy configured, other scheme): urllib decides."""
    parts = urllib.parse.urlsplit(url)
    key = f"{parts.scheme}://{parts.netloc}"
    if key not in _ORIGINS:
        direct = parts.scheme in ("http", "https") and parts.hostname is not None and not parts.username
        if direct and parts.scheme in urllib.request.getproxies():
            direct = bool(urllib.request.proxy_bypass(parts.hostname or ""))
        _ORIGINS[key] = (parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), key) if direct else None
    o = _ORIGINS[key]
    if o is None:
        return None
    path = parts.path or "/"
    return o[0], o[1], o[2], path + (f"?{parts.query}" if parts.query else "")


def _post_once(url: str, data: bytes, timeout: float) -> tuple[int, bytes, bool]:
    """One POST: (status, body, resent). ``resent``: the bytes went out twice (a kept connection failed first, so the
    first copy may have reached the host) — the caller treats the answer as that of a resend."""
    o = _origin(url)
    if o is None:
        return _post_urllib(url, data, timeout)
    scheme, host, port, path = o
    pool: dict[tuple[str, str, int], Http1Connection] | None = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    key = (scheme, host, port)
    conn = pool.get(key)
    reused = conn is not None and conn.sock is not None
    resent = False
    for _ in range(2):
        if conn is None or conn.sock is None:
            conn = Http1Connection(scheme, host, port, timeout)
            pool[key] = conn
        try:
            status, body = conn.post(path, data, timeout)
            return status, body, resent
        except OSError as e:
            conn.close()
            pool.pop(key, None)
            conn = None
            # A kept connection the server closed while idle fails before any answer byte: one resend of the same
            # bytes on a fresh connection (the host answers a resent sign request with its first answer).
            if reused and isinstance(e, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
                reused = False
                resent = True
                continue
            raise
    raise ConnectionError("unreachable")


def _post_fresh(url: str, data: bytes, timeout: float) -> tuple[int, bytes]:
    """One POST on a connection of its own, closed afterwards (a session open, from its background thread)."""
    o = _origin(url)
    if o is None:
        status, body, _ = _post_urllib(url, data, timeout)
        return status, body
    scheme, host, port, path = o
    conn = Http1Connection(scheme, host, port, timeout)
    try:
        return conn.post(path, data, timeout)
    finally:
        conn.close()


def _code_of(raw: bytes) -> Any:
    try:
        body = _json.loads(raw)
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


_SESSION_REFUSED = {"session_unknown", "session_invalid"}


def _refused_connection(e: BaseException) -> bool:
    reason = getattr(e, "reason", e)
    return isinstance(reason, ConnectionRefusedError)


def _send_until_deadline(url: str, data: bytes, request_id: str, expires_at: int | None, timeout: float) -> tuple[int, bytes, bool]:
    """Posts the same bytes; on a timeout, a dropped connection or a 503 resends them with bounded backoff until the
    deadline (sign requests only). Returns (status, raw body, resent)."""
    maybe_sent = False
    backoff = 0.05
    attempt = 0
    while True:
        left = (expires_at / 1000 - time.time()) if expires_at is not None else timeout
        if attempt > 0 and left <= 0:
            if not maybe_sent:
                raise EnclaveUnavailableError("enclave_unavailable", f"bursar host unreachable or not ready: {url}")
            raise RequestOutcomeUnknownError(
                f"no answer before the request's deadline after {attempt} attempt(s); it may have been signed (request id {request_id})",
                request_id=request_id,
                expires_at=expires_at or 0,
                attempts=attempt,
            )
        attempt += 1
        try:
            status, raw, resent_inside = _post_once(url, data, max(min(left, timeout), 0.001))
            if resent_inside:
                maybe_sent = True
            if expires_at is None or status != 503:
                return status, raw, (attempt > 1 or resent_inside) and maybe_sent
            try:
                code = _json.loads(raw).get("code")
            except (ValueError, AttributeError):
                code = None
            if code == "enclave_halted":
                return status, raw, (attempt > 1 or resent_inside) and maybe_sent
            if code not in _NOT_FORWARDED:
                maybe_sent = True
        except (urllib.error.URLError, OSError) as e:
            if expires_at is None or (_refused_connection(e) and not maybe_sent):
                raise EnclaveUnavailableError("enclave_unavailable", f"bursar host unreachable: {url} ({e})") from e
            if not _refused_connection(e):
                maybe_sent = True
        if expires_at is not None:
            wait = min(backoff, max(expires_at / 1000 - time.time(), 0))
            backoff = min(backoff * 2, 2.0)
            time.sleep(wait / 2 + random.random() * wait / 2)


def post_signed(host: str, agent_key: AgentKey, wallet: str, path: str, fields: dict[str, Any], *, timeout: float = 30.0, session: bool = True) -> Any:
    """Signs and posts one request; answers the parsed 2xx body, raises the typed error otherwise.

    A sign request carries its deadline (``expiresAt`` = issuedAt + timeout, at most 30 s), covered by the signature:
    the enclave signs nothing for it afterwards. On a timeout, a dropped connection or a 503 the SAME signed bytes
    are resent until the deadline (the host answers a resend with the first copy's answer), then
    RequestOutcomeUnknownError carries the request id: never a silent second request. A stale clock or a
    just-restarted enclave (refused before any decision) is retried with a fresh nonce and timestamp (at most twice).

    Sign requests are authenticated inside a MAC session once one is open for (agent key, host, wallet) (``session``,
    default True; see bursar.session): ``s1:<id>:<HMAC-SHA256>`` instead of the Ed25519 signature. A MAC the enclave
    refuses before reading anything (``session_unknown``: it restarted or the session expired; ``session_invalid``)
    makes the SDK resend the SAME text once, Ed25519-signed, and drop the session (after ``session_invalid``: Ed25519
    for a minute). Reads are always Ed25519-signed, as in the TypeScript SDK.
    """
    url = host.rstrip("/") + path
    is_sign = path.endswith("/sign")
    use_session = session and is_sign
    if use_session:
        open_url = url[: -len("/sign")] + "/session"
        slot = f"{url}|{wallet.lower()}"
        post_open = lambda body, t: _post_fresh(open_url, body, t)  # noqa: E731
    lifetime = min(max(int(timeout * 1000), 1), REQUEST_MAX_LIFETIME_MS)
    for attempt in range(3):
        issued_at = int(time.time() * 1000)
        request = build_request(agent_key, wallet, fields, issued_at=issued_at, expires_at=issued_at + lifetime if is_sign else None)
        text = request_text(request)
        sess = _session.session_for(agent_key, slot, wallet, post_open) if use_session else None
        # SECURITY: the MAC or signature covers exactly these bytes; the host forwards the text unchanged.
        auth = sess.mac(text) if sess is not None else agent_key.signing_key().sign(text.encode("utf-8")).hex()
        data = _ENVELOPE.encode({"request": text, "signature": auth}).encode("utf-8")
        status, raw, resent = _send_until_deadline(url, data, request["nonce"], request.get("expiresAt"), timeout)
        if sess is not None and status == 401:
            code = _code_of(raw)
            if code in _SESSION_REFUSED:
                # The enclave refused the MAC before reading anything (it lost the session, or the host swapped the key
                # share in the open answer): the SAME text once more under the agent's Ed25519 key. A copy decided
                # earlier is answered from the host's store or refused as a reused nonce (RequestOutcomeUnknownError).
                _session.drop_session(agent_key, slot, sess, code == "session_invalid")
                _session.session_for(agent_key, slot, wallet, post_open)  # session_unknown: a new one opens in the background
                data = _ENVELOPE.encode({"request": text, "signature": agent_key.signing_key().sign(text.encode("utf-8")).hex()}).encode("utf-8")
                status, raw, again = _send_until_deadline(url, data, request["nonce"], request.get("expiresAt"), timeout)
                resent = resent or again
        try:
            body = _json.loads(raw)
        except ValueError as e:
            if status == 503:
                raise EnclaveUnavailableError("enclave_unavailable", "bursar host answered 503") from e
            raise ResponseInvalidError("response_invalid", f"bursar host sent non-JSON (HTTP {status})", status=status) from e
        code = body.get("code") if isinstance(body, dict) else None
        ok = 200 <= status < 300 and not (isinstance(code, str) and "signature" not in body and is_sign)
        if ok:
            if is_sign and isinstance(body, dict):
                body["requestId"] = request["nonce"]  # this request's id, for the receipt check (overwrites anything the host sent)
            return body
        if is_sign and code == "request_nonce_reused":
            # SECURITY: one text per nonce here, so "other bytes used this nonce" means the host's view of this
            # request is not ours: whether it was signed is unknown (never invite a second authorization).
            raise RequestOutcomeUnknownError(
                "the host says this request nonce was used with other bytes; this request may have been signed",
                request_id=request["nonce"],
                expires_at=request.get("expiresAt", 0),
                attempts=2 if resent else 1,
            )
        if resent and is_sign and code in _UNDECIDED:  # reads are never resent but on a dropped kept connection; no payment hangs on them
            raise RequestOutcomeUnknownError(
                "the request was resent and refused as already seen; its first copy may have been signed",
                request_id=request["nonce"],
                expires_at=request.get("expiresAt", 0),
                attempts=2,
            )
        # A fresh nonce after a clock refusal on the first send only (once), after the start floor at most twice, as the
        # TypeScript SDK: refusals are unsigned, and each fresh copy counts against the budget (hostLiesRequestStale).
        if (attempt == 0 if code != "request_before_enclave_start" else attempt < 2) and code in _RETRY:
            # The enclave's read path names no retryAfterMs: its start floor is 2 s after it started.
            default = 2100 if code == "request_before_enclave_start" else 1
            # rt42: a finite number only (json.loads takes NaN: time.sleep(nan) raised a bare ValueError).
            after = body.get("retryAfterMs")
            wait = after if isinstance(after, (int, float)) and not isinstance(after, bool) and math.isfinite(after) else default
            time.sleep(min(max(wait, 1), 5000) / 1000)
            continue
        raise to_agent_error(status, body)
    raise ResponseInvalidError("response_invalid", "unreachable")
