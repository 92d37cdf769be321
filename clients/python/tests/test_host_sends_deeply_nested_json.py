"""Attack (red team rt29b): the host answers with deeply nested JSON (~200 KB of ``[``, well under the 16 MiB answer
cap). CPython's JSON decoder recurses in C once per level, bounded by sys.getrecursionlimit() — which x402's EVM extra
raises to 100,000 (it imports py_ecc). So one answer segfaulted the whole agent process: on a payment's answer (any
status) and in the session open's background thread. Every such answer must be a typed error (nothing paid) and the
process must live. Run in a child process (the unfixed SDK crashes the interpreter), with the limit x402 sets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CHILD = r'''
import json, sys
import py_ecc  # what x402[evm] pulls in (via eth_account): sys.getrecursionlimit() becomes 100,000
assert sys.getrecursionlimit() >= 100_000
from eth_account import Account
import test_signer_checks as T
from fake_host import agent_key
from bursar import BursarSigner, request as R, session as S
from bursar.errors import BursarError

DEEP = "[" * 200_000
where, status = sys.argv[1], int(sys.argv[2])
real_dumps = json.dumps
T.json.dumps = lambda obj, *a, **k: DEEP if obj is None else real_dumps(obj, *a, **k)
w = Account.create()
host = T._Host(lambda req: (status, None))
if where == "open":
    from bursar import load_agent_key
    out = S.open_session(load_agent_key(agent_key(w.address)), w.address, lambda body, t: (200, DEEP.encode()))
    print("OPEN", out)
else:
    signer = BursarSigner(agent_key(w.address), receipts="off", host=host.url, timeout=1.0, session=(where == "mac"))
    if where == "mac":
        slot = f"{host.url}/v1/agent/sign|{w.address.lower()}"
        S._set_session(signer.agent_key, slot, S.AgentSession(id="ab" * 16, key=b"k" * 32, until=2**62))
    try:
        signer.sign_typed_data(T.DOMAIN, T.TYPES, "TransferWithAuthorization", T._message(w.address))
        print("SIGNED")
    except BursarError as e:
        print("TYPED", type(e).__name__, e.code)
'''


@pytest.mark.parametrize("where,status", [("sign", 200), ("sign", 409), ("sign", 503), ("mac", 401), ("open", 200)])
def test_a_deeply_nested_answer_is_a_typed_error_and_the_process_lives(where, status):
    r = subprocess.run([sys.executable, "-c", CHILD, where, str(status)], cwd=HERE, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"agent process died (rc {r.returncode}): {r.stderr[-600:]}"
    if where == "open":
        assert r.stdout.strip() == "OPEN None"  # a failed open: Ed25519 for a minute
    else:
        assert r.stdout.startswith("TYPED"), r.stdout + r.stderr[-600:]


def test_ordinary_answers_still_parse_and_a_bracket_inside_a_string_does_not_count():
    from bursar import _json

    assert _json.loads(b'{"a":[{"b":[1,2,{"c":"x"}]}]}') == {"a": [{"b": [1, 2, {"c": "x"}]}]}
    assert _json.loads(('{"m":"' + "[" * 5000 + '\\"[{"}').encode()) == {"m": "[" * 5000 + '"[{'}  # in a string: depth 1
    with pytest.raises(ValueError):
        _json.loads(("[" * 65 + "]" * 65).encode())
    assert _json.loads(("[" * 64 + "]" * 64).encode()) is not None


def test_the_depth_check_is_linear_on_a_hostile_answer():
    """An unterminated string full of escaped quotes (a backtracking scan restarts at each: quadratic) stays fast."""
    import time

    from bursar import _json

    hostile = b"[]" * 70 + b'"' + b'\\"' * 20_000  # 40 KB: ~12 s for a backtracking scan
    t0 = time.time()
    assert _json.too_deep(hostile) is False
    assert time.time() - t0 < 1.0
