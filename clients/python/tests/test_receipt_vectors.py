"""The receipt verifier's hashing and signature check against the pinned vectors of docs/audit.md (written by the
TypeScript code; shared/audit/hashAuditEntry.test.ts pins the same entry hash), and canonical JSON on awkward strings
against what node's JSON.stringify writes."""

import json
import re
import subprocess
from pathlib import Path

from bursar.receipts import canonical_json, checkpoint_signed, ed25519_key, entry_hash

REPO = Path(__file__).resolve().parents[3]
CANONICAL = re.search(r"the canonical JSON\n```\n(.*?)\n```", (REPO / "docs" / "audit.md").read_text(encoding="utf-8"), re.S).group(1)  # type: ignore[union-attr]


def test_entry_hash_matches_the_documented_vector_fast_and_exact():
    entry = json.loads(CANONICAL)
    assert canonical_json(entry) == CANONICAL
    assert entry_hash(entry) == "0x19a6b58ecf35afcf1f3d71961ec0ad0078b887877d8077a609cfe057e7c96af4"
    assert entry_hash(entry, fast=True) == entry_hash(entry)


def test_checkpoint_signature_matches_the_documented_vector_and_a_changed_field_fails():
    key = ed25519_key("ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c")
    cp = {
        "seq": 0,
        "head": "0x19a6b58ecf35afcf1f3d71961ec0ad0078b887877d8077a609cfe057e7c96af4",
        "time": 1767225600001,
        "signature": "0x9b5c3bc0f258286ef2ac3d22a1019dbe9f41edf6680015b684b7de38476310337e7c4caaaa6500e1a52852b1b8c8eebef2d5d45fafc690d1c6e042a82fe27707",
    }
    assert checkpoint_signed(cp, key)
    assert not checkpoint_signed({**cp, "time": cp["time"] + 1}, key)
    assert not checkpoint_signed({**cp, "seq": 1}, key)


def test_canonical_json_writes_strings_as_node_json_stringify():
    values = ['héllo "x"\n\t\u0001\u001f ☕ 😀 \u2028 / \\ \b\f\r\u007f', 'lone \udc00 \ud83d', {"b": 1, "a": [True, None, "x"], "é": {"z": 0, "Z": -1}}]
    for v in values:
        node = subprocess.run(["node", "-e", "const v = JSON.parse(require('fs').readFileSync(0, 'utf8')); const c = (x) => x === null || typeof x !== 'object' ? JSON.stringify(x) : Array.isArray(x) ? `[${x.map(c).join(',')}]` : `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${c(x[k])}`).join(',')}}`; process.stdout.write(c(v))"],
                              input=json.dumps(v), capture_output=True, text=True, check=True, encoding="utf-8")
        assert canonical_json(v) == node.stdout


STRING_VECTORS = json.loads((Path(__file__).parent / "vectors" / "ts_entry_hash_strings.json").read_text(encoding="utf-8"))["entries"]


def test_entry_hash_of_lone_surrogates_matches_the_typescript_vectors_fast_and_exact():
    """suite40: lone surrogates (json.loads keeps them, as JSON.parse does) are written \\uXXXX as JSON.stringify writes
    them, a real pair as its character; keys sort by UTF-16 code units (vectors: shared/audit/hashAuditEntry.test.ts)."""
    assert len(STRING_VECTORS) == 7
    for v in STRING_VECTORS:
        assert canonical_json(v["entry"]) == v["canonical"]
        assert entry_hash(v["entry"]) == v["hash"]
        assert entry_hash(v["entry"], fast=True) == v["hash"]  # the fast path falls back to the exact one, never raises
    # A pair held as two surrogates in a Python string is one character to JavaScript: written as that character.
    split = {**STRING_VECTORS[3]["entry"], "reason": "pair \ud83d" + "\ude00 ok"}
    assert entry_hash(split) == STRING_VECTORS[3]["hash"]
