"""The signer trusts no host: a signature from another key, a malformed answer or a refusal never becomes a payment."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from eth_account import Account

from bursar import ApprovalPendingError, BursarSigner, PolicyDeniedError, ResponseInvalidError
from bursar.agent_key import agent_id_from_public_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DOMAIN = {"name": "USD Coin", "version": "2", "chain_id": 84532, "verifying_contract": "0x036CbD53842c5426634e7929541eC2318f3dCF7e"}
TYPES = {"TransferWithAuthorization": [{"name": n, "type": t} for n, t in [("from", "address"), ("to", "address"), ("value", "uint256"), ("validAfter", "uint256"), ("validBefore", "uint256"), ("nonce", "bytes32")]]}


def _key(wallet: str) -> dict:
    sk = Ed25519PrivateKey.generate()
    pub = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    seed = sk.private_bytes_raw()
    return {"agentId": agent_id_from_public_key(pub), "publicKey": pub.hex(), "privateKey": seed.hex(), "wallet": wallet}


class _Host:
    """A malicious or refusing host on loopback: answers every request with `answer(request_json)`."""

    def __init__(self, answer):
        outer = self
        self.requests: list[dict] = []
        self.opens = 0

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                if self.path.endswith("/session"):  # a host without sessions (the SDK signs with Ed25519)
                    outer.opens += 1
                    self.send_response(404)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                outer.requests.append(json.loads(body["request"]))
                status, payload = answer(outer.requests[-1])
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()


def _sign_as(account, req: dict) -> str:
    td = req["typedData"]
    m = td["message"]
    msg = {**m, "value": int(m["value"]), "validAfter": int(m["validAfter"]), "validBefore": int(m["validBefore"]), "nonce": bytes.fromhex(m["nonce"][2:])}
    return "0x" + bytes(account.sign_typed_data(td["domain"], td["types"], msg).signature).hex()


def _message(wallet: str) -> dict:
    return {"from": wallet, "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "value": 10000, "validAfter": 0, "validBefore": 1893456000, "nonce": b"\x07" * 32}


def test_accepts_only_a_signature_that_recovers_to_the_wallet():
    wallet, impostor = Account.create(), Account.create()
    host = _Host(lambda req: (200, {"signature": _sign_as(impostor, req), "signedHash": "0x" + "00" * 32, "receipt": {}}))
    try:
        signer = BursarSigner(_key(wallet.address), receipts="off", host=host.url)
        with pytest.raises(ResponseInvalidError) as info:
            signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
        assert info.value.code == "response_signer_mismatch"
    finally:
        host.close()
    honest = _Host(lambda req: (200, {"signature": _sign_as(wallet, req), "signedHash": "0x" + "00" * 32, "receipt": {"seq": 4}}))
    try:
        signer = BursarSigner(_key(wallet.address), receipts="off", host=honest.url)
        with signer.context(resource_url="http://127.0.0.1:1/paid", reason="test"):
            sig = signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
        assert len(sig) == 65 and signer.receipts == [{"seq": 4}]
        assert honest.requests[0]["context"] == {"resourceUrl": "http://127.0.0.1:1/paid", "reason": "test"}
    finally:
        honest.close()


def test_refusals_are_typed_and_carry_the_rule():
    wallet = Account.create()
    answers = iter([
        (403, {"code": "policy_per_tx_cap_exceeded", "message": "amount 10000 > per-transaction cap 5000", "rule": "budget.perTx", "remaining": "5000"}),
        (202, {"code": "approval_pending", "message": "held for the owner", "pendingId": "pnd_1"}),
        (200, {"nothing": True}),
    ])
    host = _Host(lambda req: next(answers))
    try:
        signer = BursarSigner(_key(wallet.address), receipts="off", host=host.url)
        with pytest.raises(PolicyDeniedError) as denied:
            signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
        assert (denied.value.code, denied.value.rule, denied.value.remaining) == ("policy_per_tx_cap_exceeded", "budget.perTx", "5000")
        with pytest.raises(ApprovalPendingError) as pending:
            signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
        assert pending.value.pending_id == "pnd_1"
        with pytest.raises(ResponseInvalidError):
            signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
    finally:
        host.close()


def test_sign_requests_carry_a_signed_deadline_and_503_is_resent_as_the_same_bytes():
    wallet = Account.create()
    raw: list[str] = []
    calls = {"n": 0}

    def answer(req):
        calls["n"] += 1
        raw.append(json.dumps(req, separators=(",", ":"), ensure_ascii=False))
        if calls["n"] <= 2:
            return 503, {"code": "enclave_timeout", "message": "slow"}
        return 200, {"signature": _sign_as(wallet, req), "signedHash": "0x" + "00" * 32, "receipt": {}}

    host = _Host(answer)
    try:
        signer = BursarSigner(_key(wallet.address), receipts="off", host=host.url, timeout=5.0)
        sig = signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
        assert len(sig) == 65
        assert len(host.requests) == 3 and len(set(raw)) == 1  # a resend of the same request, never a second one
        req = host.requests[0]
        assert req["expiresAt"] - req["issuedAt"] == 5000
        assert list(req)[:6] == ["v", "agentId", "wallet", "nonce", "issuedAt", "expiresAt"]
    finally:
        host.close()


def test_no_answer_before_the_deadline_is_request_outcome_unknown_with_the_request_id():
    from bursar import RequestOutcomeUnknownError

    wallet = Account.create()
    host = _Host(lambda req: (503, {"code": "enclave_timeout", "message": "slow"}))
    try:
        signer = BursarSigner(_key(wallet.address), receipts="off", host=host.url, timeout=0.5)
        with pytest.raises(RequestOutcomeUnknownError) as info:
            signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
        assert info.value.code == "request_outcome_unknown"
        assert info.value.request_id == host.requests[0]["nonce"]
        assert len({r["nonce"] for r in host.requests}) == 1 and len(host.requests) >= 2
    finally:
        host.close()


def test_request_nonce_reused_is_request_outcome_unknown_not_a_plain_refusal():
    from bursar import RequestOutcomeUnknownError

    wallet = Account.create()
    host = _Host(lambda req: (409, {"code": "request_nonce_reused", "message": "other bytes"}))
    try:
        signer = BursarSigner(_key(wallet.address), receipts="off", host=host.url, timeout=5.0)
        with pytest.raises(RequestOutcomeUnknownError) as info:
            signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
        assert info.value.request_id == host.requests[0]["nonce"]
        assert len(host.requests) == 1
    finally:
        host.close()
