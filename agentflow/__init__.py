"""agentflow: research agents for hard multi-hop questions over a corpus you control.

Start with :class:`agentflow.Agent` (``Agent(store=..., llm=...).ask(question)``) or
the ``agentflow`` command line. Heavy dependencies load lazily, so importing this
package is cheap.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("agentflow")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from agentflow.agent.api import Agent, AsyncAgent, RunResult

__all__ = ["Agent", "AsyncAgent", "RunResult", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy so `agentflow --version` and `import agentflow` do not pull in langgraph.
    if name in {"Agent", "AsyncAgent", "RunResult"}:
        from agentflow.agent import api

        return getattr(api, name)
    raise AttributeError(f"module 'agentflow' has no attribute {name!r}")
