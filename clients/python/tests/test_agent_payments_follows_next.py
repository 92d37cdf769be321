"""audit40: ``/v1/agent/payments`` reads at most the host's row budget per request, so a page can be short (even
empty) and still have a ``next``. ``agent_payments`` follows it (``?before=next``, a fresh signed read per page) until
``limit`` entries or the oldest; a host whose cursor does not move gets a typed error, not an endless loop."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from eth_account import Account

from bursar import agent_payments, load_agent_key
from bursar.errors import ResponseInvalidError
from fake_host import FakeHost, agent_key


class _PagedHost(FakeHost):
    """Serves the agent's entries at `seqs` (newest first) `per_page` seqs of the wallet at a time, as the host does."""

    def __init__(self, seqs: list[int], stretch: int, stuck: bool = False):
        self.paths: list[str] = []

        def do_post(h):
            req = json.loads(json.loads(h.body())["request"])
            self.paths.append(h.path)
            q = parse_qs(urlparse(h.path).query)
            before = int(q["before"][0]) if "before" in q and not stuck else 10_000
            low = max(0, before - stretch)  # the wallet's entries in [low, before) were read
            got = [{"seq": s, "agentId": req["agentId"]} for s in seqs if low <= s < before][: req["limit"]]
            nxt = got[-1]["seq"] if len(got) >= req["limit"] else (low if low > 0 else None)
            h.send_json(200, {"agentId": req["agentId"], "entries": got, "next": nxt, "scanned": before - low, "scannedThrough": low})

        super().__init__(do_post)


def test_follows_next_through_short_and_empty_pages():
    w = Account.create().address
    seqs = sorted([9_990, 9_980, *range(0, 250, 10)], reverse=True)  # 2 new, 25 old: empty pages between
    host = _PagedHost(seqs, stretch=1_000)
    try:
        out = agent_payments(host.url, load_agent_key(agent_key(w)), w, limit=100)
        assert [e["seq"] for e in out] == seqs  # newest first, each once
        assert host.paths[0] == "/v1/agent/payments"
        assert host.paths[1] == "/v1/agent/payments?before=9000"
        assert len(host.paths) == 10  # one signed read per stretch of the budget
        host.paths.clear()
        assert [e["seq"] for e in agent_payments(host.url, load_agent_key(agent_key(w)), w, limit=2)] == [9_990, 9_980]
        assert host.paths == ["/v1/agent/payments"]
    finally:
        host.close()


def test_a_cursor_that_does_not_move_is_a_typed_error():
    w = Account.create().address
    host = _PagedHost([5], stretch=1_000, stuck=True)
    try:
        with pytest.raises(ResponseInvalidError):
            agent_payments(host.url, load_agent_key(agent_key(w)), w, limit=10)
        assert len(host.paths) == 2
    finally:
        host.close()
