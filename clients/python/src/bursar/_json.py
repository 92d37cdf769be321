"""Parsing the host's answers: json.loads behind a nesting bound.

SECURITY: CPython's JSON decoder recurses in C once per nesting level, bounded only by sys.getrecursionlimit(); x402's
EVM extra imports py_ecc, which raises that limit to 100,000, and then an answer of ~100 KB of ``[`` from a malicious
host overflows the C stack: a segmentation fault of the whole agent process (hostSendsDeeplyNestedJson). Bursar's
answers nest a few levels; one nested deeper than MAX_DEPTH is refused as malformed (ValueError) before it is parsed.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64
# JSON strings (which may hold brackets), removed before the brackets are counted. Linear: a string never fails once
# begun (the closing quote is optional, so nothing backtracks): an unterminated one runs to the end instead of a scan
# restarted at each quote inside it (quadratic: minutes on a few MB).
_STRINGS = re.compile(rb'"(?:[^"\\]+|\\.)*"?', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DELTA = [0] * 256
_DELTA[ord("[")] = _DELTA[ord("{")] = 1
_DELTA[ord("]")] = _DELTA[ord("}")] = -1


def too_deep(raw: bytes) -> bool:
    """Whether some point of ``raw`` lies inside more than MAX_DEPTH open arrays/objects (strings excluded). C-speed
    passes only (count, regex removal, translate, accumulate): ~0.1 s per MB at worst, nothing for a bursar answer."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    brackets = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DELTA.__getitem__, brackets)), default=0) > MAX_DEPTH


def loads(raw: bytes) -> Any:
    """``json.loads(raw.decode("utf-8"))``; ValueError (as for any malformed answer) when nested deeper than MAX_DEPTH."""
    if too_deep(raw):
        raise ValueError(f"JSON answer nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError as e:  # belt and braces: a low recursion limit in a deep call stack
        raise ValueError("JSON answer nested too deeply") from e
