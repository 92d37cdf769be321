"""Agent key files (the JSON ``bursar owner agent add`` writes): Ed25519 seed, public key, agent id, wallet, host."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import AgentKeyError

_HEX32 = re.compile(r"^[0-9a-f]{64}$")
_AGENT_ID = re.compile(r"^agt_[0-9a-f]{40}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_FIELDS = {"agentId", "publicKey", "privateKey", "wallet", "host", "receiptPublicKey"}
_KEY_HEX = re.compile(r"^(0x)?[0-9a-fA-F]{64,}$")


@dataclass(frozen=True)
class AgentKey:
    agent_id: str
    public_key: str
    private_key: str
    wallet: str | None = None
    host: str | None = None
    # The enclave's Ed25519 receipt key (hex, raw or SPKI DER) receipts are verified under: written by `bursar owner
    # agent add` from the key the owner's CLI pinned or verified by attestation.
    receipt_public_key: str | None = None
    # The key object, built from the seed once (not on every request); not part of equality or repr.
    _key: list[Ed25519PrivateKey] = field(default_factory=list, init=False, repr=False, compare=False)

    def signing_key(self) -> Ed25519PrivateKey:
        if not self._key:
            self._key.append(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(self.private_key)))
        return self._key[0]


def agent_id_from_public_key(raw_public_key: bytes) -> str:
    """``agt_`` + the first 20 bytes (hex) of SHA-256 over the raw 32-byte Ed25519 public key (as the TypeScript SDK)."""
    return "agt_" + hashlib.sha256(raw_public_key).hexdigest()[:40]


def load_agent_key(path_or_dict: str | Path | dict[str, Any]) -> AgentKey:
    """Loads a key file (or its dict) and checks it is self-consistent: seed → public key → agent id."""
    raw: Any = path_or_dict
    if isinstance(path_or_dict, (str, Path)):
        try:
            raw = json.loads(Path(path_or_dict).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise AgentKeyError(f"cannot read agent key file {path_or_dict}: {e}") from e
    if not isinstance(raw, dict) or set(raw) - _FIELDS:
        raise AgentKeyError("agent key has the wrong shape")
    agent_id, public_key, private_key = raw.get("agentId"), raw.get("publicKey"), raw.get("privateKey")
    if not (isinstance(agent_id, str) and _AGENT_ID.match(agent_id)):
        raise AgentKeyError("agent key: agentId must be agt_ + 40 hex")
    if not (isinstance(public_key, str) and _HEX32.match(public_key) and isinstance(private_key, str) and _HEX32.match(private_key)):
        raise AgentKeyError("agent key: publicKey and privateKey must be 32 bytes of lowercase hex")
    wallet, host = raw.get("wallet"), raw.get("host")
    if wallet is not None and not (isinstance(wallet, str) and _ADDRESS.match(wallet)):
        raise AgentKeyError("agent key: wallet must be a 0x address")
    if host is not None and not isinstance(host, str):
        raise AgentKeyError("agent key: host must be a URL")
    receipt_key = raw.get("receiptPublicKey")
    if receipt_key is not None and not (isinstance(receipt_key, str) and _KEY_HEX.match(receipt_key)):
        raise AgentKeyError("agent key: receiptPublicKey must be hex (raw 32-byte or SPKI DER Ed25519 key)")
    derived = (
        Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_key)).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    if derived.hex() != public_key:
        raise AgentKeyError("agent key: publicKey does not match privateKey")
    if agent_id_from_public_key(derived) != agent_id:
        raise AgentKeyError("agent key: agentId does not match publicKey")
    return AgentKey(agent_id=agent_id, public_key=public_key, private_key=private_key, wallet=wallet, host=host, receipt_public_key=receipt_key)
