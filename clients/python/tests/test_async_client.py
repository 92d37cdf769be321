"""The async x402 client (bursar_x402_async_client) does not block the event loop for a payment's round trip to the
enclave: two payments started together are both inside the signer at the same time (a barrier both must reach), and
the loop keeps running other tasks meanwhile. Real host + simulated enclave; every signature checked by eth_account."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from x402 import x402Client
from x402.schemas import PaymentRequired, PaymentRequirements, ResourceInfo

from bursar import BursarSigner, agent_status, load_agent_key
from bursar.x402 import bursar_x402_async_client, register_bursar


class _BarrierSigner(BursarSigner):
    """Waits in sign_typed_data until `parties` payments are inside it at once (or fails after `wait` s)."""

    def __init__(self, *a, parties: int, wait: float, **kw) -> None:
        super().__init__(*a, **kw)
        self.barrier = threading.Barrier(parties, timeout=wait)
        self.threads: set[int] = set()
        self.contexts: list[dict] = []

    def sign_typed_data(self, domain, types, primary_type, message):
        self.threads.add(threading.get_ident())
        self.contexts.append(dict(self._ctx.get() or {}))
        self.barrier.wait()
        return super().sign_typed_data(domain, types, primary_type, message)


def _required(devstack, n: int) -> PaymentRequired:
    return PaymentRequired(
        resource=ResourceInfo(url=f"http://127.0.0.1/async/{n}"),
        accepts=[
            PaymentRequirements(
                scheme="exact",
                network="eip155:84532",
                asset=devstack["token"],
                amount="1000",
                pay_to=devstack["merchant"],
                max_timeout_seconds=300,
                extra={"name": "USD Coin", "version": "2"},
            )
        ],
    )


def _check(payload, wallet: str, devstack) -> None:
    auth = payload.payload["authorization"]
    message = {k: (int(v) if k in ("value", "validAfter", "validBefore") else v) for k, v in auth.items()}
    message["nonce"] = bytes.fromhex(auth["nonce"][2:])
    full = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "TransferWithAuthorization": [{"name": n, "type": t} for n, t in (("from", "address"), ("to", "address"), ("value", "uint256"), ("validAfter", "uint256"), ("validBefore", "uint256"), ("nonce", "bytes32"))],
        },
        "primaryType": "TransferWithAuthorization",
        "domain": {"name": "USD Coin", "version": "2", "chainId": 84532, "verifyingContract": devstack["token"]},
        "message": message,
    }
    assert Account.recover_message(encode_typed_data(full_message=full), signature=payload.payload["signature"]).lower() == wallet.lower()


def _signer(devstack, **kw) -> _BarrierSigner:
    key = load_agent_key(devstack["sessionKeyFile"])
    agent_status(devstack["host"], key, devstack["sessionWallet"])  # past the fresh enclave's 2 s floor
    return _BarrierSigner(key, host=devstack["host"], wallet=devstack["sessionWallet"], **kw)


def test_two_concurrent_payments_overlap_and_the_loop_keeps_running(devstack):
    signer = _signer(devstack, parties=2, wait=20)
    client = bursar_x402_async_client(signer)

    async def main():
        ticks = 0
        done = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        t = asyncio.create_task(ticker())
        t0 = time.perf_counter()
        payloads = await asyncio.gather(client.create_payment_payload(_required(devstack, 1)), client.create_payment_payload(_required(devstack, 2)))
        done.set()
        await t
        return payloads, ticks, time.perf_counter() - t0

    payloads, ticks, _ = asyncio.run(main())
    assert len(payloads) == 2
    for p in payloads:
        _check(p, signer.wallet, devstack)
    assert payloads[0].payload["signature"] != payloads[1].payload["signature"]
    # Both signatures were made off the loop's thread, each with its own task's advisory context (the hook's).
    assert threading.get_ident() not in signer.threads
    assert sorted(c.get("resourceUrl") for c in signer.contexts) == ["http://127.0.0.1/async/1", "http://127.0.0.1/async/2"]
    assert ticks >= 2


def test_a_plain_x402_client_would_block_the_loop(devstack):
    """The control: x402's own async client calls the signer on the loop's thread, so the second payment never
    enters the signer while the first waits there (the barrier times out). What the test above rules out."""
    signer = _signer(devstack, parties=2, wait=1.5)
    client = register_bursar(x402Client(), signer)

    async def main():
        return await asyncio.gather(client.create_payment_payload(_required(devstack, 3)), client.create_payment_payload(_required(devstack, 4)), return_exceptions=True)

    results = asyncio.run(main())
    assert any(isinstance(r, BaseException) for r in results)
    assert signer.threads == {threading.get_ident()}


def test_async_client_routes_a_refusal_to_the_caller(devstack):
    """A refusal inside the worker thread reaches the awaiting task as the typed error (over the per-payment cap)."""
    from bursar import PolicyDeniedError

    signer = _signer(devstack, parties=1, wait=5)
    client = bursar_x402_async_client(signer)
    req = _required(devstack, 5)
    req.accepts[0].amount = "60000"
    with pytest.raises(Exception) as info:
        asyncio.run(client.create_payment_payload(req))
    e: BaseException | None = info.value
    while e is not None and not isinstance(e, PolicyDeniedError):
        e = e.__cause__ or e.__context__
    assert e is not None and e.code == "policy_per_tx_cap_exceeded"


def test_sign_typed_data_async_has_more_payments_in_flight_than_asyncios_default_pool(devstack):
    """Eight payments inside the signer at once (asyncio's default pool holds cpu + 4 = 6 threads on 2 cores), each
    under its own task's context; every signature is the wallet's."""
    import secrets

    signer = _signer(devstack, parties=8, wait=20)
    now = int(time.time())
    domain = {"name": "USD Coin", "version": "2", "chainId": 84532, "verifyingContract": devstack["token"]}
    types = {"TransferWithAuthorization": [{"name": n, "type": t} for n, t in (("from", "address"), ("to", "address"), ("value", "uint256"), ("validAfter", "uint256"), ("validBefore", "uint256"), ("nonce", "bytes32"))]}

    async def one(i: int):
        signer.set_call_context(resource_url=f"http://127.0.0.1/many/{i}")
        message = {"from": signer.wallet, "to": devstack["merchant"], "value": 1000, "validAfter": now - 600, "validBefore": now + 300, "nonce": secrets.token_bytes(32)}
        return message, await signer.sign_typed_data_async(domain, types, "TransferWithAuthorization", message)

    async def main():
        return await asyncio.gather(*(one(i) for i in range(8)))

    results = asyncio.run(main())
    assert len({sig for _, sig in results}) == 8
    for message, sig in results:
        auth = {**message, "value": str(message["value"]), "validAfter": str(message["validAfter"]), "validBefore": str(message["validBefore"]), "nonce": "0x" + message["nonce"].hex()}
        _check(type("P", (), {"payload": {"authorization": auth, "signature": "0x" + sig.hex()}})(), signer.wallet, devstack)
    assert len(signer.threads) == 8 and threading.get_ident() not in signer.threads
    assert sorted(c["resourceUrl"] for c in signer.contexts) == sorted(f"http://127.0.0.1/many/{i}" for i in range(8))
