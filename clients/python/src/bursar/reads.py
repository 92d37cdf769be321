"""An agent's signed reads of its own state: remaining budget, permits, approvals, recent payments."""

from __future__ import annotations

from typing import Any

from .agent_key import AgentKey
from .request import post_signed


def agent_status(host: str, agent_key: AgentKey, wallet: str) -> dict[str, Any]:
    """Remaining budget per cap and window, live permits and approval requests, as the enclave computes them."""
    return post_signed(host, agent_key, wallet, "/v1/agent/status", {"op": "readStatus"})["status"]


def agent_payments(host: str, agent_key: AgentKey, wallet: str, limit: int = 20) -> list[dict[str, Any]]:
    """This agent's newest audit entries (allowed, refused, pending), newest first."""
    return post_signed(host, agent_key, wallet, "/v1/agent/payments", {"op": "readPayments", "limit": max(1, min(100, int(limit)))})["entries"]
