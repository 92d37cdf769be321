"""``BursarSigner``: an x402 ``ClientEvmSigner`` whose wallet key lives in the bursar enclave."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import Any, Iterator

import warnings

from coincurve import PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .agent_key import AgentKey, load_agent_key
from .eip712 import hash_typed_data, keccak256
from .errors import AgentKeyError, ResponseInvalidError
from .receipts import ReceiptKeyMissingError, ReceiptMarks, check_receipt, ed25519_key
from .request import post_signed

_WARNED_OFF = False

# Worker threads for the async APIs: a payment's round trip waits on a socket there, never on the event loop. Sized
# for as many payments in flight as an agent plausibly runs (asyncio's default pool is cpu + 4 = 6 on 2 cores, which
# would queue the 7th payment behind the first six). Each thread keeps its own keep-alive connection to the host.
POOL_THREADS = 64
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _forget_pool_after_fork() -> None:
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def run_in_thread(fn: Any, *args: Any) -> "asyncio.Future[Any]":
    """Awaitable ``fn(*args)`` in bursar's worker threads, with the calling task's context (as ``asyncio.to_thread``)."""
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="bursar-sign")
    ctx = contextvars.copy_context()
    return asyncio.get_running_loop().run_in_executor(_POOL, functools.partial(ctx.run, fn, *args))


_DOMAIN_KEYS = [("name", "name"), ("version", "version"), ("chainId", "chain_id"), ("verifyingContract", "verifying_contract"), ("salt", "salt")]


def _json_value(v: Any) -> Any:
    """Like the TypeScript SDK's toJsonValue: ints as decimal strings, bytes as 0x hex, containers deep-copied."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items() if x is not None}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    return str(v)


def _domain_json(domain: Any) -> dict[str, Any]:
    d = domain if isinstance(domain, dict) else asdict(domain) if is_dataclass(domain) else vars(domain)
    out: dict[str, Any] = {}
    for camel, snake in _DOMAIN_KEYS:
        v = d.get(camel, d.get(snake))
        if v is None:
            continue
        out[camel] = int(v) if camel == "chainId" else _json_value(v)
    return out


def _types_json(types: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for name, fields in types.items():
        if name == "EIP712Domain":
            continue
        out[name] = [{"name": f["name"], "type": f["type"]} if isinstance(f, dict) else {"name": f.name, "type": f.type} for f in fields]
    return out


# n / 2 for secp256k1: the enclave signs in low-s form only (as EIP-2 and OpenZeppelin's ECDSA require).
_HALF_N = bytes.fromhex("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0")


def recover_public_key(digest: bytes, signature: bytes) -> bytes:
    """The 65-byte uncompressed public key that made a 65-byte (r ‖ s ‖ v) secp256k1 signature over ``digest``
    (coincurve: native libsecp256k1 recovery)."""
    if len(signature) != 65:
        raise ResponseInvalidError("response_invalid", f"signature is {len(signature)} bytes, not 65")
    v = signature[64]
    rec = v - 27 if v >= 27 else v
    if rec not in (0, 1):
        raise ResponseInvalidError("response_invalid", f"signature has an invalid v {v}")
    try:
        pub = PublicKey.from_signature_and_message(signature[:64] + bytes([rec]), digest, hasher=None)
    except Exception as e:  # coincurve raises on an r/s that recovers to no key
        raise ResponseInvalidError("response_signer_mismatch", "the signature recovers to no valid key") from e
    return pub.format(compressed=False)


def address_of(public_key: bytes) -> str:
    """The Ethereum address (lowercase 0x hex) of a 65-byte uncompressed secp256k1 public key."""
    return "0x" + keccak256(public_key[1:])[-20:].hex()


def recover_address(digest: bytes, signature: bytes) -> str:
    """The address that made a 65-byte (r ‖ s ‖ v) secp256k1 signature over ``digest`` (coincurve, native)."""
    return address_of(recover_public_key(digest, signature))


class BursarSigner:
    """Signs EIP-712 typed data (x402 ``exact`` payments) by asking the bursar enclave; the enclave decides.

    Plugs into the official ``x402`` Python client as its EVM signer (see :func:`bursar.x402.bursar_x402_client`).
    Every answer is checked: the signature must recover, with native secp256k1, to the wallet address.
    A refusal raises the typed error (``PolicyDeniedError``, ``ApprovalPendingError`` …) and nothing is paid.
    """

    def __init__(
        self,
        agent_key: AgentKey | str | dict[str, Any],
        *,
        host: str | None = None,
        wallet: str | None = None,
        reason: str | None = None,
        timeout: float = 30.0,
        session: bool = True,
        receipts: str = "verify",
        receipt_public_key: str | None = None,
        receipt_marks_file: str | None = None,
    ) -> None:
        self.agent_key = agent_key if isinstance(agent_key, AgentKey) else load_agent_key(agent_key)
        self.host = host or self.agent_key.host
        self.wallet = wallet or self.agent_key.wallet
        if not self.host:
            raise AgentKeyError("no host: pass host= or put it in the key file")
        if not self.wallet:
            raise AgentKeyError("no wallet: pass wallet= or put it in the key file")
        self.reason = reason
        self.timeout = timeout
        # Authenticate sign requests with a per-session MAC (docs/agent-sdk.md "Sessions"); False: Ed25519 per request.
        self.session = session
        # Per thread and per asyncio task: concurrent payments never see each other's context.
        self._ctx: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(f"bursar_ctx_{id(self)}", default=None)
        self.receipts: list[dict[str, Any]] = []
        # The wallet's public key, kept once an answer has proven it (it hashed to the wallet address).
        self._wallet_public_key: bytes | None = None
        # Receipt checks (issue 15): on by default, under the trusted key only (never one the host hands over).
        self._receipt_key: Any = None
        self._receipt_key_hex = ""
        self._marks: ReceiptMarks | None = None
        if receipts == "off":
            global _WARNED_OFF
            if not _WARNED_OFF:
                _WARNED_OFF = True
                warnings.warn(
                    "bursar: receipt checks are OFF (receipts='off'): signatures are returned without verifying their enclave "
                    "receipts, so a host can hide a rolled-back or forked enclave from this agent. Do not run this in production.",
                    RuntimeWarning,
                    stacklevel=2,
                )
        elif receipts == "verify":
            configured = receipt_public_key or self.agent_key.receipt_public_key
            if not configured:
                raise ReceiptKeyMissingError()
            try:
                self._receipt_key = ed25519_key(configured)
            except ValueError as e:
                raise AgentKeyError(f"receipt_public_key is not an Ed25519 public key: {e}") from e
            self._receipt_key_hex = self._receipt_key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
            self._marks = ReceiptMarks.for_file(receipt_marks_file)
        else:
            raise ValueError("receipts must be 'verify' or 'off'")

    @property
    def address(self) -> str:
        return self.wallet  # type: ignore[return-value]

    @contextmanager
    def context(self, *, resource_url: str | None = None, reason: str | None = None, requirements: dict[str, Any] | None = None) -> Iterator[None]:
        """Advisory context for the payments signed inside the block (resource URL, stated reason, x402 requirements)."""
        token = self._ctx.set({k: v for k, v in {"resourceUrl": resource_url, "reason": reason, "requirements": requirements}.items() if v})
        try:
            yield
        finally:
            self._ctx.reset(token)

    def set_call_context(self, *, resource_url: str | None = None, reason: str | None = None, requirements: dict[str, Any] | None = None) -> None:
        """Sets the current thread's (or asyncio task's) advisory context for the next payment (used by the x402 client hook)."""
        ctx = dict(self._ctx.get() or {})
        ctx.update({k: v for k, v in {"resourceUrl": resource_url, "reason": reason, "requirements": requirements}.items() if v})
        self._ctx.set(ctx)

    def _context(self) -> dict[str, Any] | None:
        ctx = dict(self._ctx.get() or {})
        if self.reason and "reason" not in ctx:
            ctx["reason"] = self.reason
        out: dict[str, Any] = {}
        if isinstance(ctx.get("resourceUrl"), str) and len(ctx["resourceUrl"]) <= 2048:
            out["resourceUrl"] = ctx["resourceUrl"]
        if ctx.get("reason"):
            out["reason"] = str(ctx["reason"])[:280]
        if ctx.get("requirements"):
            out["requirements"] = ctx["requirements"]
        return out or None

    def sign_typed_data(self, domain: Any, types: dict[str, Any], primary_type: str, message: dict[str, Any]) -> bytes:
        typed = {"domain": _domain_json(domain), "types": _types_json(types), "primaryType": primary_type, "message": _json_value(message)}
        fields: dict[str, Any] = {"op": "signTypedData", "typedData": typed}
        context = self._context()
        if context:
            fields["context"] = context
        # The marks as they are before this request is sent: its receipt must lie above them.
        before = self._marks.before(self._receipt_key_hex, self.wallet) if self._marks else None  # type: ignore[arg-type]
        body = post_signed(self.host, self.agent_key, self.wallet, "/v1/agent/sign", fields, timeout=self.timeout, session=self.session)  # type: ignore[arg-type]
        sig_hex = body.get("signature") if isinstance(body, dict) else None
        if not isinstance(sig_hex, str) or not sig_hex.startswith("0x"):
            raise ResponseInvalidError("response_invalid", "bursar host sent no signature")
        try:
            signature = bytes.fromhex(sig_hex[2:])
        except ValueError as e:
            raise ResponseInvalidError("response_invalid", "bursar host sent a malformed signature") from e
        # SECURITY: the host is untrusted; a signature that does not recover to the wallet is refused here.
        digest = hash_typed_data(typed["domain"], typed["types"], primary_type, typed["message"])
        self._check_wallet_signature(digest, signature)
        if self._marks is not None:
            # SECURITY: the receipt must verify before the signature is returned (else it is not handed out).
            body["receiptCheck"] = check_receipt(
                body, key=self._receipt_key, key_hex=self._receipt_key_hex, request_id=str(body.get("requestId")),
                wallet=self.wallet, agent_id=self.agent_key.agent_id, digest=digest, marks=self._marks, before=before,  # type: ignore[arg-type]
            )
        if isinstance(body.get("receipt"), dict):
            self.receipts.append(body["receipt"])
        return signature

    async def sign_typed_data_async(self, domain: Any, types: dict[str, Any], primary_type: str, message: dict[str, Any]) -> bytes:
        """``sign_typed_data`` for asyncio code: the round trip to the enclave runs in a worker thread (with this task's
        context), so the event loop keeps serving other tasks meanwhile.

        Cancelling the awaiting task (``asyncio.wait_for``, a task group) does not stop a request already sent: the
        thread finishes it (resends included, until its deadline) and its signature, if any, is dropped — the enclave
        counted it, as any authorization that left it; ``signer.receipts`` still gets its receipt."""
        return await run_in_thread(self.sign_typed_data, domain, types, primary_type, message)

    def _check_wallet_signature(self, digest: bytes, signature: bytes) -> None:
        """Raises unless ``signature`` is the wallet's, in low-s form, over ``digest``.

        The first answer's public key is accepted only if it hashes to the wallet address, and is then kept: every
        later answer must recover (native libsecp256k1) to exactly those key bytes, a byte compare instead of a
        keccak per answer. A key never proven to be the wallet's is never kept (as the TypeScript SDK's
        WalletSignatureCheck)."""
        if len(signature) == 65 and signature[32:64] > _HALF_N:
            raise ResponseInvalidError("response_invalid", "bursar host sent a high-s signature (the enclave signs low-s only)")
        pub = recover_public_key(digest, signature)
        known = self._wallet_public_key
        if known is not None:
            if pub == known:
                return
        elif address_of(pub) == self.wallet.lower():  # type: ignore[union-attr]
            self._wallet_public_key = pub
            return
        raise ResponseInvalidError("response_signer_mismatch", f"bursar host returned a signature from {address_of(pub)}, not {self.wallet}")
