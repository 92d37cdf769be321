"""Fixtures: a real bursar dev stack (anvil, host + simulated enclave, reference x402 paid APIs) started by the
TypeScript helper scripts/devchain/pythonStack.ts, for as long as the test session runs."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@contextmanager
def ts_stack(script: str, what: str) -> Iterator[tuple[dict, subprocess.Popen]]:
    """Runs a TypeScript stack script (tsx): its first stdout line is the stack's JSON; closing its stdin stops it."""
    cmd = [os.path.join(REPO, "node_modules", ".bin", "tsx"), script]
    proc = subprocess.Popen(cmd, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err: list[str] = []
    threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True).start()  # type: ignore[arg-type]
    line = proc.stdout.readline()  # type: ignore[union-attr]
    if not line:
        proc.wait(timeout=30)
        pytest.fail(f"{what} did not start:\n" + "".join(err)[-3000:])
    yield json.loads(line), proc
    proc.stdin.close()  # type: ignore[union-attr]
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def devstack():
    with ts_stack("scripts/devchain/pythonStack.ts", "dev stack") as (info, _):
        yield info


def server_state(devstack) -> dict:
    with urllib.request.urlopen(devstack["state"], timeout=10) as r:
        return json.loads(r.read())


def erc20_balance(devstack, owner: str) -> int:
    data = "0x70a08231" + owner.lower().removeprefix("0x").rjust(64, "0")
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [{"to": devstack["token"], "data": data}, "latest"]}).encode()
    req = urllib.request.Request(devstack["rpcUrl"], data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return int(json.loads(r.read())["result"], 16)
