"""examples/python/langchain_agent.py, run for real against the dev stack: LangChain itself (and the LLM) are
replaced by a scripted stand-in that calls the example's tools the way a model would, so the example's bursar code
— the signer, x402's requests session, the refusal handling and the budget read — is what is tested."""

import os
import runpy
import sys
import types
from pathlib import Path

from conftest import REPO, erc20_balance, server_state

EXAMPLE = Path(REPO) / "examples" / "python" / "langchain_agent.py"


class _Message:
    def __init__(self, content: str) -> None:
        self.content = content


def _stub_langchain(script):
    """`langchain.agents.create_agent` and `langchain.tools.tool` as the example uses them (LangChain v1 API)."""
    seen: dict = {}

    def create_agent(model, tools=None, **_):
        seen["model"], seen["tools"] = model, {t.__name__: t for t in tools or []}

        class Agent:
            def invoke(self, state):
                seen["prompt"] = state["messages"][-1]["content"]
                outputs = [(name, args, seen["tools"][name](*args)) for name, args in script]
                seen["outputs"] = outputs
                return {"messages": [_Message(f"{n}{a}: {o}") for n, a, o in outputs]}

        return Agent()

    langchain = types.ModuleType("langchain")
    agents = types.ModuleType("langchain.agents")
    tools = types.ModuleType("langchain.tools")
    agents.create_agent = create_agent
    tools.tool = lambda f: f
    langchain.agents, langchain.tools = agents, tools
    return {"langchain": langchain, "langchain.agents": agents, "langchain.tools": tools}, seen


def test_langchain_example_pays_within_policy_and_reports_a_refusal(devstack, monkeypatch, capsys):
    paid_url, pricey_url = devstack["exampleApi"] + "/paid", devstack["pricey"] + "/paid"
    script = [("budget", ()), ("fetch_paid", (paid_url,)), ("fetch_paid", (pricey_url,)), ("budget", ())]
    modules, seen = _stub_langchain(script)
    for name, mod in modules.items():
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setenv("BURSAR_AGENT_KEY", devstack["exampleKeyFile"])
    before = erc20_balance(devstack, devstack["merchant"])
    pricey_before = server_state(devstack)["pricey"]

    runpy.run_path(str(EXAMPLE), run_name="__main__")

    assert seen["model"].startswith("openai:") and set(seen["tools"]) == {"fetch_paid", "budget"}
    (_, _, budget0), (_, _, paid), (_, _, refused), (_, _, budget1) = seen["outputs"]
    assert "USDC: per payment ≤ 50000, 24h left 35000" in budget0
    assert paid.startswith("HTTP 200") and '"ok":true' in paid.replace(" ", "")
    assert server_state(devstack)["exampleApi"]["settlements"] == 1
    assert erc20_balance(devstack, devstack["merchant"]) == before + 10_000
    # Over the cap: the model gets the refusal as text (code, nothing paid); the merchant saw no payment header.
    assert refused.startswith("Refused by the owner's policy (policy_per_tx_cap_exceeded)") and "Nothing was paid" in refused
    pricey = server_state(devstack)["pricey"]
    assert len(pricey["requests"]) > len(pricey_before["requests"])
    assert not any(r["paymentHeader"] for r in pricey["requests"]) and pricey["settlements"] == 0
    assert "24h left 25000" in budget1
    assert "24h left 25000" in capsys.readouterr().out  # the example prints the agent's last message
    assert os.environ["BURSAR_AGENT_KEY"] == devstack["exampleKeyFile"]
