"""Start llama.cpp's OpenAI-compatible server as a real subprocess for end-to-end tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def llama_server(
    model_path: Path, *, n_ctx: int = 2048, startup_timeout_s: float = 120.0
) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on ``model_path``; yields its ``/v1`` base URL and
    stops the process on exit. Fails with the server's log if it does not come up."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(max(1, (os.cpu_count() or 2) // 2)),
    ]  # fmt: skip
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_ready(process, base_url, log, startup_timeout_s)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(
    process: subprocess.Popen[bytes], base_url: str, log: IO[str], timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                if json.load(response).get("data"):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"llama_cpp.server did not answer within {timeout_s:.0f} s:\n{_tail(log)}")


def _tail(log: IO[str], chars: int = 3000) -> str:
    log.seek(0)
    return log.read()[-chars:]
