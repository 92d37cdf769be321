"""Issue 15 (sdk15): the Python SDK's receipt checks, interleaved A/B in one agent process against one stack.
A = BursarSigner(receipts="off"), B = the default ("verify"). Per round, in alternating order: N payments at 1 in
flight and at 16 threads; this process's CPU per payment (time.process_time: all threads) and p50. Prints B ÷ A.
    npx tsx scripts/devchain/rollbackStack.ts   # prints {"host","keyFile","wallet"}; then:
    .venv/bin/python scripts/bench/pyReceiptAb.py '<that JSON>' [rounds=5] [payments=150]
"""

from __future__ import annotations

import json
import secrets
import statistics
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

from bursar import BursarSigner

info = json.loads(sys.argv[1])
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
n = int(sys.argv[3]) if len(sys.argv) > 3 else 150
DOMAIN = {"name": "USD Coin", "version": "2", "chain_id": 84532, "verifying_contract": "0x036CbD53842c5426634e7929541eC2318f3dCF7e"}
TYPES = {"TransferWithAuthorization": [{"name": a, "type": t} for a, t in [("from", "address"), ("to", "address"), ("value", "uint256"), ("validAfter", "uint256"), ("validBefore", "uint256"), ("nonce", "bytes32")]]}
warnings.simplefilter("ignore")
signers = {"A": BursarSigner(info["keyFile"], receipts="off", timeout=20.0), "B": BursarSigner(info["keyFile"], timeout=20.0)}


def pay(s: BursarSigner) -> float:
    t0 = time.perf_counter()
    m = {"from": info["wallet"], "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "value": 1000, "validAfter": 0, "validBefore": int(time.time()) + 600, "nonce": secrets.token_bytes(32)}
    s.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", m)
    return time.perf_counter() - t0


def run(side: str, threads: int) -> tuple[float, float]:
    s = signers[side]
    c0 = time.process_time()
    if threads == 1:
        lat = [pay(s) for _ in range(n)]
    else:
        with ThreadPoolExecutor(threads) as pool:
            lat = list(pool.map(lambda _: pay(s), range(n)))
    return (time.process_time() - c0) / n * 1e6, statistics.median(lat) * 1e3


for side in ("A", "B"):
    run(side, 1)
ratios: dict[str, list[float]] = {}
for r in range(rounds):
    order = ("A", "B") if r % 2 == 0 else ("B", "A")
    res = {}
    for threads in (1, 16):
        for side in order:
            res[side + str(threads)] = run(side, threads)
    for threads in (1, 16):
        a, b = res[f"A{threads}"], res[f"B{threads}"]
        ratios.setdefault(f"cpu t={threads}", []).append(b[0] / a[0])
        ratios.setdefault(f"p50 t={threads}", []).append(b[1] / a[1])
    print(f"round {r + 1}: " + "; ".join(f"{k} {v[0]:.0f} µs p50 {v[1]:.2f} ms" for k, v in sorted(res.items())), flush=True)
for k, xs in ratios.items():
    print(f"B ÷ A {k}: median {statistics.median(xs):.3f} ({' '.join(f'{x:.2f}' for x in xs)})")
