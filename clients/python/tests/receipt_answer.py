"""A host answer to one sign request, with a genuine entry and checkpoint signed by the test's own key, and the SDK's
receipt check on it (test_host_sends_receipt_wallet_seq_as_bool.py, test_host_respells_checkpoint_signature.py)."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bursar.receipts import ReceiptMarks, check_receipt, entry_hash

WALLET = "0x" + "ab" * 20
AGENT = "agt_" + "cd" * 20
NONCE = "ef" * 16
DIGEST = bytes(range(32))


def sign_allowed_entry() -> tuple[dict, str]:
    """The enclave's sign_allowed entry of this request at seq 0 (walletSeq 1), and its hash."""
    entry = {
        "action": None, "agentId": AGENT, "code": None, "event": "sign_allowed", "ledger": [], "policy": None, "prevHash": "0x" + "00" * 32,
        "reason": None, "requestId": NONCE, "rule": None, "seq": 0, "signedHash": "0x" + DIGEST.hex(), "stateVersion": 1, "time": 1,
        "verdict": "allow", "wallet": WALLET, "walletPrev": "0x" + "00" * 32, "walletSeq": 1,
    }
    return entry, entry_hash(entry)


def answer(entry: dict, h: str, cp: dict) -> dict:
    return {"signature": "0x", "signedHash": "0x" + DIGEST.hex(), "receipt": {"seq": 0, "walletSeq": 1, "entryHash": h, "checkpoint": cp}, "auditEntry": entry}


def key_hex(sk: Ed25519PrivateKey) -> str:
    return sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def check(body: dict, sk: Ed25519PrivateKey, marks: ReceiptMarks) -> dict:
    """The SDK's check of ``body`` (a JSON round trip first, as off the wire) under ``sk``'s public key."""
    return check_receipt(json.loads(json.dumps(body)), key=sk.public_key(), key_hex=key_hex(sk), request_id=NONCE,
                         wallet=WALLET, agent_id=AGENT, digest=DIGEST, marks=marks, before=None)
