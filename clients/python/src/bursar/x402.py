"""Plugging bursar into the official ``x402`` Python client (``pip install bursar[x402]``)."""

from __future__ import annotations

from typing import Any

from .signer import BursarSigner, run_in_thread


def _requirements_json(r: Any) -> dict[str, Any]:
    get = (lambda k, *alt: next((getattr(r, a) for a in (k, *alt) if getattr(r, a, None) is not None), None))  # noqa: E731
    out = {
        "scheme": get("scheme"),
        "network": get("network"),
        "asset": get("asset"),
        "amount": str(get("amount", "max_amount_required") or ""),
        "payTo": get("pay_to"),
    }
    timeout = get("max_timeout_seconds")
    if isinstance(timeout, int):
        out["maxTimeoutSeconds"] = timeout
    extra = get("extra")
    if isinstance(extra, dict):
        out["extra"] = extra
    return out


def register_bursar(client: Any, signer: BursarSigner) -> Any:
    """Registers the ``exact`` EVM scheme with bursar's signer on an ``x402Client``/``x402ClientSync``.

    The client's own USD spend caps are turned off: limits are the enclave's job. A hook passes the 402's
    resource URL and selected requirements to the enclave as advisory context.
    """
    from x402.mechanisms.evm.exact.register import register_exact_evm_client

    register_exact_evm_client(client, signer)
    client.set_spend_controls(False)

    def before(ctx: Any) -> None:
        resource = getattr(ctx.payment_required, "resource", None)
        url = getattr(resource, "url", None) if resource is not None else None
        signer.set_call_context(resource_url=url, requirements=_requirements_json(ctx.selected_requirements))

    client.on_before_payment_creation(before)
    return client


def bursar_x402_client(signer: BursarSigner) -> Any:
    """An ``x402ClientSync`` that pays through bursar: use it with ``x402.http.clients.requests.x402_requests``."""
    from x402 import x402ClientSync

    return register_bursar(x402ClientSync(), signer)


class _Done:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _step(fn: Any, arg: Any) -> Any:
    """One step of a generator, in a worker thread: its StopIteration cannot cross into an asyncio future."""
    try:
        return fn(arg)
    except StopIteration as e:
        return _Done(e.value)


def bursar_x402_async_client(signer: BursarSigner) -> Any:
    """An async ``x402Client`` that pays through bursar: use it with ``x402.http.clients.x402HttpxClient``.

    x402's scheme clients are synchronous (the signer is called inside its payment-creation generator), so on a plain
    ``x402Client`` the enclave round trip would block the event loop for every payment. This client runs each step of
    that generator in a worker thread (with the task's context: the advisory context the hook set travels with it)
    while the hooks still run on the loop, so other tasks — and other payments — proceed meanwhile.
    """
    from x402 import x402Client

    class BursarAsyncX402Client(x402Client):  # type: ignore[misc, valid-type]
        async def _run_payment_creation_generator(self, gen: Any) -> Any:
            command = await run_in_thread(_step, gen.send, None)
            while not isinstance(command, _Done):
                _, hook, ctx = command
                try:
                    result = await self._execute_hook(hook, ctx)
                except Exception as hook_error:  # noqa: BLE001 - routed back through the generator, as x402 does
                    command = await run_in_thread(_step, gen.throw, hook_error)
                else:
                    command = await run_in_thread(_step, gen.send, result)
            return command.value

    if not callable(getattr(x402Client, "_run_payment_creation_generator", None)):
        raise RuntimeError("this x402 version has no _run_payment_creation_generator: pin x402 2.25 (clients/python/requirements.lock)")
    return register_bursar(BursarAsyncX402Client(), signer)
