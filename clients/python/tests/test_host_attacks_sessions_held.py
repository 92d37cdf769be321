"""Red team rt29b: malicious-host attacks on the Python SDK's sessions that HELD (each test can fail: see the
assertions on what the host saw). Mirrors test/adversarial/hostSwapsAnswerInSession and hostSwapsSessionKeyShare
(replayed open answer) on the Python side, plus a session open that never answers."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time

import pytest
from eth_account import Account

import test_sessions as TS
from bursar import BursarSigner, ResponseInvalidError
from bursar import session as S
from fake_host import FakeHost, agent_key, sign_wallet
from test_sessions import TYPES, _fake_pay, _fake_signer, _SessionHost, _until_session

DOMAIN = {"name": "USD Coin", "version": "2", "chainId": 84532, "verifyingContract": "0x036CbD53842c5426634e7929541eC2318f3dCF7e"}


def _message(wallet: str) -> dict:
    return {"from": wallet, "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "value": 1000, "validAfter": 0, "validBefore": 1893456000, "nonce": secrets.token_bytes(32)}


@pytest.mark.parametrize("swap", ["other_key", "earlier_payment"])
def test_host_swaps_the_answer_to_a_maced_request_and_the_caller_never_gets_it(swap, monkeypatch):
    S._clear()
    other = Account.create()
    earlier: dict = {}
    real_sign = TS.sign_wallet

    def lying_sign(account, req):
        if not earlier:
            earlier["sig"] = real_sign(account, req)  # the first payment's genuine signature
            return earlier["sig"]
        if swap == "other_key":
            return real_sign(other, req)  # the same typed data, another key
        return earlier["sig"]  # the wallet's own signature, of another payment

    host = _SessionHost(lambda kind, req: (200, {}))
    try:
        signer = _fake_signer(host, timeout=5.0)
        _fake_pay(signer)  # genuine: recorded as `earlier`
        monkeypatch.setattr(TS, "sign_wallet", lying_sign)
        _until_session_lying(signer, host)
        assert any(k == "mac" for k, _, _ in host.signs)
        before = len(signer.receipts)
        with pytest.raises(ResponseInvalidError) as info:
            signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(signer.wallet))
        assert info.value.code in ("response_signer_mismatch", "response_invalid")

        async def via_async():
            return await signer.sign_typed_data_async(DOMAIN, TYPES, "TransferWithAuthorization", _message(signer.wallet))

        with pytest.raises(ResponseInvalidError):
            asyncio.run(via_async())
        assert host.signs[-1][0] == "mac" and len(signer.receipts) == before  # refused answers leave no receipt
    finally:
        host.close()
        S._clear()


def _until_session_lying(signer, host) -> None:
    """Pays (answers refused or not) until a MAC'd request reached the host."""
    deadline = time.time() + 10
    while time.time() < deadline and not any(k == "mac" for k, _, _ in host.signs):
        try:
            _fake_pay(signer)
        except ResponseInvalidError:
            pass
        time.sleep(0.02)


class _ReplayingHost(_SessionHost):
    """Opens sessions as the enclave does, but answers every open after the first with the FIRST open's answer (an old
    session id and enclave key share the enclave really issued). Sign requests: a MAC that verifies under the key the
    'enclave' holds for that id → signed; another MAC → 401 session_invalid; Ed25519 → signed."""

    def __init__(self) -> None:
        self.first: dict | None = None
        super().__init__(lambda kind, req: (401, {"code": "session_invalid"}) if kind == "mac-bad" else (200, {}))
        handler = self.handler
        outer = self
        real_post = handler.do_POST

        def do_post(h):  # noqa: N802
            if h.path.endswith("/session") and outer.first is not None:
                h.body()
                outer.opens += 1
                return h.send_json(200, outer.first)
            if h.path.endswith("/session"):
                send = h.send_json

                def keep(status, obj):
                    outer.first = obj
                    send(status, obj)

                h.send_json = keep
            return real_post(h)

        handler.do_POST = do_post


def test_host_replays_an_old_open_answer_and_every_mac_under_it_is_refused_then_ed25519():
    S._clear()
    host = _ReplayingHost()
    try:
        signer = _fake_signer(host, timeout=5.0)
        _until_session(signer, host)  # the first session works
        S._clear()  # as after the session expired: the next payment opens again, and the host replays the old answer
        deadline = time.time() + 10
        while time.time() < deadline and not any(k == "mac-bad" for k, _, _ in host.signs):
            _fake_pay(signer)
            time.sleep(0.02)
        bad = [i for i, (k, _, _) in enumerate(host.signs) if k == "mac-bad"]
        assert host.opens >= 2 and bad  # the replayed answer gave the SDK a key the enclave does not hold
        i = bad[0]
        assert host.signs[i + 1][0] == "ed25519" and host.signs[i + 1][1] == host.signs[i][1]  # the same text, once
        _fake_pay(signer)
        assert host.signs[-1][0] == "ed25519"  # session_invalid: Ed25519 for a minute
    finally:
        host.close()
        S._clear()


def test_a_session_open_that_never_answers_stalls_no_payment(monkeypatch):
    S._clear()
    wallet = Account.create()
    opens: list[float] = []
    release = threading.Event()

    def do_post(h):
        env = json.loads(h.body())
        if h.path.endswith("/session"):
            opens.append(time.time())
            release.wait(30)  # hangs (no byte) until the test ends
            return
        h.send_json(200, {"signature": sign_wallet(wallet, json.loads(env["request"])), "signedHash": "0x" + "00" * 32, "receipt": {}})

    host = FakeHost(do_post, threaded=True)
    try:
        signer = BursarSigner(agent_key(wallet.address), host=host.url, timeout=5.0, receipts="off")  # a fake host: no receipts
        t0 = time.time()
        for _ in range(20):
            assert len(signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))) == 65
        assert time.time() - t0 < 5.0 and len(opens) == 1  # no payment waited for the hung open; one open only
    finally:
        release.set()
        host.close()
        S._clear()
