"""Per-session MACs in the Python SDK (docs/agent-sdk.md "Sessions"): the same key and MAC as the TypeScript side on
fixed and fresh inputs; against the real host + simulated enclave, payments go through a session, and a session the
enclave no longer knows (restart) or refuses (swapped key share) falls back to one Ed25519 resend of the same text."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account import Account
from eth_account.messages import encode_typed_data

import bursar.request as request_mod
from bursar import BursarSigner, agent_status, load_agent_key
from bursar import session as S
from fake_host import FakeHost, agent_key, sign_wallet

REPO = Path(__file__).resolve().parents[3]
VECTORS = json.loads((Path(__file__).parent / "vectors" / "ts_session.json").read_text(encoding="utf-8"))["vectors"]


def _py_vector(agent_priv: str, enclave_priv: str, open_text: str, request_text: str, session_id: str) -> dict:
    agent = X25519PrivateKey.from_private_bytes(bytes.fromhex(agent_priv))
    enclave = X25519PrivateKey.from_private_bytes(bytes.fromhex(enclave_priv))
    enclave_pub = enclave.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    shared = agent.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(enclave_pub)))
    key = S.session_key(shared, open_text, enclave_pub)
    return {
        "agentPub": agent.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex(),
        "enclavePub": enclave_pub,
        "shared": shared.hex(),
        "key": key.hex(),
        "mac": S.AgentSession(id=session_id, key=key, until=0).mac(request_text),
    }


def test_session_key_and_mac_match_the_typescript_vectors():
    assert len(VECTORS) == 3
    for v in VECTORS:
        got = _py_vector(v["agentPriv"], v["enclavePriv"], v["openText"], v["requestText"], v["sessionId"])
        for k in ("agentPub", "enclavePub", "shared", "key", "mac"):
            assert got[k] == v[k], k


def test_session_key_matches_the_typescript_derivation_on_fresh_inputs():
    """Random keys and texts (non-ASCII included) through the TS code itself (scripts/genPythonSessionVectors.ts)."""
    inputs = [
        {"agentPriv": secrets.token_hex(32), "enclavePriv": secrets.token_hex(32), "openText": json.dumps({"op": "openSession", "n": secrets.token_hex(8), "r": "ü€𝄞"}, ensure_ascii=False), "requestText": f"{{\"nonce\":\"{secrets.token_hex(16)}\",\"reason\":\"naïve ☕\"}}"}
        for _ in range(4)
    ]
    tsx = os.path.join(REPO, "node_modules", ".bin", "tsx")
    out = subprocess.run([tsx, "scripts/genPythonSessionVectors.ts", "--stdin"], cwd=REPO, input=json.dumps(inputs), capture_output=True, text=True, timeout=120, check=True)
    ts = json.loads(out.stdout)
    assert len(ts) == len(inputs)
    for i, t in zip(inputs, ts):
        got = _py_vector(i["agentPriv"], i["enclavePriv"], i["openText"], i["requestText"], t["sessionId"])
        for k in ("agentPub", "enclavePub", "shared", "key", "mac"):
            assert got[k] == t[k], k
    # And the derivation is input-sensitive: another open text gives another key (a test that could not fail is none).
    i = inputs[0]
    other = _py_vector(i["agentPriv"], i["enclavePriv"], i["openText"] + " ", i["requestText"], ts[0]["sessionId"])
    assert other["key"] != ts[0]["key"]


# ---------------------------------------------------------------------------------------------- real host + enclave

TYPES = {
    "TransferWithAuthorization": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "validAfter", "type": "uint256"},
        {"name": "validBefore", "type": "uint256"},
        {"name": "nonce", "type": "bytes32"},
    ]
}


def _pay(signer: BursarSigner, devstack) -> bytes:
    """One x402 exact payment (signature only, never settled) as the x402 client builds it; checked with eth_account."""
    now = int(time.time())
    domain = {"name": "USD Coin", "version": "2", "chainId": 84532, "verifyingContract": devstack["token"]}
    message = {"from": signer.wallet, "to": devstack["merchant"], "value": 1000, "validAfter": now - 600, "validBefore": now + 300, "nonce": secrets.token_bytes(32)}
    with signer.context(resource_url="http://127.0.0.1/paid"):
        sig = signer.sign_typed_data(domain, TYPES, "TransferWithAuthorization", message)
    full = {"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}], **TYPES}, "primaryType": "TransferWithAuthorization", "domain": domain, "message": message}
    assert Account.recover_message(encode_typed_data(full_message=full), signature=sig).lower() == signer.wallet.lower()
    return sig


class _Sends:
    """Records the authenticator of every sign request the SDK sends, and the host's answer status and code."""

    def __init__(self, monkeypatch) -> None:
        self.log: list[tuple[str, int, object]] = []
        real = request_mod._send_until_deadline

        def spy(url, data, request_id, expires_at, timeout):
            status, raw, resent = real(url, data, request_id, expires_at, timeout)
            if url.endswith("/sign"):
                self.log.append((json.loads(data)["signature"], status, request_mod._code_of(raw)))
            return status, raw, resent

        monkeypatch.setattr(request_mod, "_send_until_deadline", spy)


def _wait_session(key, slot: str, not_id: str | None = None, timeout: float = 15.0) -> S.AgentSession:
    until = time.time() + timeout
    while time.time() < until:
        e = S._peek(key, slot)
        if e is not None and e.session is not None and e.session.id != not_id:
            return e.session
        time.sleep(0.02)
    raise AssertionError("no session opened")


@pytest.fixture
def session_signer(devstack):
    key = load_agent_key(devstack["sessionKeyFile"])
    # A fresh enclave refuses anything issued in its first 2 s (an open too): a read waits that out.
    agent_status(devstack["host"], key, devstack["sessionWallet"])
    S._clear()
    signer = BursarSigner(key, host=devstack["host"], wallet=devstack["sessionWallet"])
    slot = f"{devstack['host'].rstrip('/')}/v1/agent/sign|{signer.wallet.lower()}"
    yield signer, key, slot
    S._clear()


def test_payments_go_through_a_session_once_it_is_open(devstack, session_signer, monkeypatch):
    signer, key, slot = session_signer
    sends = _Sends(monkeypatch)
    _pay(signer, devstack)  # no session yet: Ed25519, and the open starts in the background
    assert len(sends.log[0][0]) == 128 and sends.log[0][1] == 200
    s = _wait_session(key, slot)
    for _ in range(3):
        _pay(signer, devstack)
    assert [a.split(":")[:2] for a, _, _ in sends.log[1:]] == [["s1", s.id]] * 3
    assert all(st == 200 for _, st, _ in sends.log)


def test_the_enclave_refuses_a_mac_under_another_key_and_the_sdk_resends_the_same_text_under_ed25519(devstack, session_signer, monkeypatch):
    signer, key, slot = session_signer
    _pay(signer, devstack)
    s = _wait_session(key, slot)
    # As if the host had swapped the enclave's key share: the SDK holds another K for the same session id.
    forged = S.AgentSession(id=s.id, key=bytes(b ^ 1 for b in s.key), until=s.until)
    S._set_session(key, slot, forged)
    sends = _Sends(monkeypatch)
    texts: list[str] = []
    real = request_mod._send_until_deadline
    monkeypatch.setattr(request_mod, "_send_until_deadline", lambda u, d, *a: (texts.append(json.loads(d)["request"]), real(u, d, *a))[1])
    _pay(signer, devstack)
    assert sends.log[0][1:] == (401, "session_invalid")
    assert len(sends.log[1][0]) == 128 and sends.log[1][1] == 200  # Ed25519 hex signature
    assert len(texts) == 2 and texts[0] == texts[1]  # the same text (same nonce): never a second request
    # session_invalid: Ed25519 for a minute, no new open.
    e = S._peek(key, slot)
    assert e.session is None and e.until > time.time() * 1000 + 50_000
    _pay(signer, devstack)
    assert len(sends.log[2][0]) == 128


def test_a_session_the_enclave_does_not_know_falls_back_to_ed25519_once_and_a_new_session_opens(devstack, session_signer, monkeypatch):
    signer, key, slot = session_signer
    # As after an enclave restart: a session id the enclave never issued (or forgot).
    lost = S.AgentSession(id=secrets.token_hex(16), key=secrets.token_bytes(32), until=int(time.time() * 1000) + 600_000)
    S._set_session(key, slot, lost)
    sends = _Sends(monkeypatch)
    _pay(signer, devstack)
    assert sends.log[0][0].startswith(f"s1:{lost.id}:") and sends.log[0][1:] == (401, "session_unknown")
    assert len(sends.log[1][0]) == 128 and sends.log[1][1] == 200
    # A slot opens at most one session per 2 s (a host answering session_unknown to everything cannot make the SDK
    # open one per request): the next request after that opens a new one in the background.
    assert S._peek(key, slot).session is None
    time.sleep(2.1)
    _pay(signer, devstack)
    assert len(sends.log[2][0]) == 128
    fresh = _wait_session(key, slot, not_id=lost.id)
    _pay(signer, devstack)
    assert sends.log[3][0].startswith(f"s1:{fresh.id}:") and sends.log[3][1] == 200


def test_session_false_signs_every_request_with_ed25519(devstack, monkeypatch):
    key = load_agent_key(devstack["sessionKeyFile"])
    agent_status(devstack["host"], key, devstack["sessionWallet"])
    S._clear()
    signer = BursarSigner(key, host=devstack["host"], wallet=devstack["sessionWallet"], session=False)
    sends = _Sends(monkeypatch)
    for _ in range(2):
        _pay(signer, devstack)
    time.sleep(0.2)
    assert all(len(a) == 128 and st == 200 for a, st, _ in sends.log)
    assert not S._CACHE


# ---------------------------------------------------------------------------------------------- a host without sessions


class _Host(FakeHost):
    """Answers every request (a session open, here) with `answer`; records the requests' texts in `opens`."""

    def __init__(self, answer: tuple[int, dict]) -> None:
        self.opens: list[str] = []

        def do_post(h):
            self.opens.append(json.loads(h.body())["request"])
            h.send_json(*answer)

        super().__init__(do_post, threaded=True)


@pytest.mark.parametrize(
    "answer",
    [
        (429, {"code": "session_limit", "message": "full"}),
        (404, {"code": "not_found"}),
        # A low-order key share (an all-zero X25519 secret anyone could compute) is a failed open, never a session.
        (200, {"session": {"id": "cd" * 16, "x25519": "00" * 32, "expiresAt": int(time.time() * 1000) + 3_600_000}}),
        (200, {"session": {"id": "cd" * 16, "x25519": "01" + "00" * 31, "expiresAt": int(time.time() * 1000) + 3_600_000}}),
        # An answer with under two minutes of life is a failed open too.
        (200, {"session": {"id": "ab" * 16, "x25519": X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex(), "expiresAt": int(time.time() * 1000) + 90_000}}),
    ],
)
def test_a_failed_open_means_ed25519_for_a_minute_and_one_open_only(answer):
    S._clear()
    host = _Host(answer)
    try:
        key = load_agent_key(json.loads((Path(__file__).parent / "vectors" / "ts_requests.json").read_text())["agentKey"])
        url = f"{host.url}/v1/agent/session"
        post = lambda body, t: request_mod._post_fresh(url, body, t)  # noqa: E731
        assert S.session_for(key, "slot", "0x" + "11" * 20, post) is None
        deadline = time.time() + 5
        while time.time() < deadline and (S._peek(key, "slot").until < time.time() * 1000 + 55_000 or not host.opens):
            time.sleep(0.01)
        for _ in range(20):
            assert S.session_for(key, "slot", "0x" + "11" * 20, post) is None
        time.sleep(0.1)
        assert len(host.opens) == 1
        opened = json.loads(host.opens[0])
        assert opened["op"] == "openSession" and len(opened["x25519"]) == 64
        assert S._peek(key, "slot").until > time.time() * 1000 + 50_000
    finally:
        host.close()
        S._clear()


# ------------------------------------------------------------------------------------ a host that plays the enclave


class _SessionHost(FakeHost):
    """A loopback host that opens sessions as the enclave does (X25519 + the derivation the vectors above pin to the
    TypeScript code) and answers sign requests with `answer(auth_kind, request, raw_envelope)`; records everything."""

    def __init__(self, answer) -> None:
        self.wallet = Account.create()
        self.keys: dict[str, bytes] = {}
        self.opens = 0
        self.signs: list[tuple[str, str, str]] = []  # (kind: "mac" | "mac-bad" | "ed25519", text, authenticator)

        def do_post(h):
            env = json.loads(h.body())
            text, auth = env["request"], env["signature"]
            if h.path.endswith("/session"):
                self.opens += 1
                req = json.loads(text)
                ours = X25519PrivateKey.generate()
                pub = ours.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
                sid = secrets.token_hex(16)
                self.keys[sid] = S.session_key(ours.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(req["x25519"]))), text, pub)
                return h.send_json(200, {"session": {"id": sid, "x25519": pub, "expiresAt": req["issuedAt"] + 3_600_000}})
            if auth.startswith("s1:"):
                k = self.keys.get(auth[3:35])
                kind = "mac" if k is not None and S.AgentSession(id=auth[3:35], key=k, until=0).mac(text) == auth else "mac-bad"
            else:
                kind = "ed25519"
            self.signs.append((kind, text, auth))
            status, body = answer(kind, json.loads(text))
            if status == 200:
                body = {"signature": sign_wallet(self.wallet, json.loads(text)), "signedHash": "0x" + "00" * 32, "receipt": {}}
            h.send_json(status, body)

        super().__init__(do_post, threaded=True)


def _fake_signer(host: _SessionHost, **kw) -> BursarSigner:
    key = agent_key(host.wallet.address)
    return BursarSigner(key, host=host.url, receipts="off", **kw)  # a fake host: no enclave receipts (test_receipts covers them)


def _fake_pay(signer: BursarSigner) -> bytes:
    domain = {"name": "USD Coin", "version": "2", "chainId": 84532, "verifyingContract": "0x036CbD53842c5426634e7929541eC2318f3dCF7e"}
    message = {"from": signer.wallet, "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "value": 1000, "validAfter": 0, "validBefore": 1893456000, "nonce": secrets.token_bytes(32)}
    return signer.sign_typed_data(domain, TYPES, "TransferWithAuthorization", message)


def _until_session(signer: BursarSigner, host: _SessionHost) -> None:
    deadline = time.time() + 10
    while time.time() < deadline and not any(k == "mac" for k, _, _ in host.signs):
        _fake_pay(signer)
        time.sleep(0.02)
    assert any(k == "mac" for k, _, _ in host.signs)


def test_a_503_inside_a_session_is_resent_as_the_same_maced_bytes():
    calls = {"n": 0}

    def answer(kind, req):
        if kind == "mac":
            calls["n"] += 1
            if calls["n"] in (2, 3):  # the second MAC'd payment: two 503s, then the answer
                return 503, {"code": "enclave_timeout"}
        return 200, {}

    host = _SessionHost(answer)
    try:
        signer = _fake_signer(host, timeout=5.0)
        _until_session(signer, host)
        before = len(host.signs)
        assert len(_fake_pay(signer)) == 65
        copies = host.signs[before:]
        assert len(copies) == 3 and {k for k, _, _ in copies} == {"mac"}
        assert len({(t, a) for _, t, a in copies}) == 1  # the same text under the same MAC, three times: one request
        assert host.opens == 1
    finally:
        host.close()


def test_a_host_answering_session_unknown_to_everything_gets_one_open_per_2s_and_ed25519_resends():
    host = _SessionHost(lambda kind, req: (401, {"code": "session_unknown"}) if kind == "mac" else (200, {}))
    try:
        signer = _fake_signer(host)
        t0 = time.time()
        n = 0
        while time.time() - t0 < 3.0:
            _fake_pay(signer)
            n += 1
        elapsed = time.time() - t0
        assert n >= 20
        # Every payment succeeded under Ed25519; each MAC'd copy was refused and its SAME text resent once.
        for i, (kind, text, _) in enumerate(host.signs):
            if kind == "mac":
                assert host.signs[i + 1][0] == "ed25519" and host.signs[i + 1][1] == text
        assert host.opens <= 1 + int(elapsed / 2.0) + 1
    finally:
        host.close()


def test_cancelling_an_async_payment_does_not_recall_it_the_thread_finishes_it_once():
    import asyncio

    def answer(kind, req):
        time.sleep(0.5)
        return 200, {}

    host = _SessionHost(answer)
    try:
        signer = _fake_signer(host, session=False)
        domain = {"name": "USD Coin", "version": "2", "chainId": 84532, "verifyingContract": "0x036CbD53842c5426634e7929541eC2318f3dCF7e"}
        message = {"from": signer.wallet, "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "value": 1000, "validAfter": 0, "validBefore": 1893456000, "nonce": secrets.token_bytes(32)}

        async def main():
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(signer.sign_typed_data_async(domain, TYPES, "TransferWithAuthorization", message), 0.1)

        asyncio.run(main())
        deadline = time.time() + 5
        while time.time() < deadline and not signer.receipts:
            time.sleep(0.02)
        assert len(signer.receipts) == 1 and len(host.signs) == 1  # finished once in its thread, never sent again
    finally:
        host.close()
