"""Attack (red team rt29b; the Python twin of test/adversarial/hostSwapsSessionKeyShare), against the real host +
simulated enclave: a malicious host in front of them swaps the enclave's X25519 key share in the session-open answer
for its own, so the Python SDK agrees K' with the HOST. The host then forges a MAC'd payment of its own under K' (to
another payee) and forwards the SDK's MAC'd payments. Held: the enclave holds K (bound to the agent's signed share),
refuses every K' MAC before reading it (session_invalid, nothing signed for the host), and the SDK resends each
refused payment's SAME text once under Ed25519 (then Ed25519 for a minute)."""

from __future__ import annotations

import json
import secrets
import time

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bursar import BursarSigner, agent_status, load_agent_key
from bursar import session as S
from fake_host import FakeHost, forward
from test_sessions import TYPES


def test_host_swaps_the_enclave_key_share_and_forges_with_the_key_it_shares_with_the_agent(devstack):
    upstream = devstack["host"].rstrip("/")
    mine = X25519PrivateKey.generate()
    mine_hex = mine.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    st: dict = {"kprime": None, "sid": None, "forged": None, "signs": []}

    def proxy(h):
        body = h.body()
        env = json.loads(body)
        status, data = forward(upstream, h.path, body)
        if h.path.endswith("/session") and status == 200:
            ans = json.loads(data)
            agent_share = json.loads(env["request"])["x25519"]
            shared = mine.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(agent_share)))
            st["kprime"] = S.session_key(shared, env["request"], mine_hex)  # what the SDK will derive
            st["sid"] = ans["session"]["id"]
            ans["session"]["x25519"] = mine_hex
            data = json.dumps(ans).encode()
        elif h.path.endswith("/sign"):
            st["signs"].append((env["signature"][:3] == "s1:", env["request"], status, json.loads(data).get("code")))
        h.send_raw(status, data)

    srv = FakeHost(proxy, threaded=True)
    try:
        key = load_agent_key(devstack["sessionKeyFile"])
        agent_status(devstack["host"], key, devstack["sessionWallet"])
        S._clear()
        signer = BursarSigner(key, host=srv.url, wallet=devstack["sessionWallet"])
        domain = {"name": "USD Coin", "version": "2", "chainId": 84532, "verifyingContract": devstack["token"]}
        now = int(time.time())

        def message(to: str) -> dict:
            return {"from": signer.wallet, "to": to, "value": 1000, "validAfter": now - 600, "validBefore": now + 300, "nonce": secrets.token_bytes(32)}

        def pay() -> bytes:
            with signer.context(resource_url="http://127.0.0.1/paid"):
                return signer.sign_typed_data(domain, TYPES, "TransferWithAuthorization", message(devstack["merchant"]))

        deadline = time.time() + 15
        while time.time() < deadline and not any(mac for mac, *_ in st["signs"]):
            assert len(pay()) == 65  # every payment succeeds (Ed25519, or the Ed25519 resend after a refused MAC)
            time.sleep(0.05)
        macs = [i for i, (mac, *_) in enumerate(st["signs"]) if mac]
        assert st["kprime"] is not None and macs, "the SDK never used the swapped session"
        i = macs[0]
        assert st["signs"][i][2:] == (401, "session_invalid")
        assert not st["signs"][i + 1][0] and st["signs"][i + 1][1] == st["signs"][i][1] and st["signs"][i + 1][2] == 200  # same text, Ed25519
        # The host forges its own payment (to itself) under K' and the session id the enclave issued.
        forged = json.loads(st["signs"][i][1])
        forged.update({"nonce": secrets.token_hex(16), "issuedAt": int(time.time() * 1000), "expiresAt": int(time.time() * 1000) + 20_000})
        forged["typedData"]["message"]["to"] = "0x000000000000000000000000000000000000dEaD"
        text = json.dumps(forged, separators=(",", ":"), ensure_ascii=False)
        mac = S.AgentSession(id=st["sid"], key=st["kprime"], until=0).mac(text)
        status, data = forward(upstream, "/v1/agent/sign", json.dumps({"request": text, "signature": mac}).encode())
        assert (status, json.loads(data).get("code")) == (401, "session_invalid")
        # session_invalid: Ed25519 for a minute — no MAC'd request follows.
        n = len(st["signs"])
        pay()
        assert not any(mac for mac, *_ in st["signs"][n:])
    finally:
        srv.close()
        S._clear()
