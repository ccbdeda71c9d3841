"""Offline evaluation: batch runs over datasets, trajectory scoring, reports.

* :mod:`agentflow.scoring.batch`: ``run_batch`` (``agentflow eval run``), resumable;
* :mod:`agentflow.scoring.scorer`: ``score_folder`` (``agentflow eval score``), no LLM calls;
* :mod:`agentflow.scoring.report`: markdown, rich and HTML reports (``agentflow eval report``);
* :mod:`agentflow.scoring.metrics` and :mod:`agentflow.scoring.bootstrap`: the formulas;
* :mod:`agentflow.scoring.manifest` and :mod:`agentflow.scoring.store_cache`: the eval folder
  layout and the content-addressed store cache.
"""
