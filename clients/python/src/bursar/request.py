"""Signed agent requests to the bursar host: the same framing as the TypeScript SDK, byte for byte.

The request object is serialized once as compact JSON (``JSON.stringify``'s output: no spaces, non-ASCII
kept, the same escapes), the UTF-8 bytes are signed with the agent's Ed25519 key, and
``{"request": text, "signature": hex}`` is posted. The enclave verifies the signature over exactly those bytes.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any

from .agent_key import AgentKey
from .errors import BursarError, EnclaveUnavailableError, ResponseInvalidError, to_agent_error

_RETRY = {"request_stale", "request_not_yet_valid", "request_before_enclave_start"}


def request_text(obj: dict[str, Any]) -> str:
    """``JSON.stringify(obj)`` for the values a request holds (str, int, bool, None, list, dict)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate: JSON.stringify would escape it, so the bytes would differ
        raise BursarError("request_invalid", "request text holds a lone UTF-16 surrogate") from e
    return text


def build_request(agent_key: AgentKey, wallet: str, fields: dict[str, Any], *, nonce: str | None = None, issued_at: int | None = None) -> dict[str, Any]:
    """The request object in the TypeScript SDK's key order: v, agentId, wallet, nonce, issuedAt, then the fields."""
    return {
        "v": 1,
        "agentId": agent_key.agent_id,
        "wallet": wallet,
        "nonce": nonce if nonce is not None else secrets.token_hex(16),
        "issuedAt": issued_at if issued_at is not None else int(time.time() * 1000),
        **fields,
    }


def sign_request(agent_key: AgentKey, request: dict[str, Any]) -> tuple[str, str]:
    """Returns (text, signature hex) for a request object."""
    text = request_text(request)
    return text, agent_key.signing_key().sign(text.encode("utf-8")).hex()


def post_signed(host: str, agent_key: AgentKey, wallet: str, path: str, fields: dict[str, Any], *, timeout: float = 30.0) -> Any:
    """Signs and posts one request; answers the parsed 2xx body, raises the typed error otherwise.

    A stale clock or a just-restarted enclave is retried with a fresh nonce and timestamp (at most twice).
    """
    url = host.rstrip("/") + path
    for attempt in range(3):
        text, signature = sign_request(agent_key, build_request(agent_key, wallet, fields))
        data = json.dumps({"request": text, "signature": signature}, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(url, data=data, method="POST", headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                status, raw = res.status, res.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        except (urllib.error.URLError, OSError) as e:
            raise EnclaveUnavailableError("enclave_unavailable", f"bursar host unreachable: {url} ({e})") from e
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            if status == 503:
                raise EnclaveUnavailableError("enclave_unavailable", "bursar host answered 503") from e
            raise ResponseInvalidError("response_invalid", f"bursar host sent non-JSON (HTTP {status})", status=status) from e
        code = body.get("code") if isinstance(body, dict) else None
        ok = 200 <= status < 300 and not (isinstance(code, str) and "signature" not in body and path.endswith("/sign"))
        if ok:
            return body
        if attempt < 2 and code in _RETRY:
            # The enclave's read path names no retryAfterMs: its start floor is 2 s after it started.
            default = 2100 if code == "request_before_enclave_start" else 1
            wait = body["retryAfterMs"] if isinstance(body.get("retryAfterMs"), (int, float)) else default
            time.sleep(min(max(wait, 1), 5000) / 1000)
            continue
        raise to_agent_error(status, body)
    raise ResponseInvalidError("response_invalid", "unreachable")
