"""limits41 (attack): ``agent_payments`` follows the host's ``next`` cursor (audit40: a page may be empty and still have
one). A lying host answers empty pages without end, its cursor creeping down one seq at a time from 2**53, or below
zero: the SDK only checked that the cursor moved, so it read on forever. Now a cursor must be a seq (>= 0) below the
last (``response_invalid``), and at most ``max_pages`` reads are made (default 100), then ``payments_page_limit``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from eth_account import Account

from bursar import agent_payments, load_agent_key
from bursar.errors import BursarError, ResponseInvalidError
from bursar.reads import PAYMENTS_MAX_PAGES
from fake_host import FakeHost, agent_key


class _LyingHost(FakeHost):
    """Answers every signed payments read with ``answer(before)`` (None on the first read); counts the reads."""

    def __init__(self, answer: Callable[[int | None], dict[str, Any]]):
        self.reads = 0

        def do_post(h):
            req = json.loads(json.loads(h.body())["request"])
            self.reads += 1
            q = parse_qs(urlparse(h.path).query)
            h.send_json(200, {"agentId": req["agentId"], **answer(int(q["before"][0]) if "before" in q else None)})

        super().__init__(do_post)


def test_empty_pages_creeping_down_end_in_payments_page_limit_after_max_pages_reads():
    w = Account.create().address
    host = _LyingHost(lambda before: {"entries": [], "next": (2**53 if before is None else before) - 1})
    try:
        with pytest.raises(BursarError) as e:
            agent_payments(host.url, load_agent_key(agent_key(w)), w, limit=10)
        assert e.value.code == "payments_page_limit"
        assert host.reads == PAYMENTS_MAX_PAGES == 100
        with pytest.raises(BursarError) as e:
            agent_payments(host.url, load_agent_key(agent_key(w)), w, limit=10, max_pages=3)
        assert e.value.code == "payments_page_limit"
        assert host.reads == 103
    finally:
        host.close()


def test_a_cursor_below_zero_is_response_invalid_at_once():
    w = Account.create().address
    host = _LyingHost(lambda before: {"entries": [], "next": -1 if before is None else before - 1})
    try:
        with pytest.raises(ResponseInvalidError) as e:
            agent_payments(host.url, load_agent_key(agent_key(w)), w, limit=10)
        assert e.value.code == "response_invalid"
        assert host.reads == 1
    finally:
        host.close()


def test_honest_pages_within_the_cap_still_read_to_the_end():
    w = Account.create().address
    seqs = [9_990, 9_980, *range(240, -1, -10)]

    def honest(before: int | None) -> dict[str, Any]:
        top = 10_000 if before is None else before
        low = max(0, top - 1_000)
        return {"entries": [{"seq": s} for s in seqs if low <= s < top], "next": low if low > 0 else None}

    host = _LyingHost(honest)
    try:
        assert [e["seq"] for e in agent_payments(host.url, load_agent_key(agent_key(w)), w, limit=100)] == seqs
        assert host.reads == 10
        with pytest.raises(BursarError) as e:
            agent_payments(host.url, load_agent_key(agent_key(w)), w, limit=100, max_pages=9)
        assert e.value.code == "payments_page_limit"
    finally:
        host.close()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "many", None])
def test_a_max_pages_that_is_not_a_finite_number_is_request_invalid_before_any_read(bad):
    """rt42: ``max_pages=float('nan')`` raised a bare ValueError (the TypeScript SDK: ``request_invalid``); a NaN that got
    past ``int`` would have switched the page bound off, so it is refused before the first read."""
    w = Account.create().address
    host = _LyingHost(lambda before: {"entries": [], "next": (2**53 if before is None else before) - 1})
    try:
        with pytest.raises(BursarError) as e:
            agent_payments(host.url, load_agent_key(agent_key(w)), w, limit=10, max_pages=bad)
        assert e.value.code == "request_invalid"
        with pytest.raises(BursarError) as e:
            agent_payments(host.url, load_agent_key(agent_key(w)), w, limit=bad, max_pages=3)
        assert e.value.code == "request_invalid"
        assert host.reads == 0
    finally:
        host.close()
