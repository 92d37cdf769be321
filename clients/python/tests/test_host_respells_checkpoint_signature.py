"""Attack (red team rt33a): the host hands this SDK a genuine turn checkpoint (turn18: one Ed25519 signature over a
Merkle root of the turn's heads, ``0x<sig>.<index>.<sibling>…``) spelt another way — upper-case hex, a ``0X`` prefix.
The signed bytes are unchanged, but the TypeScript SDK and the auditor (``AuditCheckpointSchema``, ``bursar audit
verify --receipts``) refuse that spelling: this SDK took it (``sig.lower()``), so an agent kept a receipt the auditor
calls malformed (its evidence against the host void). Every verifier must take exactly the enclave's spelling:
``receipt_invalid``, the signature not returned, no mark raised."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from receipt_answer import WALLET, answer, check, key_hex, sign_allowed_entry

from bursar import ReceiptInvalidError
from bursar.receipts import ReceiptMarks, canonical_json


def _answer(sk: Ed25519PrivateKey) -> dict:
    entry, h = sign_allowed_entry()
    # A turn of two heads (this entry at index 0, another answer's at seq 1), built here from docs/audit.md's rule.
    leaf = lambda seq, head: hashlib.sha256(b"\x00" + seq.to_bytes(8, "big") + bytes.fromhex(head[2:])).digest()  # noqa: E731
    sibling = leaf(1, "0x" + "77" * 32)
    root = hashlib.sha256(b"\x01" + leaf(0, h) + sibling).digest()
    msg = canonical_json({"t": "bursar.audit.turn.v1", "root": "0x" + root.hex(), "time": 2})
    return answer(entry, h, {"seq": 0, "head": h, "time": 2, "signature": "0x" + sk.sign(msg.encode()).hex() + ".0." + sibling.hex()})


def test_the_genuine_turn_receipt_passes():
    sk = Ed25519PrivateKey.generate()
    assert check(_answer(sk), sk, ReceiptMarks(None))["signed"] is True


RESPELL = {
    "upper_case_signature": lambda s: "0x" + s[2:130].upper() + s[130:],
    "0X_prefix": lambda s: "0X" + s[2:],
    "upper_case_path": lambda s: s[:130] + s[130:].upper(),
    "all_upper_case": lambda s: s.upper(),
    "index_leading_zero": lambda s: s[:130] + ".00" + s[132:],
    "trailing_newline": lambda s: s + "\n",
}


@pytest.mark.parametrize("how", list(RESPELL))
def test_host_respells_checkpoint_signature_is_receipt_invalid(how, tmp_path):
    sk = Ed25519PrivateKey.generate()
    genuine = _answer(sk)
    assert check(genuine, sk, ReceiptMarks(None))["signed"] is True  # the genuine turn signature verified (and cached) first
    body = _answer(sk)
    body["receipt"]["checkpoint"] = {**genuine["receipt"]["checkpoint"], "signature": RESPELL[how](genuine["receipt"]["checkpoint"]["signature"])}
    body["receipt"]["entryHash"], body["auditEntry"] = genuine["receipt"]["entryHash"], genuine["auditEntry"]
    marks = ReceiptMarks(str(tmp_path / "marks.json"))
    with pytest.raises(ReceiptInvalidError):
        check(body, sk, marks)
    assert marks.get(key_hex(sk), WALLET) is None


def test_host_adds_a_field_to_the_checkpoint_is_receipt_invalid(tmp_path):
    """The same differential by another field: the auditor's checkpoint schema is strict."""
    sk = Ed25519PrivateKey.generate()
    body = _answer(sk)
    body["receipt"]["checkpoint"]["note"] = "host"
    with pytest.raises(ReceiptInvalidError):
        check(body, sk, ReceiptMarks(None))
