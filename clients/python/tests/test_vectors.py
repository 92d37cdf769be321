"""The Python SDK's request bytes match the TypeScript SDK's on fixed vectors (ts_requests.json, made by the TS SDK)."""

import json
from pathlib import Path

import pytest

from bursar import build_request, load_agent_key, sign_request
from bursar.errors import AgentKeyError
from bursar.signer import _domain_json, _json_value, _types_json

VECTORS = json.loads((Path(__file__).parent / "vectors" / "ts_requests.json").read_text(encoding="utf-8"))
KEY = load_agent_key(VECTORS["agentKey"])


def _python_fields(vector: dict) -> dict:
    """The request fields as the Python SDK builds them from Python-native inputs (not copied from the TS text)."""
    ts = json.loads(vector["request"])
    fields = {k: v for k, v in ts.items() if k not in ("v", "agentId", "wallet", "nonce", "issuedAt", "expiresAt")}
    inp = vector.get("typedDataInput")
    if inp:
        # What the x402 Python client hands a signer: ints and bytes, a domain with snake_case fields.
        m = inp["message"]
        native = {**m, "value": int(m["value"]), "validAfter": int(m["validAfter"]), "validBefore": int(m["validBefore"]), "nonce": bytes.fromhex(m["nonce"][2:])}
        d = inp["domain"]
        domain = {"name": d["name"], "version": d["version"], "chain_id": d["chainId"], "verifying_contract": d["verifyingContract"]}
        types = {"EIP712Domain": [], **ts["typedData"]["types"]}
        fields["typedData"] = {"domain": _domain_json(domain), "types": _types_json(types), "primaryType": inp["primaryType"], "message": _json_value(native)}
    return fields


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_request_bytes_and_signature_match_the_typescript_sdk(vector):
    ts = json.loads(vector["request"])
    request = build_request(KEY, ts["wallet"], _python_fields(vector), nonce=ts["nonce"], issued_at=ts["issuedAt"], expires_at=ts.get("expiresAt"))
    text, signature = sign_request(KEY, request)
    assert text == vector["request"]
    assert text.encode("utf-8") == vector["request"].encode("utf-8")
    assert signature == vector["signature"]


def test_key_files_are_checked_for_consistency():
    bad = dict(VECTORS["agentKey"], agentId="agt_" + "0" * 40)
    with pytest.raises(AgentKeyError, match="agentId does not match"):
        load_agent_key(bad)
    with pytest.raises(AgentKeyError, match="wrong shape"):
        load_agent_key({**VECTORS["agentKey"], "extra": 1})
