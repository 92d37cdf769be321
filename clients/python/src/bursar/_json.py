"""Parsing the host's answers: json.loads behind a nesting bound.

SECURITY: CPython's JSON decoder recurses in C once per nesting level, bounded only by sys.getrecursionlimit(); x402's
EVM extra imports py_ecc, which raises that limit to 100,000, and then an answer of ~100 KB of ``[`` from a malicious
host overflows the C stack: a segmentation fault of the whole agent process (hostSendsDeeplyNestedJson). Bursar's
answers nest a few levels; one nested deeper than MAX_DEPTH is refused as malformed (ValueError) before it is parsed.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64
# Strings (which may hold brackets) or one bracket; the scan runs only for answers with many brackets.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def too_deep(raw: bytes) -> bool:
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    depth = 0
    for m in _TOKENS.finditer(raw):
        c = m.group()
        if c in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif c in (b"]", b"}"):
            depth -= 1
    return False


def loads(raw: bytes) -> Any:
    """``json.loads(raw.decode("utf-8"))``; ValueError (as for any malformed answer) when nested deeper than MAX_DEPTH."""
    if too_deep(raw):
        raise ValueError(f"JSON answer nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError as e:  # belt and braces: a low recursion limit in a deep call stack
        raise ValueError("JSON answer nested too deeply") from e
