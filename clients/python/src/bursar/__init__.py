"""bursar: the agent SDK. Agents hold only an Ed25519 request key; wallet keys stay in the bursar enclave."""

from .agent_key import AgentKey, agent_id_from_public_key, load_agent_key
from .errors import (
    AgentFrozenError,
    AgentKeyError,
    AgentRevokedError,
    ApprovalPendingError,
    BursarError,
    EnclaveUnavailableError,
    PolicyDeniedError,
    RequestOutcomeUnknownError,
    ResponseInvalidError,
)
from .reads import agent_payments, agent_status
from .receipts import ReceiptInvalidError, ReceiptKeyMissingError, ReceiptMarks, StateRollbackError
from .request import build_request, post_signed, request_text, sign_request
from .signer import BursarSigner, recover_address

__all__ = [
    "AgentFrozenError",
    "AgentKey",
    "AgentKeyError",
    "AgentRevokedError",
    "ApprovalPendingError",
    "BursarError",
    "BursarSigner",
    "EnclaveUnavailableError",
    "PolicyDeniedError",
    "ReceiptInvalidError",
    "ReceiptKeyMissingError",
    "ReceiptMarks",
    "StateRollbackError",
    "RequestOutcomeUnknownError",
    "ResponseInvalidError",
    "agent_id_from_public_key",
    "agent_payments",
    "agent_status",
    "build_request",
    "load_agent_key",
    "post_signed",
    "recover_address",
    "request_text",
    "sign_request",
]
