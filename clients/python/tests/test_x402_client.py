"""The official x402 Python client, with bursar's signer, pays the reference x402 server on anvil within the owner's
policy and is refused beyond it (no payment header sent); reads show the ledger."""

import asyncio

import pytest
from x402.http.clients import x402HttpxClient
from x402.http.clients.requests import x402_requests

from bursar import BursarSigner, PolicyDeniedError, agent_payments, agent_status, load_agent_key
from bursar.x402 import bursar_x402_async_client, bursar_x402_client
from conftest import erc20_balance, server_state

PRICE = 10_000


def _find(err: BaseException, cls):
    e = err
    for _ in range(8):
        if isinstance(e, cls):
            return e
        e = e.__cause__ or e.__context__
        if e is None:
            return None
    return None


def test_pays_within_policy_and_is_refused_beyond_it(devstack):
    key = load_agent_key(devstack["keyFile"])
    signer = BursarSigner(key, reason="python agent buying data")
    session = x402_requests(bursar_x402_client(signer))
    before = erc20_balance(devstack, devstack["merchant"])

    res = session.get(devstack["api"] + "/paid")
    assert res.status_code == 200, res.text
    assert res.json()["ok"] is True
    assert erc20_balance(devstack, devstack["merchant"]) == before + PRICE
    assert server_state(devstack)["api"]["settlements"] == 1
    assert len(signer.receipts) == 1

    # Over the per-payment cap (60 000 > 50 000): a typed refusal, and the merchant never sees a payment header.
    with pytest.raises(Exception) as info:
        session.get(devstack["pricey"] + "/paid")
    denied = _find(info.value, PolicyDeniedError)
    assert denied is not None, repr(info.value)
    assert denied.code == "policy_per_tx_cap_exceeded"
    pricey = server_state(devstack)["pricey"]
    assert pricey["requests"] and not any(r["paymentHeader"] for r in pricey["requests"])
    assert pricey["settlements"] == 0

    # Two more within the rolling 24 h budget (35 000): one through x402's httpx client, one through requests.
    async def with_httpx():
        async with x402HttpxClient(bursar_x402_async_client(signer)) as client:
            return await client.get(devstack["api"] + "/paid")

    assert asyncio.run(with_httpx()).status_code == 200
    assert session.get(devstack["api"] + "/paid").status_code == 200
    # Then the budget refuses: remaining 5 000.
    with pytest.raises(Exception) as info:
        session.get(devstack["api"] + "/paid")
    denied = _find(info.value, PolicyDeniedError)
    assert denied is not None and denied.code == "policy_daily_cap_exceeded" and denied.remaining == "5000"
    assert server_state(devstack)["api"]["settlements"] == 3
    assert erc20_balance(devstack, devstack["merchant"]) == before + 3 * PRICE

    # The agent's signed reads: the enclave's budget view and its own audit entries.
    status = agent_status(devstack["host"], key, devstack["wallet"])
    assert status["budgets"][0]["rolling24h"] == {"limit": "35000", "used": "30000", "remaining": "5000"}
    entries = agent_payments(devstack["host"], key, devstack["wallet"], limit=10)
    assert [e["verdict"] for e in entries[:2]] == ["deny", "allow"]
    assert all(e["agentId"] == key.agent_id for e in entries)
