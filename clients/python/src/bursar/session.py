"""The agent's side of a MAC session (docs/agent-sdk.md "Sessions"), the Python twin of agent/agentSession.ts.

One Ed25519-signed ``openSession`` per (agent key, host, wallet) agrees a key K with the enclave over X25519:
``K = HKDF-SHA256(ikm = X25519(ours, theirs), salt = SHA-256(the exact signed open text),
info = "bursar agent session v1 " + the enclave's public key hex, 32 bytes)``. Later sign requests carry
``s1:<id>:<HMAC-SHA256(K, exact request bytes)>`` instead of an Ed25519 signature. The host sees both X25519
public keys, never K. A host that swaps the enclave's key share only makes every MAC fail (``session_invalid``):
denial, which it can do anyway.

The open runs in a background thread the first time a slot is used; no request waits for it (that request and any
other until the session is ready are Ed25519-signed), as in the TypeScript SDK.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from . import _json
from .agent_key import AgentKey

# How long a failed open makes the SDK sign with Ed25519 before it tries again (old host, session_limit…).
RETRY_OPEN_MS = 60_000
# A session is not used for a request that could outlive it (local clock; session_unknown covers skew).
MARGIN_MS = 60_000
# At most one open per slot this often, whatever the host says (no open per request, hostChurnsSessions).
REOPEN_MIN_MS = 2_000
# The open's own deadline (as the TS SDK's 10 s).
OPEN_TIMEOUT_S = 10.0

_ID = re.compile(r"^[0-9a-f]{32}$")
_HEX32 = re.compile(r"^[0-9a-f]{64}$")
_LABEL = b"bursar agent session v1 "


def session_key(shared: bytes, open_text: str, enclave_pub_hex: str) -> bytes:
    """K as shared/protocol/agentSessionKey.ts derives it (and the enclave): HKDF-SHA256 over the X25519 secret,
    salted with SHA-256 of the exact signed open text, bound to the enclave's public key."""
    salt = hashlib.sha256(open_text.encode("utf-8")).digest()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_LABEL + enclave_pub_hex.encode("ascii")).derive(shared)


@dataclass(frozen=True)
class AgentSession:
    id: str
    key: bytes
    until: int  # ms since the epoch, local clock: not used for a request issued after this

    def mac(self, text: str) -> str:
        """The request's authenticator inside this session: ``s1:<id>:<HMAC-SHA256(K, UTF-8 bytes) hex>``."""
        return f"s1:{self.id}:{hmac.digest(self.key, text.encode('utf-8'), 'sha256').hex()}"  # one-shot: OpenSSL, no HMAC object


# Posts one openSession envelope: (body bytes, timeout in seconds) -> (HTTP status, raw answer body).
Post = Callable[[bytes, float], "tuple[int, bytes]"]


def _now_ms() -> int:
    return int(time.time() * 1000)


def open_session(agent_key: AgentKey, wallet: str, post: Post, *, issued_at: int | None = None) -> AgentSession | None:
    """Opens one session (blocking): the Ed25519-signed openSession, then the same K as the enclave. None on any
    failure (old host 404, ``session_limit``, a malformed answer, an answer with under two minutes of life…)."""
    try:
        ours = X25519PrivateKey.generate()
        ours_hex = ours.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        issued = issued_at if issued_at is not None else _now_ms()
        request = {"v": 1, "agentId": agent_key.agent_id, "wallet": wallet, "nonce": secrets.token_hex(16), "issuedAt": issued, "op": "openSession", "x25519": ours_hex}
        text = json.dumps(request, separators=(",", ":"), ensure_ascii=False)
        signature = agent_key.signing_key().sign(text.encode("utf-8")).hex()
        status, raw = post(json.dumps({"request": text, "signature": signature}, ensure_ascii=False).encode("utf-8"), OPEN_TIMEOUT_S)
        if status != 200:
            return None
        s = _json.loads(raw).get("session")
        if not isinstance(s, dict):
            return None
        sid, theirs, expires = s.get("id"), s.get("x25519"), s.get("expiresAt")
        # fullmatch: re's $ also matches before a trailing newline (hostSendsMalformedSessionId).
        if not (isinstance(sid, str) and _ID.fullmatch(sid) and isinstance(theirs, str) and _HEX32.fullmatch(theirs)):
            return None
        # cryptography refuses a low-order peer key (all-zero secret) with ValueError; checked again for clarity.
        shared = ours.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(theirs)))
        if not any(shared):
            return None
        key = session_key(shared, text, theirs)
        lifetime = min(expires - issued, 3_600_000) if isinstance(expires, int) and not isinstance(expires, bool) else 0
        # A session with (almost) no life left is a failed open (Ed25519 for RETRY_OPEN_MS), not a reason to re-open now.
        if lifetime < 2 * MARGIN_MS:
            return None
        return AgentSession(id=sid, key=key, until=issued + lifetime - MARGIN_MS)
    except Exception:  # noqa: BLE001 - any failure means Ed25519 for a while, never an error for the caller
        return None


class _Entry:
    __slots__ = ("session", "until", "at")

    def __init__(self, until: int, at: int) -> None:
        self.session: AgentSession | None = None
        self.until = until
        self.at = at


# (agent id, public key, seed) → slot → entry. Keyed by the key's values (AgentKey is a frozen value object).
_CACHE: dict[tuple[str, str, str], dict[str, _Entry]] = {}
_LOCK = threading.Lock()


def _forget_after_fork() -> None:
    # A forked child has no open thread; it opens its own sessions (a parent's session would work, but its pending
    # open never completes in the child).
    global _LOCK
    _LOCK = threading.Lock()
    _CACHE.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


def _slots(agent_key: AgentKey) -> dict[str, _Entry]:
    k = (agent_key.agent_id, agent_key.public_key, agent_key.private_key)
    m = _CACHE.get(k)
    if m is None:
        m = _CACHE[k] = {}
    return m


def session_for(agent_key: AgentKey, slot: str, wallet: str, post: Post) -> AgentSession | None:
    """The ready session for (agent key, slot = sign URL | wallet), or None (sign this request with Ed25519): a missing
    or expired session is opened in a background thread, so no request ever waits for an open."""
    now = _now_ms()
    with _LOCK:
        m = _slots(agent_key)
        hit = m.get(slot)
        if hit is not None and hit.until > now:
            return hit.session
        entry = _Entry(until=now + RETRY_OPEN_MS, at=now)
        m[slot] = entry

    def run() -> None:
        s = open_session(agent_key, wallet, post)
        with _LOCK:
            entry.session = s
            entry.until = s.until if s is not None else _now_ms() + RETRY_OPEN_MS

    try:
        threading.Thread(target=run, name="bursar-session-open", daemon=True).start()
    except RuntimeError:  # no thread to be had (interpreter shutting down, thread limit): Ed25519, as for a failed open
        pass
    return None


def drop_session(agent_key: AgentKey, slot: str, session: AgentSession, back_off: bool) -> None:
    """Forgets a session the enclave no longer knows (``session_unknown``: a later request opens another, at most one
    open per slot per REOPEN_MIN_MS) or refused (``back_off``, ``session_invalid``: Ed25519 only for RETRY_OPEN_MS, so a
    host swapping key shares costs one open a minute). Only that session: a newer one another request opened stays."""
    with _LOCK:
        m = _slots(agent_key)
        hit = m.get(slot)
        if hit is None or hit.session is not session:
            return
        dead = _Entry(until=_now_ms() + RETRY_OPEN_MS if back_off else hit.at + REOPEN_MIN_MS, at=hit.at)
        m[slot] = dead


def _set_session(agent_key: AgentKey, slot: str, session: AgentSession | None, until: int | None = None) -> None:
    """Tests only: puts a session (or a pending/failed slot) in the cache as if an open had answered it."""
    with _LOCK:
        e = _Entry(until=until if until is not None else (session.until if session else _now_ms() + RETRY_OPEN_MS), at=_now_ms())
        e.session = session
        _slots(agent_key)[slot] = e


def _clear() -> None:
    """Tests only: forgets every session."""
    with _LOCK:
        _CACHE.clear()


def _peek(agent_key: AgentKey, slot: str) -> Any:
    with _LOCK:
        return _slots(agent_key).get(slot)
