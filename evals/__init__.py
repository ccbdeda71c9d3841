"""Benchmark runners and dataset adapters (installed as ``agentflow.evals``)."""
