"""Attack (red team rt29b): refusals are not signed by the enclave, so a host can let the enclave sign a request and
then answer ``request_stale`` (a refusal that would prove nothing was decided). The SDKs then sign the same operation
afresh; each copy counts against the agent's budget (SECURITY.md: one settleable signature, the budget counts twice).
The TypeScript SDK does that once (``attempt === 0`` for request_stale / request_not_yet_valid; only the enclave's
start floor is retried twice); the Python SDK did it twice — three copies of one payment counted — also after the
session fallback's Ed25519 resend. It must stop after one fresh request, as the docs say."""

from __future__ import annotations

import pytest
from eth_account import Account

from bursar import BursarSigner
from bursar.errors import BursarError
from fake_host import agent_key
from test_signer_checks import DOMAIN, TYPES, _Host, _message


@pytest.mark.parametrize("code", ["request_stale", "request_not_yet_valid"])
def test_a_host_answering_a_clock_refusal_to_everything_gets_one_fresh_request_only(code):
    wallet = Account.create()
    host = _Host(lambda req: (401, {"code": code, "message": "lie"}))
    try:
        signer = BursarSigner(agent_key(wallet.address), receipts="off", host=host.url, timeout=5.0)
        with pytest.raises(BursarError) as info:
            signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
        assert info.value.code == code
        assert len(host.requests) == 2  # the first copy and one fresh request, as the TypeScript SDK
        assert host.requests[0]["typedData"] == host.requests[1]["typedData"]  # the same operation
        assert host.requests[0]["nonce"] != host.requests[1]["nonce"]
    finally:
        host.close()


def test_the_enclave_start_floor_is_still_waited_out_twice():
    wallet = Account.create()
    host = _Host(lambda req: (409, {"code": "request_before_enclave_start", "message": "floor", "retryAfterMs": 1}))
    try:
        signer = BursarSigner(agent_key(wallet.address), receipts="off", host=host.url, timeout=5.0)
        with pytest.raises(BursarError):
            signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
        assert len({r["nonce"] for r in host.requests}) == 3
    finally:
        host.close()
