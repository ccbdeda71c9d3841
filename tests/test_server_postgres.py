"""Threads in PostgreSQL: the store passes the same checks as SQLite, and two server
processes sharing one database continue the same thread.

A throwaway cluster is made with initdb/pg_ctl in a temporary folder (as the
``postgres`` user when the tests run as root, since PostgreSQL refuses to run as
root). The tests skip only when the PostgreSQL server binaries are not installed
(``.ci/system-deps.sh`` installs them in CI).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest

from agentflow.agent.context import ResearchSettings
from agentflow.evals.serving import ServerProcess, free_port
from agentflow.evals.world.demo import demo_questions
from agentflow.server.sources import bare_answer
from tests.test_threads import exercise_store

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl (Debian keeps them off PATH), or None."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(versions[-1]).parent if versions else None


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    pytest.importorskip("psycopg", reason="needs the [server] extra (psycopg)")
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql"
        )
    root = Path(tempfile.mkdtemp(prefix="agentflow-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL will not run as root
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=120)

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-sync",
    )
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(root / "server.log"),
        "-w",
        "-t",
        "60",
        "start",
        "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def test_the_postgres_store(dsn: str) -> None:
    from agentflow.server.threads import PostgresThreadStore

    with PostgresThreadStore(dsn) as store:
        with store._transaction() as cur:  # a clean slate for the shared checks
            cur.execute("TRUNCATE agentflow_turns, agentflow_threads")
        exercise_store(store)
    # Two connections (as two processes have) adding turns to one thread at once
    # never take the same index.
    stores = [PostgresThreadStore(dsn), PostgresThreadStore(dsn)]
    try:
        with ThreadPoolExecutor(8) as pool:
            indexes = list(
                pool.map(
                    lambda i: stores[i % 2].start_turn(
                        "busy", question=f"q{i}", run_id=f"busy-{i}"
                    )[0],
                    range(16),
                )
            )
        assert sorted(indexes) == list(range(1, 17))
    finally:
        for s in stores:
            s.close()


def test_two_servers_share_a_thread(dsn: str, tmp_path: Path) -> None:
    question, follow_up, expected = demo_questions()[1]
    key = "pg-key"
    headers = {"Authorization": f"Bearer {key}", "X-Thread-Id": "across-servers"}

    def server(name: str) -> ServerProcess:
        # Each process has its own home (runs, run checkpoints), as on two machines.
        return ServerProcess(
            [
                "--agent-factory",
                "agentflow.evals.world.demo:demo_agent",
                "--checkpointer",
                f"postgres:{dsn}",
                "--api-key",
                key,
                "--log-level",
                "warning",
            ],
            env={"AGENTFLOW_HOME": str(tmp_path / name)},
            log_path=tmp_path / f"{name}.log",
        )

    with server("a") as a, server("b") as b:
        first = openai.OpenAI(
            base_url=a.base_url + "/v1", api_key=key, max_retries=0
        ).chat.completions.create(
            model="agentflow",
            messages=[{"role": "user", "content": question}],
            extra_headers=headers,
        )
        assert first.model_extra["agentflow"]["status"] == "answered"
        stream = openai.OpenAI(
            base_url=b.base_url + "/v1", api_key=key, max_retries=0
        ).chat.completions.create(
            model="agentflow",
            messages=[{"role": "user", "content": follow_up}],
            extra_headers=headers,
            stream=True,
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        final = next(
            c.model_extra["agentflow"] for c in chunks if c.choices and c.choices[0].finish_reason
        )
        # B answered "that company" from the memory A's turn left in PostgreSQL.
        assert bare_answer(text) == expected
        assert final["usage"]["searches"] <= 1 + ResearchSettings().bridge_searches  # the question, then its bridge hops
        seen_from_a = httpx.get(f"{a.base_url}/v1/threads/across-servers", headers=headers).json()
        assert [(t["answer"], t["status"]) for t in seen_from_a["turns"]] == [
            (bare_answer(first.choices[0].message.content), "answered"),
            (expected, "answered"),
        ]
        # B's trajectory lives with B; A says where it is not.
        gone = httpx.get(f"{a.base_url}/v1/runs/{final['run_id']}/trajectory", headers=headers)
        assert (
            gone.status_code == 404 and "another server process" in gone.json()["error"]["message"]
        )
        assert (
            httpx.get(
                f"{b.base_url}/v1/runs/{final['run_id']}/trajectory", headers=headers
            ).status_code
            == 200
        )
