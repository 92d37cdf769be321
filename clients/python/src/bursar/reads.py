"""An agent's signed reads of its own state: remaining budget, permits, approvals, recent payments."""

from __future__ import annotations

from typing import Any

from .agent_key import AgentKey
from .errors import BursarError, ResponseInvalidError
from .request import post_signed


def agent_status(host: str, agent_key: AgentKey, wallet: str) -> dict[str, Any]:
    """Remaining budget per cap and window, live permits and approval requests, as the enclave computes them."""
    return post_signed(host, agent_key, wallet, "/v1/agent/status", {"op": "readStatus"})["status"]


PAYMENTS_MAX_PAGES = 100
"""limits41: signed reads one ``agent_payments`` makes at most unless the caller says (``max_pages``)."""


def agent_payments(host: str, agent_key: AgentKey, wallet: str, limit: int = 20, max_pages: int = PAYMENTS_MAX_PAGES) -> list[dict[str, Any]]:
    """This agent's newest audit entries (allowed, refused, pending), newest first, up to ``limit`` (1-100).

    audit40: the host reads at most its row budget of the wallet's entries per request, so a page can be short (even
    empty) with a ``next``: this follows it (a fresh signed read per page) until ``limit`` entries or the oldest.
    limits41: the host is untrusted, so the cursor must be a seq (>= 0) below the last one (else ``response_invalid``),
    and at most ``max_pages`` reads are made (default 100: half a million of the wallet's entries at the host's default
    row budget), then ``BursarError`` with code ``payments_page_limit``.
    """
    # rt42: NaN, infinity or no number is the caller's mistake, typed as the TypeScript SDK types a NaN (int(nan) raised a
    # bare ValueError, int(inf) an OverflowError).
    try:
        want = max(1, min(100, int(limit)))
        most = max(1, int(max_pages))
    except (TypeError, ValueError, OverflowError) as e:
        raise BursarError("request_invalid", f"limit and max_pages must be finite numbers (got {limit!r}, {max_pages!r})") from e
    entries: list[dict[str, Any]] = []
    before: int | None = None
    for pages in range(1, most + 1):
        path = "/v1/agent/payments" if before is None else f"/v1/agent/payments?before={before}"
        page = post_signed(host, agent_key, wallet, path, {"op": "readPayments", "limit": want - len(entries)})
        if not isinstance(page, dict) or not isinstance(page.get("entries"), list):
            raise ResponseInvalidError("response_invalid", "bursar host sent malformed payments")
        entries.extend(page["entries"])
        nxt = page.get("next")
        if len(entries) >= want or nxt is None:
            return entries[:want]
        if not isinstance(nxt, int) or isinstance(nxt, bool) or nxt < 0 or (before is not None and nxt >= before):
            raise ResponseInvalidError("response_invalid", f"bursar host's payments cursor did not move ({nxt!r} after {before})")
        if pages == most:
            raise BursarError(
                "payments_page_limit",
                f"bursar host's payments took more than {most} pages ({len(entries)} entries so far, next before {nxt}); pass a larger max_pages to read further",
            )
        before = nxt
    raise AssertionError("unreachable")
