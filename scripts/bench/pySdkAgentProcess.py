"""Agent process of the Python SDK bench (spawned by scripts/bench/benchPySdk.ts with the project's .venv python).

Reads one JSON line of parameters on stdin, writes one JSON line of results on stdout. Inside this one process,
for each pair: A = eth_account's local sign_typed_data with a hardcoded key (what the official x402 Python client's
EthAccountSigner calls), then B = the published bursar SDK's public API (``BursarSigner.sign_typed_data``) against
the real host + enclave, at 1 in flight and at N in flight (N threads: the SDK is synchronous and thread-safe), and
(``asyncio``) N asyncio tasks on one event loop awaiting ``BursarSigner.sign_typed_data_async``.
CPU is this process's (getrusage RUSAGE_SELF: user + system, all threads) divided by the operations finished.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import resource
import secrets
import sys
import threading
import time
from typing import Any, Callable

from eth_account import Account

from bursar import AgentKey, BursarSigner

# x402's AUTHORIZATION_TYPES: one constant types object passed on every payment.
TYPES = {
    "TransferWithAuthorization": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "validAfter", "type": "uint256"},
        {"name": "validBefore", "type": "uint256"},
        {"name": "nonce", "type": "bytes32"},
    ]
}


def payment(p: dict[str, Any], frm: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An x402 ``exact`` payment as the x402 Python client builds it (ints, a fresh 32-byte nonce as bytes)."""
    now = int(time.time())
    domain = {"name": "USDC", "version": "2", "chainId": p["chainId"], "verifyingContract": p["usdc"]}
    message = {
        "from": frm,
        "to": p["payTo"],
        "value": int(p["price"]),
        "validAfter": now - 600,
        "validBefore": now + 300,
        "nonce": secrets.token_bytes(32),
    }
    return domain, message


def cpu_us() -> tuple[float, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime * 1e6, r.ru_stime * 1e6


def summarize(lat: list[float], state: dict[str, int], errors: dict[str, int], t0: float, cpu0: tuple[float, float]) -> dict[str, Any]:
    """One window's figures: rate, CPU and system time per payment (µs), latency percentiles (ms), failures."""
    u1, s1 = cpu_us()
    seconds = time.perf_counter() - t0
    u0, s0 = cpu0
    lat.sort()
    n = len(lat)

    def q(x: float) -> float:
        return round(lat[min(n - 1, int(x * n))], 3) if n else float("nan")

    return {
        "n": n,
        "failed": state["failed"],
        "errors": errors,
        "opsPerSec": round(n / seconds),
        "cpuUsPerOp": round((u1 - u0 + s1 - s0) / max(1, n)),
        "sysUsPerOp": round((s1 - s0) / max(1, n)),
        "p50Ms": q(0.5),
        "p99Ms": q(0.99),
    }


def timed_run(op: Callable[[], Any], concurrency: int, window_ms: float, count: int | None) -> dict[str, Any]:
    lat: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    state = {"started": 0, "failed": 0}
    t0 = time.perf_counter()
    until = t0 + window_ms / 1000

    def more() -> bool:
        with lock:
            if count is not None:
                if state["started"] >= count:
                    return False
            elif time.perf_counter() >= until:
                return False
            state["started"] += 1
            return True

    def loop() -> None:
        while more():
            s = time.perf_counter()
            try:
                op()
                lat.append((time.perf_counter() - s) * 1000)
            except Exception as e:  # noqa: BLE001 - counted and reported
                code = str(getattr(e, "code", None) or type(e).__name__)[:80]
                with lock:
                    state["failed"] += 1
                    errors[code] = errors.get(code, 0) + 1

    u0, s0 = cpu_us()
    if concurrency == 1:
        loop()
    else:
        threads = [threading.Thread(target=loop) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return summarize(lat, state, errors, t0, (u0, s0))


def timed_run_async(op: Callable[[], Any], concurrency: int, window_ms: float, count: int | None) -> dict[str, Any]:
    """timed_run for a coroutine function: `concurrency` asyncio tasks on one event loop (the agent's own thread)."""
    import asyncio

    lat: list[float] = []
    errors: dict[str, int] = {}
    state = {"started": 0, "failed": 0}

    async def main() -> float:
        t0 = time.perf_counter()
        until = t0 + window_ms / 1000

        def more() -> bool:
            if (count is not None and state["started"] >= count) or (count is None and time.perf_counter() >= until):
                return False
            state["started"] += 1
            return True

        async def loop() -> None:
            while more():
                s = time.perf_counter()
                try:
                    await op()
                    lat.append((time.perf_counter() - s) * 1000)
                except Exception as e:  # noqa: BLE001 - counted and reported
                    code = str(getattr(e, "code", None) or type(e).__name__)[:80]
                    state["failed"] += 1
                    errors[code] = errors.get(code, 0) + 1

        await asyncio.gather(*(loop() for _ in range(concurrency)))
        return t0

    u0, s0 = cpu_us()
    t0 = asyncio.run(main())
    return summarize(lat, state, errors, t0, (u0, s0))


def profile_summary(prof: cProfile.Profile, n: int, top: int = 18) -> list[dict[str, Any]]:
    """The top functions by own time (tottime) and cumulative time, in µs per payment."""
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    for (file, line, fn), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{os.path.basename(file)}:{line}" if line else file
        rows.append({"fn": f"{fn} ({where})", "calls": nc / max(1, n), "ownUs": tt * 1e6 / max(1, n), "cumUs": ct * 1e6 / max(1, n)})
    rows.sort(key=lambda r: r["ownUs"], reverse=True)
    return [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in r.items()} for r in rows[:top]]


def main() -> None:
    p = json.loads(sys.stdin.readline())
    local = Account.from_key("0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
    k = p["agentKey"]
    signer = BursarSigner(
        AgentKey(agent_id=k["agentId"], public_key=k["publicKey"], private_key=k["privateKey"], wallet=k["wallet"]),
        host=p["host"],
        wallet=p["wallet"],
        reason="bench: x402 payment",
        receipt_public_key=k.get("receiptPublicKey"),
    )
    samples: list[dict[str, Any]] = []
    collect = p.get("collect") or 0
    count = p.get("count")
    conc = int(p.get("concurrency", 64))

    def raw() -> None:
        domain, message = payment(p, local.address)
        local.sign_typed_data(domain_data=domain, message_types=TYPES, message_data=message)

    def via_sdk() -> None:
        domain, message = payment(p, p["wallet"])
        with signer.context(resource_url=p["resourceUrl"]):
            sig = signer.sign_typed_data(domain, TYPES, "TransferWithAuthorization", message)
        if len(samples) < collect:
            samples.append({"domain": domain, "message": {**message, "nonce": "0x" + message["nonce"].hex()}, "signature": "0x" + sig.hex()})

    # asyncio agents: BursarSigner.sign_typed_data_async (the round trip in a worker thread). An SDK without it is
    # called as x402's async client calls a signer: synchronously, on the event loop.
    has_async = hasattr(signer, "sign_typed_data_async")

    async def via_sdk_async() -> None:
        domain, message = payment(p, p["wallet"])
        signer.set_call_context(resource_url=p["resourceUrl"])
        if has_async:
            await signer.sign_typed_data_async(domain, TYPES, "TransferWithAuthorization", message)
        else:
            signer.sign_typed_data(domain, TYPES, "TransferWithAuthorization", message)

    def run(op: Callable[[], Any], c: int, window_ms: float) -> dict[str, Any]:
        return timed_run(op, c, window_ms, count)

    # Warm-up (imports, caches, the wallet key learnt): not measured.
    timed_run(raw, 1, 300, 20 if count is not None else None)
    timed_run(via_sdk, conc, 500, 2 * conc if count is not None else None)
    timed_run(via_sdk, 1, 300, 20 if count is not None else None)
    if p.get("asyncio"):
        timed_run_async(via_sdk_async, conc, 300, conc if count is not None else None)

    w = p["windowsMs"]
    pairs = []
    for _ in range(int(p["pairs"])):
        a = run(raw, 1, w["raw"])
        c1 = run(via_sdk, 1, w["c1"])
        cn = run(via_sdk, conc, w["cN"])
        pair = {"raw": a, "c1": c1, "cN": cn}
        if p.get("asyncio"):
            pair["cNAsync"] = timed_run_async(via_sdk_async, conc, w["cN"], count)
        pairs.append(pair)

    profile = None
    if p.get("profileMs"):
        out: dict[str, Any] = {}
        for name, op in (("sdkC1", via_sdk), ("raw", raw)):
            prof = cProfile.Profile(time.process_time)  # CPU time, not wall time (waits on the socket are not the agent's cost)
            prof.enable()
            r = timed_run(op, 1, p["profileMs"], count)
            prof.disable()
            out[name] = {"n": r["n"], "top": profile_summary(prof, r["n"])}
            if os.environ.get("BENCH_PY_PSTATS"):  # the whole profile as text, cumulative order (for docs/bench.md)
                with open(f"{os.environ['BENCH_PY_PSTATS']}-{name}.txt", "w", encoding="utf-8") as f:
                    pstats.Stats(prof, stream=f).sort_stats("cumulative").print_stats(45)
        profile = out

    result = {
        "pairs": pairs,
        "samples": samples,
        "concurrency": conc,
        "mode": "threads",
        "asyncMode": ("sign_typed_data_async" if has_async else "sync signer on the event loop") if p.get("asyncio") else None,
        "python": sys.version.split()[0],
        "profile": profile,
    }
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
