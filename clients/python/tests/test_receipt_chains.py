"""Issue 15 step 4: receipt marks with several chains, on the scenarios the TypeScript SDK decides
(vectors/ts_receipts_chains.json, written by scripts/genPythonReceiptVectors.ts from real AuditChain chains and
Ed25519 checkpoints): seq marks per (receipt key, chain), walletSeq marks per wallet across chains."""

import copy
import json
from pathlib import Path

import pytest

from bursar.receipts import ReceiptInvalidError, ReceiptMarks, StateRollbackError, check_receipt, ed25519_key

VECTORS = json.loads((Path(__file__).parent / "vectors" / "ts_receipts_chains.json").read_text(encoding="utf-8"))
KEY_HEX = VECTORS["publicKeyHex"]
KEY = ed25519_key(KEY_HEX)
SCENARIOS = {s["name"]: s for s in VECTORS["scenarios"]}


def run(steps, marks=None):
    marks = marks if marks is not None else ReceiptMarks(None)
    for i, s in enumerate(steps):
        try:
            check_receipt(copy.deepcopy(s["body"]), key=KEY, key_hex=KEY_HEX, request_id=s["requestId"], wallet=s["wallet"], agent_id=s["agentId"],
                          digest=bytes.fromhex(s["digest"][2:]), marks=marks, before=marks.before(KEY_HEX, s["wallet"]))
        except StateRollbackError as e:
            return i, e
    return -1, None


def test_receipts_from_two_chains_no_false_rollback():
    s = SCENARIOS["twoChainsNoFalseRollback"]
    chains = {(st["body"]["receipt"]["checkpoint"].get("chain") or "") for st in s["steps"]}
    assert len(chains) == 2  # answers from two chains, one marks set
    assert run(s["steps"]) == (-1, None)


@pytest.mark.parametrize("name", ["forkAcrossChains", "restoredChainB"])
def test_a_real_rollback_is_still_detected(name):
    s = SCENARIOS[name]
    at, err = run(s["steps"])
    assert at == s["rollbackAt"] > 0
    assert err.code == "state_rollback_detected"


def test_a_checkpoint_relabelled_to_another_chain_does_not_verify():
    s = next(st for st in SCENARIOS["twoChainsNoFalseRollback"]["steps"] if st["body"]["receipt"]["checkpoint"].get("chain"))
    for chain in (None, "aa" * 16):
        body = copy.deepcopy(s["body"])
        if chain is None:
            del body["receipt"]["checkpoint"]["chain"]
        else:
            body["receipt"]["checkpoint"]["chain"] = chain
        with pytest.raises(ReceiptInvalidError):
            check_receipt(body, key=KEY, key_hex=KEY_HEX, request_id=s["requestId"], wallet=s["wallet"], agent_id=s["agentId"],
                          digest=bytes.fromhex(s["digest"][2:]), marks=ReceiptMarks(None), before=None)


def test_marks_file_keeps_chains_and_old_files_load(tmp_path):
    f = tmp_path / "marks.json"
    marks = ReceiptMarks(str(f))
    assert run(SCENARIOS["twoChainsNoFalseRollback"]["steps"], marks) == (-1, None)
    marks.flush()
    saved = json.loads(f.read_text())
    assert sorted(saved["chains"]) == sorted([f"{KEY_HEX}|", f"{KEY_HEX}|" + "b0" * 16])
    again = ReceiptMarks(str(f))
    restored = SCENARIOS["restoredChainB"]
    assert run(restored["steps"][restored["rollbackAt"]:], again)[0] == 0
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"v": 1, "marks": {f"{KEY_HEX}|0x" + "44" * 20: {"seq": 3, "walletSeq": 2, "entryHash": "0x" + "00" * 32}}}))
    loaded = ReceiptMarks(str(old))
    assert loaded.get(KEY_HEX, "0x" + "44" * 20)["walletSeq"] == 2
    assert loaded.chain_seq(KEY_HEX, "") is None
