"""A small fault-injection series: every kind of server fault is absorbed, nothing crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentflow.evals.bench_faults import inject
from agentflow.evals.fault_server import FAULT_KINDS


@pytest.mark.slow
def test_every_fault_kind_is_absorbed_without_a_crash(tmp_path: Path, loopback: None) -> None:
    # Fewer LLM calls per run since the loop decides more in code: enough runs to carry
    # every scheduled fault.
    figures = inject(runs=12, faults=2 * len(FAULT_KINDS), folder=tmp_path)
    assert figures["faults_injected"] == 2 * len(FAULT_KINDS) and figures["fault_kinds"] == len(FAULT_KINDS)
    assert figures["crashes"] == 0, figures["crash_examples"]
    assert figures["statuses"].get("error", 0) == 0, figures["run_errors"]
    transport = {"http_500", "http_429", "empty_body", "non_json_body", "choices_not_list", "hang"}
    for kind in transport:
        assert figures["by_kind"][kind].get("retried") == 2, (kind, figures["by_kind"][kind])
    assert figures["by_kind"]["deep_nesting"].get("re-asked") == 2
