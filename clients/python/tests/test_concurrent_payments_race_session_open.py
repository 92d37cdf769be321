"""Attack (red team rt29b) as a caller: many payments at once — threads and asyncio tasks on bursar's 64-thread pool,
some cancelled — while the session is still being opened. Two threads must never open two sessions for one slot at
once, never reuse a request nonce, never send a MAC under the wrong key, and every payment either gets a signature
that recovers to the wallet or a typed error; a cancelled payment is sent once (finished in its thread)."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from eth_account import Account
from eth_account.messages import encode_typed_data

from bursar import session as S
from test_sessions import TYPES, _fake_signer, _SessionHost

DOMAIN = {"name": "USD Coin", "version": "2", "chainId": 84532, "verifyingContract": "0x036CbD53842c5426634e7929541eC2318f3dCF7e"}
FULL_TYPES = {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}], **TYPES}


def _message(wallet: str) -> dict:
    return {"from": wallet, "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "value": 1000, "validAfter": 0, "validBefore": 1893456000, "nonce": secrets.token_bytes(32)}


def _recovers(signer, message, sig) -> bool:
    full = {"types": FULL_TYPES, "primaryType": "TransferWithAuthorization", "domain": DOMAIN, "message": message}
    return Account.recover_message(encode_typed_data(full_message=full), signature=sig).lower() == signer.wallet.lower()


def test_many_threads_and_tasks_at_once_open_one_session_and_never_reuse_a_nonce():
    S._clear()
    def answer(kind, req):
        time.sleep(0.01)
        return 200, {}

    host = _SessionHost(answer)
    try:
        signer = _fake_signer(host, timeout=60.0)  # a loaded 2-core CI machine: the deadline is not what this tests
        # 48 threads start together: the first opens the session in the background, the rest sign with Ed25519 until it is ready.
        barrier = threading.Barrier(48)

        def one(_):
            barrier.wait()
            m = _message(signer.wallet)
            return m, signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", m)

        with ThreadPoolExecutor(48) as ex:
            results = list(ex.map(one, range(48)))
        assert all(_recovers(signer, m, s) for m, s in results)

        # Then 150 asyncio tasks on bursar's pool (more than its 64 threads), a third of them cancelled mid-flight.
        async def main():
            tasks = []
            for i in range(150):
                m = _message(signer.wallet)
                tasks.append((m, asyncio.create_task(signer.sign_typed_data_async(DOMAIN, TYPES, "TransferWithAuthorization", m))))
            await asyncio.sleep(0.05)
            for i, (_, t) in enumerate(tasks):
                if i % 3 == 0:
                    t.cancel()
            out = await asyncio.gather(*(t for _, t in tasks), return_exceptions=True)
            return [(m, r) for (m, _), r in zip(tasks, out)]

        got = asyncio.run(main())
        done = [(m, r) for m, r in got if isinstance(r, bytes)]
        assert len(done) >= 100 and all(_recovers(signer, m, s) for m, s in done)
        assert all(isinstance(r, (bytes, asyncio.CancelledError)) for _, r in got), [r for _, r in got if not isinstance(r, bytes)][:3]
        # A cancelled payment whose thread had started is finished there (sent once, receipt kept); one still queued
        # behind the pool's 64 threads is never sent at all. Wait for the pool to drain, then count what the host saw.
        cancelled = sum(1 for _, r in got if not isinstance(r, bytes))
        deadline = time.time() + 20
        last = -1
        while time.time() < deadline and len(signer.receipts) != last:
            last = len(signer.receipts)
            time.sleep(1.0)
        nonces = [json.loads(t)["nonce"] for _, t, _ in host.signs]
        assert len(nonces) == len(set(nonces)) == len(signer.receipts)  # one copy per payment: no resend, no reused nonce
        assert 48 + 150 - cancelled <= len(nonces) <= 48 + 150
        assert host.opens == 1
        kinds = [k for k, _, _ in host.signs]
        assert "mac-bad" not in kinds and kinds.count("mac") > 0
    finally:
        host.close()
        S._clear()
