"""Attack (rt42): Python's json.loads takes ``NaN`` (and ``Infinity``), so a host can answer a clock refusal
(``request_stale``, ``request_before_enclave_start``) with ``"retryAfterMs": NaN``. The SDK slept
``min(max(wait, 1), 5000)`` ms: with NaN that is NaN, and ``time.sleep(nan)`` raised a bare ValueError out of the
payment (no ``BursarError``, no code). Now only a finite number is waited for (else the default); the refusal ends as
the typed error it is, after the one fresh request the SDK makes for it (test_host_lies_request_stale)."""

from __future__ import annotations

import pytest
from eth_account import Account

from bursar import BursarSigner
from bursar.errors import BursarError
from fake_host import agent_key as _key
from test_signer_checks import DOMAIN, TYPES, _Host, _message


@pytest.mark.parametrize("after", [float("nan"), float("inf"), -1, True, "5"])
def test_a_clock_refusal_with_a_retry_after_that_is_not_a_finite_number_ends_typed(after):
    wallet = Account.create()
    host = _Host(lambda req: (401, {"code": "request_stale", "message": "lie", "retryAfterMs": after}))
    try:
        signer = BursarSigner(_key(wallet.address), receipts="off", host=host.url, timeout=5.0)
        with pytest.raises(BursarError) as info:
            signer.sign_typed_data(DOMAIN, TYPES, "TransferWithAuthorization", _message(wallet.address))
        assert info.value.code == "request_stale"
        assert len(host.requests) == 2  # the first copy and one fresh request
    finally:
        host.close()
