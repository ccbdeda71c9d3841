"""Running the server for benchmarks and tests: in a thread of this process, or as an
``agentflow serve`` subprocess that can be killed and restarted (evaluation tooling, not
part of the server: ``evals/bench_server.py`` and the tests drive the server with it).

    with serve_in_thread(create_app(demo_agent())) as base_url:
        client = openai.OpenAI(base_url=base_url + "/v1", api_key="unused")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Self

import httpx

__all__ = ["ServerProcess", "free_port", "serve_in_thread", "wait_until_ready"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_ready(
    base_url: str, *, timeout_s: float = 60.0, process: subprocess.Popen[Any] | None = None
) -> None:
    """Poll ``/healthz`` until it answers; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"the server exited with code {process.returncode} before it was ready"
            )
        try:
            if httpx.get(base_url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"no server at {base_url} after {timeout_s:.0f}s")


@contextmanager
def serve_in_thread(app: Any, *, port: int | None = None) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a background thread; yields its base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server thread did not start")
            time.sleep(0.02)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class ServerProcess:
    """An ``agentflow serve`` subprocess on 127.0.0.1 (a free port unless given).

    ``args`` are extra ``serve`` options; ``env`` is added to this process's
    environment. The server's output goes to ``log_path``.
    """

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        env: dict[str, str] | None = None,
        port: int | None = None,
        log_path: str | Path | None = None,
    ) -> None:
        self.args = list(args)
        self.env = {**os.environ, **(env or {})}
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path) if log_path else None
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, *, timeout_s: float = 60.0) -> ServerProcess:
        """Start the server and wait until it answers."""
        cmd = [
            sys.executable,
            "-m",
            "agentflow.cli.main",
            "serve",
            "--port",
            str(self.port),
            *self.args,
        ]
        self._log = self.log_path.open("ab") if self.log_path else None
        self.process = subprocess.Popen(
            cmd, env=self.env, stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        wait_until_ready(self.base_url, timeout_s=timeout_s, process=self.process)
        return self

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.process is not None, "not started"
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up (a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._close_log()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it is still there after 10 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def log_text(self) -> str:
        """What the server printed so far (empty without ``log_path``)."""
        return (
            self.log_path.read_text(errors="replace")
            if self.log_path and self.log_path.exists()
            else ""
        )

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
