"""Attack (red team rt31b): the host rewrites the receipt's ``walletSeq`` 1 as ``true`` (or 1.0). Python's ``True == 1``
let it through the seq comparison, and the marks then held ``true`` — written to the marks file shared with the
TypeScript SDK, whose schema refuses it (that agent no longer starts). The receipt's walletSeq must be an integer, as
the TypeScript check requires: ``receipt_invalid``. The entry and checkpoint are genuine (signed with this test's key)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bursar import ReceiptInvalidError
from bursar.receipts import ReceiptMarks, canonical_json, check_receipt, entry_hash

WALLET = "0x" + "ab" * 20
AGENT = "agt_" + "cd" * 20
NONCE = "ef" * 16
DIGEST = bytes(range(32))


def _answer(sk: Ed25519PrivateKey) -> dict:
    entry = {
        "action": None, "agentId": AGENT, "code": None, "event": "sign_allowed", "ledger": [], "policy": None, "prevHash": "0x" + "00" * 32,
        "reason": None, "requestId": NONCE, "rule": None, "seq": 0, "signedHash": "0x" + DIGEST.hex(), "stateVersion": 1, "time": 1,
        "verdict": "allow", "wallet": WALLET, "walletPrev": "0x" + "00" * 32, "walletSeq": 1,
    }
    h = entry_hash(entry)
    msg = canonical_json({"t": "bursar.audit.checkpoint.v1", "seq": 0, "head": h, "time": 2})
    cp = {"seq": 0, "head": h, "time": 2, "signature": "0x" + sk.sign(msg.encode()).hex()}
    return {"signature": "0x", "signedHash": "0x" + DIGEST.hex(), "receipt": {"seq": 0, "walletSeq": 1, "entryHash": h, "checkpoint": cp}, "auditEntry": entry}


def _check(body: dict, sk: Ed25519PrivateKey, marks: ReceiptMarks) -> dict:
    pk = sk.public_key()
    return check_receipt(json.loads(json.dumps(body)), key=pk, key_hex=pk.public_bytes(Encoding.Raw, PublicFormat.Raw).hex(), request_id=NONCE,
                         wallet=WALLET, agent_id=AGENT, digest=DIGEST, marks=marks, before=None)


def test_the_genuine_receipt_passes():
    sk = Ed25519PrivateKey.generate()
    assert _check(_answer(sk), sk, ReceiptMarks(None))["signed"] is True


@pytest.mark.parametrize("bad", [True, 1.0, "1"], ids=["bool", "float", "string"])
def test_host_sends_receipt_wallet_seq_as_bool_is_receipt_invalid(bad, tmp_path):
    sk = Ed25519PrivateKey.generate()
    body = _answer(sk)
    body["receipt"]["walletSeq"] = bad
    marks = ReceiptMarks(str(tmp_path / "marks.json"))
    with pytest.raises(ReceiptInvalidError):
        _check(body, sk, marks)
    assert marks.get(sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex(), WALLET) is None
