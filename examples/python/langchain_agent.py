"""A LangChain agent that buys x402 resources through bursar, within its owner's policy.

    pip install ./clients/python 'x402[evm,clients]==2.25.0' langchain langchain-openai
    BURSAR_AGENT_KEY=agt_….json OPENAI_API_KEY=… python examples/python/langchain_agent.py

The agent holds only its Ed25519 request key; the wallet key stays in the bursar enclave, which decides every
payment. A refusal (over the cap, unknown merchant, …) comes back to the model as text it can act on.
"""

import os

from langchain.agents import create_agent
from langchain.tools import tool
from x402.http.clients.requests import x402_requests

from bursar import ApprovalPendingError, BursarError, BursarSigner, agent_status
from bursar.x402 import bursar_x402_client

signer = BursarSigner(os.environ["BURSAR_AGENT_KEY"], reason="research agent")  # host + wallet from the key file
session = x402_requests(bursar_x402_client(signer))                              # requests.Session that pays 402s


def _refusal(err: BaseException) -> BursarError | None:
    while err is not None and not isinstance(err, BursarError):
        err = err.__cause__ or err.__context__
    return err


@tool
def fetch_paid(url: str) -> str:
    """Fetch a URL, paying its x402 price through bursar if it asks for one (within the owner's policy)."""
    try:
        res = session.get(url, timeout=30)
        return f"HTTP {res.status_code}\n{res.text[:4000]}"
    except Exception as e:  # the x402 client wraps the signer's typed error
        refused = _refusal(e)
        if isinstance(refused, ApprovalPendingError):
            return f"Needs the owner's approval (pending {refused.pending_id}); nothing was paid."
        if refused is not None:
            return f"Refused by the owner's policy ({refused.code}): {refused.message}. Nothing was paid."
        raise


@tool
def budget() -> str:
    """How much this agent may still spend (per asset, per payment and per 24 h)."""
    s = agent_status(signer.host, signer.agent_key, signer.wallet)
    return "\n".join(f"{b['symbol'] or b['asset']}: per payment ≤ {b['perTx']}, 24h left {(b['rolling24h'] or {}).get('remaining')}" for b in s["budgets"])


agent = create_agent("openai:gpt-4.1-mini", tools=[fetch_paid, budget])
out = agent.invoke({"messages": [{"role": "user", "content": "Check my budget, then get http://127.0.0.1:4021/paid and summarize it."}]})
print(out["messages"][-1].content)
