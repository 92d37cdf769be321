"""Attack (red team rt31b): the host rewrites the receipt's ``walletSeq`` 1 as ``true`` (or 1.0). Python's ``True == 1``
let it through the seq comparison, and the marks then held ``true`` — written to the marks file shared with the
TypeScript SDK, whose schema refuses it (that agent no longer starts). The receipt's walletSeq must be an integer, as
the TypeScript check requires: ``receipt_invalid``. The entry and checkpoint are genuine (signed with this test's key)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from receipt_answer import WALLET, answer, check, key_hex, sign_allowed_entry

from bursar import ReceiptInvalidError
from bursar.receipts import ReceiptMarks, canonical_json


def _answer(sk: Ed25519PrivateKey) -> dict:
    entry, h = sign_allowed_entry()
    msg = canonical_json({"t": "bursar.audit.checkpoint.v1", "seq": 0, "head": h, "time": 2})
    return answer(entry, h, {"seq": 0, "head": h, "time": 2, "signature": "0x" + sk.sign(msg.encode()).hex()})


def test_the_genuine_receipt_passes():
    sk = Ed25519PrivateKey.generate()
    assert check(_answer(sk), sk, ReceiptMarks(None))["signed"] is True


@pytest.mark.parametrize("bad", [True, 1.0, "1"], ids=["bool", "float", "string"])
def test_host_sends_receipt_wallet_seq_as_bool_is_receipt_invalid(bad, tmp_path):
    sk = Ed25519PrivateKey.generate()
    body = _answer(sk)
    body["receipt"]["walletSeq"] = bad
    marks = ReceiptMarks(str(tmp_path / "marks.json"))
    with pytest.raises(ReceiptInvalidError):
        check(body, sk, marks)
    assert marks.get(key_hex(sk), WALLET) is None
