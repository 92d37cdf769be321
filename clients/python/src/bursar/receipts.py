"""Receipt checks (issue 15, sdk15): every signature's audit receipt, verified before the signature is returned.

Independent of the TypeScript code: canonical JSON, the entry hash (SHA-256) and the checkpoint's Ed25519 signature
are computed here with ``hashlib`` and ``cryptography`` (already a dependency: the agent key), following the format in
docs/audit.md. Checks, as the TypeScript SDK's ``checkReceipt``:

1. the host-served ``auditEntry`` hashes to ``receipt.entryHash`` and is the enclave's ``sign_allowed`` of this request
   (request id = nonce, wallet, agent, the digest this SDK computed);
2. the checkpoint verifies under the TRUSTED receipt key and covers the entry (``checkpoint.seq >= seq``; at the same
   seq its head must be the entry hash — then ``signed`` is True; at a later seq the link runs through other wallets'
   entries the agent is not given: ``signed`` False); since turn18 the answers of one enclave turn share one
   signature over a Merkle root of their entries, each checkpoint with its own path (``turn_root``), verified once;
3. the receipt lies strictly above the high-water marks held when the request was sent — the wallet's walletSeq, and
   the audit seq of the receipt's chain (issue 15 step 4: the checkpoint names its chain; seqs of two chains do not
   compare) — and the wallet's next entry links to the marked one (``walletPrev``). Then the marks are raised.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import BursarError

_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
_HASH = re.compile(r"^0x[0-9a-f]{64}$")
# turn18: a turn checkpoint's signature field adds its leaf index and Merkle path (docs/audit.md "Checkpoint").
# rt33a: matched as it is (no .lower()): "0X", upper-case hex passed here and failed the TS SDK and the auditor.
_SIG = re.compile(r"0x[0-9a-f]{128}(?:\.(?:0|[1-9][0-9]{0,9})(?:\.[0-9a-f]{64}){0,32})?")
_CHAIN = re.compile(r"^[0-9a-f]{32}$")
_ENTRY_TAG = b"bursar.audit.entry.v1"
_GENESIS = "0x" + "00" * 32
_SAVE_EVERY_S = 0.1


class ReceiptInvalidError(BursarError):
    """The receipt beside a signature does not verify (forged, rewritten, another request's, or another key's).
    The signature was NOT returned: do not trust this host's answer."""

    def __init__(self, why: str) -> None:
        super().__init__("receipt_invalid", f"bursar host returned a signature whose audit receipt does not verify: {why}")


class StateRollbackError(BursarError):
    """A verified receipt at or below a mark already held for this wallet: the enclave runs from an older state
    (rollback) or a second enclave signs for the wallet (fork). The signature was NOT returned. Stop paying through
    this host; keep the receipts and tell the owner (``bursar audit verify --since-head``)."""

    def __init__(self, wallet: str, why: str, mark: dict[str, Any]) -> None:
        super().__init__("state_rollback_detected", f"the enclave signing for wallet {wallet} runs from an older state or a fork: {why}")
        self.mark = mark


class ReceiptKeyMissingError(BursarError):
    """Receipt checks are on but no trusted receipt key is configured (key file ``receiptPublicKey`` or
    ``receipt_public_key=``); ``receipts="off"`` disables them (not for production)."""

    def __init__(self) -> None:
        super().__init__(
            "receipt_key_missing",
            "receipt checks are on but no trusted enclave receipt key is configured: use a key file written by "
            "`bursar owner agent add` (it carries receiptPublicKey) or pass receipt_public_key=; receipts=\"off\" disables the checks",
        )


def ed25519_key(hex_key: str) -> Ed25519PublicKey:
    """Raw 32-byte key or SPKI DER (RFC 8410), hex with or without 0x."""
    raw = bytes.fromhex(hex_key[2:] if hex_key.startswith("0x") else hex_key)
    if len(raw) == 44 and raw.startswith(_SPKI_PREFIX):
        raw = raw[12:]
    if len(raw) != 32:
        raise ValueError("not an Ed25519 public key (raw 32 bytes or SPKI DER)")
    return Ed25519PublicKey.from_public_bytes(raw)


def canonical_json(value: Any) -> str:
    """docs/audit.md canonicalJson: keys sorted, no whitespace, strings as ECMAScript JSON.stringify writes them
    (short escapes for \\b \\f \\n \\r \\t, \\u00XX for other controls, non-ASCII kept, a lone surrogate as \\udXXX),
    integers only."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise ValueError("audit entries hold integers only")
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))  # UTF-16 code units, as JS sort
        return "{" + ",".join(_quote(k) + ":" + canonical_json(value[k]) for k in keys) + "}"
    raise ValueError(f"not a JSON value: {type(value).__name__}")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _quote(s: str) -> str:
    """JSON.stringify of a string. suite40: JavaScript strings are UTF-16, so a high + low surrogate held as two code
    points here is one character there (written as it is), and a lone surrogate is written \\udXXX (lowercase hex), not
    raw (which has no UTF-8 encoding: entry_hash raised)."""
    if not _SURROGATE.search(s):
        return json.dumps(s, ensure_ascii=False)
    s = s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")  # joins pairs, keeps lone ones
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(s, ensure_ascii=False))


def entry_hash(entry: dict[str, Any], *, fast: bool = False) -> str:
    """docs/audit.md entry hash. ``fast``: the C json encoder with sorted keys — the same bytes as canonical_json for
    entries whose keys are all BMP (they are: field names), else a different hash; callers recheck with the exact one."""
    prev = entry.get("prevHash")
    if not (isinstance(prev, str) and _HASH.match(prev)):
        raise ValueError("prevHash")
    text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False) if fast else canonical_json(entry)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # suite40: a surrogate the fast path wrote raw; the exact text escapes it as JS does
        data = canonical_json(entry).encode("utf-8")
    h = hashlib.sha256(_ENTRY_TAG + bytes.fromhex(prev[2:]) + data)
    return "0x" + h.hexdigest()


def turn_root(seq: int, head: str, index: int, path: list[bytes]) -> str:
    """turn18: the Merkle root a turn checkpoint's path leads to from its head (docs/audit.md "Checkpoint"):
    leaf = SHA-256(0x00 ‖ uint64be(seq) ‖ head), node = SHA-256(0x01 ‖ left ‖ right), bit k of index: right child."""
    node = hashlib.sha256(b"\x00" + seq.to_bytes(8, "big") + bytes.fromhex(head[2:])).digest()
    for k, sibling in enumerate(path):
        pair = sibling + node if (index >> k) & 1 else node + sibling
        node = hashlib.sha256(b"\x01" + pair).digest()
    return "0x" + node.hex()


_VERIFIED: OrderedDict[tuple[str, str], Ed25519PublicKey] = OrderedDict()
_VERIFIED_LOCK = threading.Lock()


def checkpoint_signed(checkpoint: dict[str, Any], key: Ed25519PublicKey) -> bool:
    """The checkpoint's Ed25519 signature under ``key``. A turn checkpoint (turn18) signs the Merkle root of its turn's
    heads; the answers of one turn share that signature, so a verified (signature, message) is remembered per key
    (bounded): concurrent answers of one turn cost one verify."""
    sig = checkpoint.get("signature")
    if not (isinstance(sig, str) and _SIG.fullmatch(sig)):
        return False
    parts = sig.split(".")
    if len(parts) == 1:
        signed = {"t": "bursar.audit.checkpoint.v1", "seq": checkpoint.get("seq"), "head": checkpoint.get("head"), "time": checkpoint.get("time")}
    else:
        index, path = int(parts[1]), [bytes.fromhex(h) for h in parts[2:]]
        seq, head = checkpoint.get("seq"), checkpoint.get("head")
        if index >= 2 ** len(path) or not _uint(seq) or not (isinstance(head, str) and _HASH.fullmatch(head)):
            return False
        signed = {"t": "bursar.audit.turn.v1", "root": turn_root(seq, head, index, path), "time": checkpoint.get("time")}
    if checkpoint.get("chain"):  # issue 15 step 4: a non-root chain's checkpoint signs its chain too
        signed["chain"] = checkpoint["chain"]
    message = canonical_json(signed)
    slot = (parts[0], message)
    with _VERIFIED_LOCK:
        if len(parts) > 1 and _VERIFIED.get(slot) is key:
            return True
    try:
        key.verify(bytes.fromhex(parts[0][2:]), message.encode("utf-8"))
    except InvalidSignature:
        return False
    if len(parts) > 1:
        with _VERIFIED_LOCK:
            _VERIFIED[slot] = key
            while len(_VERIFIED) > 256:
                _VERIFIED.popitem(last=False)
    return True


def _uint(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 2**53 - 1


class ReceiptMarks:
    """Per (receipt key, wallet): the newest walletSeq seen, the entry hash at it and its audit seq in its chain
    (``chain``, absent for the root); per (receipt key, chain): the highest audit seq seen (``chains``, ``key|chain``).
    In memory (one set per process, shared by every signer) or, with ``file``, loaded once and rewritten atomically
    after every receipt; the file format is the TypeScript SDK's (``{"v":1,"marks":{...}}``). One file per process."""

    _shared: dict[str, "ReceiptMarks"] = {}
    _shared_lock = threading.Lock()

    @classmethod
    def for_file(cls, file: str | os.PathLike[str] | None) -> "ReceiptMarks":
        key = str(Path(file).resolve()) if file else ":memory:"
        with cls._shared_lock:
            if key not in cls._shared:
                cls._shared[key] = cls(key if file else None)
            return cls._shared[key]

    def __init__(self, file: str | None) -> None:
        self.file = file
        self._lock = threading.Lock()
        self._marks: dict[str, dict[str, Any]] = {}
        self._chains: dict[str, int] = {}
        self._timer: threading.Timer | None = None
        self._atexit = False
        if file and os.path.exists(file):
            try:
                data = json.loads(Path(file).read_text(encoding="utf-8"))
                assert data.get("v") == 1 and isinstance(data.get("marks"), dict)
                self._marks = {k: dict(v) for k, v in data["marks"].items()}
                chains = data.get("chains", {})  # absent from files written before chains: they load
                assert isinstance(chains, dict) and all(_uint(v) or v == -1 for v in chains.values())
                self._chains = dict(chains)
            except Exception as e:  # noqa: BLE001
                raise BursarError("receipt_marks_invalid", f"{file} is not a bursar receipt-marks file; restore it from a backup") from e

    @staticmethod
    def _slot(key_hex: str, wallet: str) -> str:
        return f"{key_hex.lower()}|{wallet.lower()}"

    def get(self, key_hex: str, wallet: str) -> dict[str, Any] | None:
        with self._lock:
            m = self._marks.get(self._slot(key_hex, wallet))
            return dict(m) if m else None

    def before(self, key_hex: str, wallet: str) -> dict[str, Any]:
        """The marks a request is sent under: its wallet's and the per-chain seqs (a copy)."""
        with self._lock:
            m = self._marks.get(self._slot(key_hex, wallet))
            return {"wallet": dict(m) if m else None, "chains": dict(self._chains)}

    def chain_seq(self, key_hex: str, chain: str) -> int | None:
        with self._lock:
            return self._chains.get(f"{key_hex.lower()}|{chain}")

    def record(self, key_hex: str, wallet: str, mark: dict[str, Any]) -> None:
        with self._lock:
            chain = mark.get("chain") or ""
            c = f"{key_hex.lower()}|{chain}"
            changed = False
            if self._chains.get(c, -1) < mark["seq"]:
                self._chains[c] = mark["seq"]
                changed = True
            k = self._slot(key_hex, wallet)
            prev = self._marks.get(k)
            plain = {"seq": mark["seq"], "walletSeq": mark["walletSeq"], "entryHash": mark["entryHash"], **({"chain": chain} if chain else {})}
            # The wallet's seq is kept for the chain of its newest walletSeq (another chain's seqs do not compare).
            if prev is None or prev["walletSeq"] < mark["walletSeq"]:
                self._marks[k] = plain
                changed = True
            elif prev["walletSeq"] == mark["walletSeq"] and (prev.get("chain") or "") == chain and prev["seq"] < mark["seq"]:
                self._marks[k] = {**prev, "seq": mark["seq"]}
                changed = True
            if changed and self.file and self._timer is None:
                # Coalesced: one rewrite per _SAVE_EVERY_S at most (and at exit), not one per payment.
                if not self._atexit:
                    self._atexit = True
                    atexit.register(self.flush)
                self._timer = threading.Timer(_SAVE_EVERY_S, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Writes the marks now (atomically: temp file + rename)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self.file:
                return
            tmp = f"{self.file}.{os.getpid()}.tmp"
            Path(self.file).parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(json.dumps({"v": 1, "marks": self._marks, "chains": self._chains}, separators=(",", ":")) + "\n")
            os.replace(tmp, self.file)


def check_receipt(
    body: dict[str, Any], *, key: Ed25519PublicKey, key_hex: str, request_id: str, wallet: str, agent_id: str,
    digest: bytes, marks: ReceiptMarks, before: dict[str, Any] | None,
) -> dict[str, Any]:
    """Raises ReceiptInvalidError / StateRollbackError, else raises the marks and returns what was established."""
    r, e = body.get("receipt"), body.get("auditEntry")
    # rt31b: walletSeq an integer too (as the TS check): True == 1 in Python, and a bool mark broke the shared marks file.
    if not isinstance(r, dict) or not _uint(r.get("seq")) or not isinstance(r.get("entryHash"), str) or not isinstance(r.get("checkpoint"), dict) or (
        r.get("walletSeq") is not None and not _uint(r.get("walletSeq"))
    ):
        raise ReceiptInvalidError("the answer carries no well-formed receipt")
    if not isinstance(e, dict) or not _uint(e.get("seq")):
        raise ReceiptInvalidError("the answer carries no well-formed audit entry for the receipt")
    seq, wseq, ehash, cp = r["seq"], r.get("walletSeq"), r["entryHash"], r["checkpoint"]
    try:
        if entry_hash(e, fast=True) != ehash and entry_hash(e) != ehash:
            raise ReceiptInvalidError("the audit entry does not hash to the receipt's entryHash")
    except ValueError as err:
        raise ReceiptInvalidError(f"the audit entry is malformed ({err})") from err
    if e.get("seq") != seq or e.get("walletSeq") != wseq:
        raise ReceiptInvalidError("the audit entry sits at another seq or walletSeq than the receipt")
    if e.get("event") != "sign_allowed" or e.get("verdict") != "allow":
        raise ReceiptInvalidError(f"the receipt's entry is a {e.get('event')}, not a signature")
    if e.get("requestId") != request_id:
        raise ReceiptInvalidError(f"the receipt is for request {e.get('requestId')}, not {request_id}")
    if not isinstance(e.get("wallet"), str) or e["wallet"].lower() != wallet.lower() or e.get("agentId") != agent_id:
        raise ReceiptInvalidError("the receipt is for another wallet or agent")
    want = "0x" + digest.hex()
    if str(e.get("signedHash")).lower() != want or str(body.get("signedHash")).lower() != want:
        raise ReceiptInvalidError("the receipt records another digest than the one this SDK asked to sign")
    # rt33a: no other key (the auditor's checkpoint schema is strict: a receipt kept with one is malformed there).
    if not set(cp) <= {"seq", "head", "time", "chain", "signature"}:
        raise ReceiptInvalidError("the checkpoint carries a field the audit format does not have")
    if "chain" in cp and not (isinstance(cp["chain"], str) and _CHAIN.fullmatch(cp["chain"])):
        raise ReceiptInvalidError("the checkpoint names a malformed chain")
    if not (_uint(cp.get("seq")) and isinstance(cp.get("head"), str) and _uint(cp.get("time")) and checkpoint_signed(cp, key)):
        raise ReceiptInvalidError("the checkpoint signature does not verify under the trusted enclave receipt key")
    # rt31b: since turn15 every answer's checkpoint signs its own entry; one at a later seq would bind the entry by its
    # hash only (a host could invent it): refused.
    if cp["seq"] != seq:
        raise ReceiptInvalidError(f"the checkpoint at seq {cp['seq']} does not sign the entry at seq {seq}")
    if cp["head"] != ehash:
        raise ReceiptInvalidError("the checkpoint's head is not the receipt's entry")
    signed = cp["seq"] == seq
    # Issue 15 step 4: the receipt's chain is its checkpoint's (signed); seqs compare only within one chain.
    chain = cp.get("chain") or ""
    where = f" of chain {chain}" if chain else ""
    m = before.get("wallet") if before is not None else None
    in_chain = before.get("chains", {}).get(f"{key_hex.lower()}|{chain}") if before is not None else None
    if m is not None and ((wseq is not None and wseq <= m["walletSeq"]) or ((m.get("chain") or "") == chain and seq <= m["seq"])):
        raise StateRollbackError(
            wallet, f"this receipt is at audit seq {seq}{where}, walletSeq {wseq}, not above the marks held when the request was sent "
            f"(seq {m['seq']}, walletSeq {m['walletSeq']})", m)
    if in_chain is not None and seq <= in_chain:
        raise StateRollbackError(
            wallet, f"this receipt is at audit seq {seq}{where}, not above seq {in_chain} of that chain held when the request was sent",
            {"seq": in_chain, "walletSeq": m["walletSeq"] if m else 0, "entryHash": m["entryHash"] if m else "", **({"chain": chain} if chain else {})})
    now = marks.get(key_hex, wallet)
    if now is not None and wseq is not None:
        if wseq == now["walletSeq"] + 1 and e.get("walletPrev") != now["entryHash"]:
            raise StateRollbackError(wallet, f"the wallet's entry {wseq} does not continue entry {now['walletSeq']} you hold", now)
        if wseq == now["walletSeq"] and ehash != now["entryHash"]:
            raise StateRollbackError(wallet, f"two different entries at walletSeq {wseq}", now)
    marks.record(key_hex, wallet, {"seq": seq, "walletSeq": wseq or 0, "entryHash": ehash, **({"chain": chain} if chain else {})})
    return {"seq": seq, "chain": chain, "walletSeq": wseq, "entryHash": ehash, "signed": signed}
