"""Typed errors of the bursar agent SDK: every one carries the host's stable snake_case ``code``."""

from __future__ import annotations

from typing import Any


class BursarError(Exception):
    """Root of every bursar error: ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class PolicyDeniedError(BursarError):
    """The owner's policy refused the request (``policy_*`` codes); ``rule`` names the rule, ``remaining`` the budget left."""

    def __init__(self, code: str, message: str, *, rule: str | None = None, remaining: str | None = None, status: int | None = None) -> None:
        super().__init__(code, message, status=status)
        self.rule = rule
        self.remaining = remaining


class ApprovalPendingError(BursarError):
    """Out of policy, held for the owner: nothing was signed. Retry the same call once the owner approves ``pending_id``."""

    def __init__(self, message: str, *, pending_id: str | None = None, status: int | None = None) -> None:
        super().__init__("approval_pending", message, status=status)
        self.pending_id = pending_id


class AgentRevokedError(BursarError):
    """The owner revoked this agent key: it will never be served again."""


class AgentFrozenError(BursarError):
    """Risk controls or the owner froze this agent until the owner unfreezes it."""


class EnclaveUnavailableError(BursarError):
    """The host or its enclave could not be reached (or answered 503); nothing was signed as far as the SDK knows."""


class RequestOutcomeUnknownError(BursarError):
    """No answer before the request's deadline although the SDK resent the SAME signed bytes: it may have been signed.

    After ``expires_at`` the enclave can no longer sign it; look ``request_id`` up (``bursar audit query --request``)
    before paying again.
    """

    def __init__(self, message: str, *, request_id: str, expires_at: int, attempts: int) -> None:
        super().__init__("request_outcome_unknown", message)
        self.request_id = request_id
        self.expires_at = expires_at
        self.attempts = attempts


class AgentKeyError(BursarError):
    """A key file that is not a valid, self-consistent bursar agent key."""

    def __init__(self, message: str) -> None:
        super().__init__("agent_key_invalid", message)


class ResponseInvalidError(BursarError):
    """The host answered something malformed, or a signature that does not recover to the wallet."""


_UNAVAILABLE = {"enclave_unavailable", "enclave_not_ready", "enclave_halted", "enclave_timeout"}


def to_agent_error(status: int, body: Any) -> BursarError:
    """The one place a host refusal becomes a typed error (codes are matched; messages are only shown)."""
    b = body if isinstance(body, dict) else {}
    code = b.get("code") if isinstance(b.get("code"), str) else None
    message = str(b.get("message") or f"bursar host answered HTTP {status}")[:500]
    opt = lambda k: b[k] if isinstance(b.get(k), str) else None  # noqa: E731
    if status == 503 or code in _UNAVAILABLE:
        return EnclaveUnavailableError(code or "enclave_unavailable", message, status=status)
    if code is None:
        return ResponseInvalidError("response_invalid", message, status=status)
    if code.startswith("policy_"):
        return PolicyDeniedError(code, message, rule=opt("rule"), remaining=opt("remaining"), status=status)
    if code == "approval_pending":
        return ApprovalPendingError(message, pending_id=opt("pendingId"), status=status)
    if code == "agent_revoked":
        return AgentRevokedError(code, message, status=status)
    if code == "agent_frozen":
        return AgentFrozenError(code, message, status=status)
    return BursarError(code, message, status=status)
