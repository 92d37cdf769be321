"""Attack (red team rt29b), against the real host + simulated enclave: a malicious host in front of them forwards a
MAC'd payment, lets the enclave sign it, withholds the signature and answers the SDK ``session_unknown`` (as if the
enclave had lost the session). The SDK must resend the SAME text (same nonce) under Ed25519 — never sign the operation
again under a new nonce — so the enclave's answer to the resend is the first copy's signature (from the host's store)
or a refusal the SDK reports as ``RequestOutcomeUnknownError``: one decision, never two."""

from __future__ import annotations

import json
import secrets
import time

from bursar import BursarSigner, RequestOutcomeUnknownError, agent_status, load_agent_key
from bursar import session as S
from fake_host import FakeHost, forward
from test_sessions import TYPES


def test_host_answers_session_unknown_after_the_enclave_signed(devstack):
    upstream = devstack["host"].rstrip("/")
    seen: list[tuple[str, str, int, str]] = []  # (kind, text, upstream status, upstream body)
    state = {"withheld": None}

    def proxy(h):
        body = h.body()
        status, data = forward(upstream, h.path, body)
        if h.path.endswith("/sign"):
            env = json.loads(body)
            kind = "mac" if env["signature"].startswith("s1:") else "ed25519"
            seen.append((kind, env["request"], status, data.decode()))
            if kind == "mac" and status == 200 and state["withheld"] is None:
                state["withheld"] = json.loads(data)["signature"]  # the enclave signed; the agent is told otherwise
                status, data = 401, json.dumps({"code": "session_unknown", "message": "Unknown or expired agent session; open a new one"}).encode()
        h.send_raw(status, data)

    srv = FakeHost(proxy, threaded=True)
    try:
        key = load_agent_key(devstack["sessionKeyFile"])
        agent_status(devstack["host"], key, devstack["sessionWallet"])
        S._clear()
        signer = BursarSigner(key, host=srv.url, wallet=devstack["sessionWallet"])
        now = int(time.time())
        domain = {"name": "USD Coin", "version": "2", "chainId": 84532, "verifyingContract": devstack["token"]}

        def pay():
            message = {"from": signer.wallet, "to": devstack["merchant"], "value": 1000, "validAfter": now - 600, "validBefore": now + 300, "nonce": secrets.token_bytes(32)}
            with signer.context(resource_url="http://127.0.0.1/paid"):
                return signer.sign_typed_data(domain, TYPES, "TransferWithAuthorization", message)

        deadline = time.time() + 15
        outcome = None
        while time.time() < deadline and state["withheld"] is None:
            try:
                pay()
            except RequestOutcomeUnknownError as e:
                outcome = e
            time.sleep(0.05)
        assert state["withheld"] is not None, "no MAC'd payment reached the enclave"
        i = next(j for j, s in enumerate(seen) if s[0] == "mac" and s[2] == 200)
        # The next copy is the same text under Ed25519 — and the operation was never sent under another nonce.
        assert seen[i + 1][0] == "ed25519" and seen[i + 1][1] == seen[i][1]
        typed = json.loads(seen[i][1])["typedData"]
        assert [s for s in seen if json.loads(s[1])["typedData"] == typed and s[1] != seen[i][1]] == []
        resend_status, resend_body = seen[i + 1][2], json.loads(seen[i + 1][3])
        if resend_status == 200:
            assert resend_body["signature"] == state["withheld"]  # the first copy's answer, from the host's store
            assert outcome is None
        else:
            assert isinstance(outcome, RequestOutcomeUnknownError), (resend_status, resend_body)
    finally:
        srv.close()
        S._clear()
