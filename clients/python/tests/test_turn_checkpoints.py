"""turn18: turn checkpoints (one Ed25519 signature over a Merkle root of an enclave turn's heads, each checkpoint with
its own path) written by the TypeScript enclave code (vectors/ts_turn_checkpoints.json, kept current by
shared/audit/auditTurnRoot.test.ts): this SDK's independent check gets every verdict, and a turn signature it has
verified (cached) never vouches for a relabelled, moved or re-pathed checkpoint."""

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bursar.receipts import checkpoint_signed, ed25519_key

VECTORS = json.loads((Path(__file__).parent / "vectors" / "ts_turn_checkpoints.json").read_text(encoding="utf-8"))


def test_every_turn_vector_gets_its_verdict_before_and_after_the_turn_signature_is_cached():
    key = ed25519_key(VECTORS["publicKey"])
    for _ in range(2):
        for v in VECTORS["vectors"]:
            assert checkpoint_signed(v["checkpoint"], key) is v["valid"], v["name"]


def test_tampered_checkpoints_fail_with_nothing_cached_and_under_another_key_object():
    fresh = ed25519_key(VECTORS["publicKey"])
    for v in VECTORS["vectors"]:
        if not v["valid"]:
            assert checkpoint_signed(v["checkpoint"], fresh) is False, v["name"]
    good = next(v["checkpoint"] for v in VECTORS["vectors"] if v["valid"] and "." in v["checkpoint"]["signature"])
    assert checkpoint_signed(good, fresh) is True
    assert checkpoint_signed(good, Ed25519PrivateKey.generate().public_key()) is False  # cached under the enclave key only


def test_a_turn_of_several_answers_shares_one_signature_each_with_its_own_path():
    turn = [v["checkpoint"] for v in VECTORS["vectors"] if v["valid"] and v["name"].startswith("turn 0 ")]
    assert len(turn) == 5
    assert len({cp["signature"].split(".")[0] for cp in turn}) == 1
    assert len({cp["signature"] for cp in turn}) == 5
