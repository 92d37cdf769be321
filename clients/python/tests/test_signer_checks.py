"""The signer trusts no host: a signature from another key, a malformed answer or a refusal never becomes a payment."""

import json

import pytest
from eth_account import Account

from bursar import ApprovalPendingError, BursarSigner, PolicyDeniedError, ResponseInvalidError
from fake_host import FakeHost, agent_key, sign_wallet

DOMAIN = {"name": "USD Coin", "version": "2", "chain_id": 84532, "verifying_contract": "0x036CbD53842c5426634e7929541eC2318f3dCF7e"}
TYPES = {"TransferWithAuthorization": [{"name": n, "type": t} for n, t in [("from", "address"), ("to", "address"), ("value", "uint256"), ("validAfter", "uint256"), ("validBefore", "uint256"), ("nonce", "bytes32")]]}


class _Host(FakeHost):
    """A malicious or refusing host on loopback: answers every request with `answer(request_json)`."""

    def __init__(self, answer):
        self.requests: list[dict] = []
        self.opens = 0

        def do_post(h):
            body = json.loads(h.body())
            if h.path.endswith("/session"):  # a host without sessions (the SDK signs with Ed25519)
                self.opens += 1
                h.send_response(404)
                h.send_header("content-length", "0")
                h.end_headers()
                return
            self.requests.append(json.loads(body["request"]))
            h.send_json(*answer(self.requests[-1]))

        super().__init__(do_post)


def _message(wallet: str) -> dict:
    return {"from": wallet, "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "value": 10000, "validAfter": 0, "validBefore": 1893456000, "nonce": b"\x07" * 32}


def test_accepts_only_a_signature_that_recovers_to_the_wallet():
    wallet, impostor = Account.create(), Account.create()
    host = _Host(lambda req: (200, {"signature": sign_wallet(impostor, req), "signedHash": "0x" + "00" * 32, "receipt": {}}))
    try:
        signer = BursarSigner(agent_key(wallet.address), receipts="off", host=host.url)
        with pytest.raises(ResponseInvalidError) as info:
            signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
        assert info.value.code == "response_signer_mismatch"
    finally:
        host.close()
    honest = _Host(lambda req: (200, {"signature": sign_wallet(wallet, req), "signedHash": "0x" + "00" * 32, "receipt": {"seq": 4}}))
    try:
        signer = BursarSigner(agent_key(wallet.address), receipts="off", host=honest.url)
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
        signer = BursarSigner(agent_key(wallet.address), receipts="off", host=host.url)
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
        return 200, {"signature": sign_wallet(wallet, req), "signedHash": "0x" + "00" * 32, "receipt": {}}

    host = _Host(answer)
    try:
        signer = BursarSigner(agent_key(wallet.address), receipts="off", host=host.url, timeout=5.0)
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
        signer = BursarSigner(agent_key(wallet.address), receipts="off", host=host.url, timeout=0.5)
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
        signer = BursarSigner(agent_key(wallet.address), receipts="off", host=host.url, timeout=5.0)
        with pytest.raises(RequestOutcomeUnknownError) as info:
            signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
        assert info.value.request_id == host.requests[0]["nonce"]
        assert len(host.requests) == 1
    finally:
        host.close()
