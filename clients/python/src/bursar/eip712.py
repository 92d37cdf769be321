"""EIP-712 hashing (independent of the x402 and eth-account code the signature came through), for checking answers."""

from __future__ import annotations

import re
from typing import Any, Callable

from Crypto.Hash import keccak


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


_DOMAIN_FIELDS = [("name", "string"), ("version", "string"), ("chainId", "uint256"), ("verifyingContract", "address"), ("salt", "bytes32")]


def _deps(primary: str, types: dict[str, list[dict[str, str]]], found: set[str]) -> set[str]:
    if primary in found or primary not in types:
        return found
    found.add(primary)
    for f in types[primary]:
        _deps(re.sub(r"\[\d*\]$", "", f["type"]), types, found)
    return found


def _encode_type(primary: str, types: dict[str, list[dict[str, str]]]) -> str:
    deps = sorted(_deps(primary, types, set()) - {primary})
    return "".join(f"{t}(" + ",".join(f"{f['type']} {f['name']}" for f in types[t]) + ")" for t in [primary, *deps])


def _int(v: Any) -> int:
    return v if isinstance(v, int) else int(v, 0) if isinstance(v, str) and v.startswith("0x") else int(v)


def _bytes(v: Any) -> bytes:
    return v if isinstance(v, (bytes, bytearray)) else bytes.fromhex(str(v).removeprefix("0x"))


def _encode_value(typ: str, v: Any, types: dict[str, list[dict[str, str]]]) -> bytes:
    m = re.match(r"^(.*)\[(\d*)\]$", typ)
    if m:
        return keccak256(b"".join(_encode_value(m.group(1), x, types) for x in v))
    if typ in types:
        return hash_struct(typ, v, types)
    if typ == "string":
        return keccak256(v.encode("utf-8"))
    if typ == "bytes":
        return keccak256(_bytes(v))
    if typ == "address":
        return _bytes(v).rjust(32, b"\0")
    if typ == "bool":
        return (1 if v else 0).to_bytes(32, "big")
    if typ.startswith("uint"):
        return _int(v).to_bytes(32, "big")
    if typ.startswith("int"):
        return (_int(v) % (1 << 256)).to_bytes(32, "big")
    if typ.startswith("bytes"):
        return _bytes(v).ljust(32, b"\0")
    raise ValueError(f"unsupported EIP-712 type {typ}")


# typeHash by (primary type, the whole types shape) and domain separators by (field name, value type, value):
# an x402 payment repeats one shape and one domain, so each is hashed once. Bounded; cleared when full.
_TYPE_HASHES: dict[tuple[Any, ...], bytes] = {}
_SEPARATORS: dict[tuple[Any, ...], bytes] = {}
_CACHE_MAX = 256


def _shape(types: dict[str, list[dict[str, str]]]) -> tuple[Any, ...]:
    return tuple((name, tuple((f["name"], f["type"]) for f in fields)) for name, fields in types.items())


def _type_hash(primary: str, types: dict[str, list[dict[str, str]]], shape: tuple[Any, ...] | None) -> bytes:
    key = (primary, shape) if shape is not None else None
    h = _TYPE_HASHES.get(key) if key is not None else None
    if h is None:
        h = keccak256(_encode_type(primary, types).encode())
        if key is not None:
            if len(_TYPE_HASHES) >= _CACHE_MAX:
                _TYPE_HASHES.clear()
            _TYPE_HASHES[key] = h
    return h


def _word_encoder(typ: str, types: dict[str, list[dict[str, str]]]) -> Callable[[Any], bytes]:
    """_encode_value for one field type, decided once: the same bytes, without the per-value type dispatch."""
    if typ.endswith("]") or typ in types or typ in ("string", "bytes"):
        return lambda v: _encode_value(typ, v, types)
    if typ == "address":
        return lambda v: _bytes(v).rjust(32, b"\0")
    if typ == "bool":
        return lambda v: (1 if v else 0).to_bytes(32, "big")
    if typ.startswith("uint"):
        return lambda v: _int(v).to_bytes(32, "big")
    if typ.startswith("int"):
        return lambda v: (_int(v) % (1 << 256)).to_bytes(32, "big")
    if typ.startswith("bytes"):
        return lambda v: _bytes(v).ljust(32, b"\0")
    return lambda v: _encode_value(typ, v, types)  # raises: unsupported type


_ENCODERS: dict[tuple[Any, ...], list[tuple[str, Callable[[Any], bytes]]]] = {}


def _hash_struct(primary: str, data: dict[str, Any], types: dict[str, list[dict[str, str]]], shape: tuple[Any, ...] | None) -> bytes:
    enc = _type_hash(primary, types, shape)
    if shape is None:
        return keccak256(enc + b"".join(_encode_value(f["type"], data[f["name"]], types) for f in types[primary]))
    key = (primary, shape)
    fields = _ENCODERS.get(key)
    if fields is None:
        fields = [(f["name"], _word_encoder(f["type"], types)) for f in types[primary]]
        if len(_ENCODERS) >= _CACHE_MAX:
            _ENCODERS.clear()
        _ENCODERS[key] = fields
    return keccak256(enc + b"".join([fn(data[name]) for name, fn in fields]))


def hash_struct(primary: str, data: dict[str, Any], types: dict[str, list[dict[str, str]]]) -> bytes:
    return _hash_struct(primary, data, types, None)


def _domain_separator(domain: dict[str, Any]) -> bytes:
    values = [(n, domain.get(n)) for n, _t in _DOMAIN_FIELDS]
    # Only str/int (not bool) values are keyed: those are what the wire domain holds, and they hash by value.
    cacheable = all(v is None or (isinstance(v, (str, int)) and not isinstance(v, bool)) for _n, v in values)
    key = tuple((n, type(v).__name__, v) for n, v in values) if cacheable else None
    sep = _SEPARATORS.get(key) if key is not None else None
    if sep is None:
        domain_fields = [{"name": n, "type": t} for n, t in _DOMAIN_FIELDS if domain.get(n) is not None]
        sep = _hash_struct("EIP712Domain", domain, {"EIP712Domain": domain_fields}, None)
        if key is not None:
            if len(_SEPARATORS) >= _CACHE_MAX:
                _SEPARATORS.clear()
            _SEPARATORS[key] = sep
    return sep


def hash_typed_data(domain: dict[str, Any], types: dict[str, list[dict[str, str]]], primary_type: str, message: dict[str, Any]) -> bytes:
    """The EIP-712 digest: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message)).

    The domain separator and the primary type's typeHash are computed once per distinct domain and types shape
    (cached), so a repeated x402 payment costs two keccaks here."""
    all_types = {k: v for k, v in types.items() if k != "EIP712Domain"}
    all_types["EIP712Domain"] = [{"name": n, "type": t} for n, t in _DOMAIN_FIELDS if domain.get(n) is not None]
    separator = _domain_separator(domain)
    return keccak256(b"\x19\x01" + separator + _hash_struct(primary_type, message, all_types, _shape(all_types)))
