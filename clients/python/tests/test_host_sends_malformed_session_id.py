"""Attack (red team rt29b): a malicious host answers the session open with a malformed session id or key share.
Python's ``re.match(r"^...$")`` also matches before a trailing newline (JavaScript's ``$`` does not), so an id of 32
hex + "\\n" was kept as a session: every later payment then carried ``s1:<id>\\n:<mac>``, which the host's and the
enclave's schema refuse as ``request_invalid`` (not session_unknown/invalid, so no Ed25519 fallback) — for the whole
session's life (up to an hour), blaming the caller's request. The TypeScript SDK refuses such an open (Ed25519 for a
minute); so must the Python SDK. Nothing of the answer may reach the authenticator unchecked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bursar import load_agent_key
from bursar import session as S

KEY = json.loads((Path(__file__).parent / "vectors" / "ts_requests.json").read_text())["agentKey"]
PUB = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _open_with(answer_session: dict):
    def post(body: bytes, timeout: float):
        req = json.loads(json.loads(body)["request"])
        s = {"expiresAt": req["issuedAt"] + 3_600_000, **answer_session}
        return 200, json.dumps({"session": s}).encode()

    return S.open_session(load_agent_key(KEY), "0x" + "11" * 20, post)


def test_a_well_formed_answer_opens_a_session():  # the control: the refusals below are for the malformed part only
    s = _open_with({"id": "ab" * 16, "x25519": PUB})
    assert s is not None and s.mac("{}").startswith("s1:" + "ab" * 16 + ":")


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "ab" * 16 + "\n", "x25519": PUB},  # trailing newline: Python's $ matches before it
        {"id": "ab" * 16, "x25519": PUB + "\n"},  # and bytes.fromhex skips it
        {"id": "AB" * 16, "x25519": PUB},
        {"id": "ab" * 15 + "a:", "x25519": PUB},
        {"id": "ab" * 16 + "\r\nx-injected: 1", "x25519": PUB},
        {"id": "ab" * 16, "x25519": PUB[:-2] + " 0"},
    ],
)
def test_a_malformed_session_id_or_key_share_is_a_failed_open(bad):
    assert _open_with(bad) is None
