"""Receipt checks (issue 15, sdk15) against a real host + simulated enclave (scripts/devchain/rollbackStack.ts):
an honest run passes with the checks on; a host that rewrites a receipt field, re-signs receipts with its own key, or
restores an older store (so the next receipt goes backwards) gets a typed error and the signature is not returned."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account import Account
from eth_account.messages import encode_typed_data

from bursar import BursarSigner, ReceiptInvalidError, ReceiptKeyMissingError, StateRollbackError
from bursar.receipts import canonical_json, entry_hash
from conftest import ts_stack
from fake_host import FakeHost, forward

DOMAIN = {"name": "USD Coin", "version": "2", "chain_id": 84532, "verifying_contract": "0x036CbD53842c5426634e7929541eC2318f3dCF7e"}
TYPES = {"TransferWithAuthorization": [{"name": n, "type": t} for n, t in [("from", "address"), ("to", "address"), ("value", "uint256"), ("validAfter", "uint256"), ("validBefore", "uint256"), ("nonce", "bytes32")]]}


@pytest.fixture(scope="module")
def stack():
    with ts_stack("scripts/devchain/rollbackStack.ts", "rollback stack") as (info, proc):

        def command(c: str) -> None:
            proc.stdin.write(c + "\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
            assert proc.stdout.readline().strip() == "ok"  # type: ignore[union-attr]

        info["command"] = command
        yield info


def _message(wallet: str) -> dict:
    return {"from": wallet, "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "value": 1000, "validAfter": 0, "validBefore": int(__import__("time").time()) + 600, "nonce": secrets.token_bytes(32)}


def _pay(signer: BursarSigner, wallet: str) -> bytes:
    msg = _message(wallet)
    sig = signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", msg)
    # Independent of the SDK: eth_account recovers the wallet from the signature.
    td = {"domain": {"name": "USD Coin", "version": "2", "chainId": 84532, "verifyingContract": DOMAIN["verifying_contract"]}, "types": TYPES, "primaryType": "TransferWithAuthorization", "message": msg}
    assert Account.recover_message(encode_typed_data(full_message={**td, "types": {**TYPES, "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]}}), signature=sig).lower() == wallet.lower()
    return sig


class _Proxy(FakeHost):
    """A malicious host in front of the real one: forwards every request, rewrites the JSON of a signature's answer."""

    def __init__(self, target: str) -> None:
        self.rewrite = None
        self.answers: list[dict] = []

        def do_post(h):
            status, data = forward(target, h.path, h.body())
            if h.path == "/v1/agent/sign" and status == 200 and self.rewrite:
                answer = json.loads(data)
                self.answers.append(json.loads(data))
                data = json.dumps(self.rewrite(answer)).encode()
            h.send_raw(status, data)

        super().__init__(do_post, threaded=True)


def test_an_honest_run_passes_with_the_checks_on_sequential_and_threaded(stack):
    signer = BursarSigner(stack["keyFile"], timeout=20.0)
    for _ in range(3):
        _pay(signer, stack["wallet"])
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda _: _pay(signer, stack["wallet"]), range(32)))
    assert len(signer.receipts) == 35
    assert len({r["seq"] for r in signer.receipts}) == 35


def _rehash(a: dict, edit) -> dict:
    edit(a["auditEntry"], a["receipt"])
    a["receipt"]["entryHash"] = entry_hash(a["auditEntry"])
    return a


@pytest.mark.parametrize(
    "attack",
    [
        lambda a: {**a, "receipt": {**a["receipt"], "seq": a["receipt"]["seq"] + 1}},
        lambda a: {**a, "receipt": {**a["receipt"], "walletSeq": a["receipt"]["walletSeq"] + 1}},
        lambda a: _rehash(a, lambda e, r: (e.__setitem__("seq", e["seq"] + 5), r.__setitem__("seq", e["seq"]))),
        lambda a: _rehash(a, lambda e, r: e.__setitem__("reason", "rewritten by the host")),
        lambda a: {**a, "auditEntry": {**a["auditEntry"], "requestId": "f" * 32}},
        lambda a: {k: v for k, v in a.items() if k != "auditEntry"},
        # rt31b: an entry the host invents one seq below the genuine checkpoint (hash recomputed): the checkpoint signs
        # another entry, nothing the enclave signed covers this one (accepted as "signed: False" before).
        lambda a: _rehash(a, lambda e, r: (e.__setitem__("seq", e["seq"] - 1), e.__setitem__("reason", "invented by the host"), r.__setitem__("seq", e["seq"]))),
    ],
    ids=["seq_up", "wallet_seq_up", "entry_moved_rehashed", "entry_reason_rehashed", "request_id_rewritten", "entry_left_out", "entry_forged_below_checkpoint"],
)
def test_host_rewrites_a_receipt_field_is_receipt_invalid_and_no_signature_is_returned(stack, attack):
    proxy = _Proxy(stack["host"])
    try:
        proxy.rewrite = attack
        signer = BursarSigner(stack["keyFile"], host=proxy.url, timeout=10.0)
        with pytest.raises(ReceiptInvalidError) as e:
            _pay(signer, stack["wallet"])
        assert e.value.code == "receipt_invalid"
        assert signer.receipts == []  # nothing was recorded as received
        assert proxy.answers and proxy.answers[-1]["signature"].startswith("0x")  # the enclave did sign
    finally:
        proxy.close()


def test_host_substitutes_its_own_receipt_key_is_receipt_invalid(stack):
    host_key = Ed25519PrivateKey.generate()

    def resign(a: dict) -> dict:
        e = {**a["auditEntry"], "seq": a["auditEntry"]["seq"] + 1000}
        h = entry_hash(e)
        cp = {"seq": e["seq"], "head": h, "time": a["receipt"]["checkpoint"]["time"]}
        msg = canonical_json({"t": "bursar.audit.checkpoint.v1", **cp}).encode()
        cp["signature"] = "0x" + host_key.sign(msg).hex()
        return {**a, "auditEntry": e, "receipt": {**a["receipt"], "seq": e["seq"], "entryHash": h, "checkpoint": cp}}

    proxy = _Proxy(stack["host"])
    try:
        proxy.rewrite = resign
        with pytest.raises(ReceiptInvalidError):
            _pay(BursarSigner(stack["keyFile"], host=proxy.url, timeout=10.0), stack["wallet"])
        # The same answers verify under the host's key: only the trusted key made the difference.
        host_pub = host_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        trusting = BursarSigner(stack["keyFile"], host=proxy.url, timeout=10.0, receipt_public_key=host_pub, receipt_marks_file=None)
        assert len(_pay(trusting, stack["wallet"])) == 65
        # No key configured: refused before anything is sent (the host's key is never taken).
        key = json.loads(open(stack["keyFile"]).read())
        key.pop("receiptPublicKey")
        with pytest.raises(ReceiptKeyMissingError):
            BursarSigner(key, host=proxy.url)
    finally:
        proxy.close()


def test_host_restores_an_older_store_is_state_rollback_detected(stack, tmp_path):
    marks = str(tmp_path / "marks.json")
    signer = BursarSigner(stack["keyFile"], timeout=20.0, receipt_marks_file=marks)
    _pay(signer, stack["wallet"])
    stack["command"]("copy")
    import time

    time.sleep(2.2)  # the restarted enclave refuses requests from before its start (+2 s)
    for _ in range(4):
        _pay(signer, stack["wallet"])
    stack["command"]("restore")
    time.sleep(2.2)
    with pytest.raises(StateRollbackError) as e:
        _pay(signer, stack["wallet"])
    assert e.value.code == "state_rollback_detected"
    # The marks file carries it to a new process.
    out = subprocess.run(
        [os.sys.executable, "-c", (
            "import sys, secrets\n"
            "from bursar import BursarSigner, BursarError\n"
            "s = BursarSigner(sys.argv[1], receipt_marks_file=sys.argv[2], timeout=20.0)\n"
            "m = {'from': sys.argv[3], 'to': '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', 'value': 1000, 'validAfter': 0, 'validBefore': int(__import__('time').time()) + 600, 'nonce': secrets.token_bytes(32)}\n"
            f"d = {DOMAIN!r}\nt = {TYPES!r}\n"
            "try:\n    s.sign_typed_data(d, t, 'TransferWithAuthorization', m); print('SIGNED')\n"
            "except BursarError as e:\n    print('REFUSED', e.code)\n"
        ), stack["keyFile"], marks, stack["wallet"]],
        capture_output=True, text=True, timeout=60,
    )
    assert out.stdout.strip() == "REFUSED state_rollback_detected", out.stderr[-2000:]
