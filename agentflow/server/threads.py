"""Threads in PostgreSQL: moved to :mod:`agentflow.threads.postgres` (kept importable here)."""

from __future__ import annotations

from agentflow.threads.postgres import PostgresThreadStore

__all__ = ["PostgresThreadStore"]
