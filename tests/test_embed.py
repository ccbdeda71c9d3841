"""Embedders: the deterministic hashing embedder, spec resolution, the OpenAI-compatible
embedder against a real HTTP server on loopback, and a MiniLM smoke test."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import numpy as np
import pytest

from agentflow.embed import (
    HashingEmbedder,
    MiniLMEmbedder,
    OpenAIEmbedder,
    embedder_spec,
    minilm,
    resolve_embedder,
)
from agentflow.errors import ConfigError, DependencyMissingError, NetworkBlockedError
from tests.helpers import requires_minilm


def test_hashing_shape_norm_and_name() -> None:
    emb = HashingEmbedder()
    vectors = emb.embed(["Marie Curie was born in Warsaw.", "The Eiffel Tower is in Paris."])
    assert emb.name == "hash-384" and emb.dim == 384
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0], abs=1e-6)
    assert emb.embed_query("Warsaw").shape == (384,)


def test_hashing_empty_text_gives_zero_row_and_empty_batch() -> None:
    emb = HashingEmbedder(dim=16)
    assert not np.any(emb.embed(["", "the of and"]))
    assert emb.embed([]).shape == (0, 16)


def test_hashing_ranks_shared_words_higher() -> None:
    emb = HashingEmbedder()
    query = emb.embed_query("Where was Marie Curie born?")
    near, far = emb.embed(["Marie Curie was born in Warsaw.", "The Eiffel Tower is in Paris."])
    assert float(query @ near) > float(query @ far)


def test_hashing_is_the_same_in_another_process() -> None:
    # Python's own str hash is salted per process; the stored vectors must not be.
    code = (
        "from agentflow.embed.hashing import HashingEmbedder;"
        "print(HashingEmbedder(32).embed(['river bank loans'])[0].tolist())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    ).stdout
    here = HashingEmbedder(32).embed(["river bank loans"])[0]
    assert np.allclose(json.loads(out), here)


def test_resolve_hash_specs() -> None:
    assert resolve_embedder("hash").name == "hash-384"
    small = resolve_embedder("hash:64")
    assert (small.name, small.dim, embedder_spec(small)) == ("hash-64", 64, "hash:64")
    assert resolve_embedder(small) is small


def test_resolve_uses_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFLOW_EMBEDDER", "hash:32")
    assert resolve_embedder(None).name == "hash-32"


@pytest.mark.parametrize("spec", ["word2vec", "hash:abc", "hash:2", "openai:", "minilm:x"])
def test_resolve_unknown_spec_lists_the_valid_ones(spec: str) -> None:
    with pytest.raises(ConfigError) as err:
        resolve_embedder(spec)
    assert "hash" in str(err.value)


def test_resolve_suggests_a_close_name() -> None:
    with pytest.raises(ConfigError, match="did you mean 'minilm'"):
        resolve_embedder("minilmm")


def test_auto_falls_back_to_hashing_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("agentflow.embed.minilm_available", lambda: False)
    with caplog.at_level(logging.WARNING, logger="agentflow.embed"):
        emb = resolve_embedder("auto")
    assert isinstance(emb, HashingEmbedder)
    assert "agentflow[local]" in caplog.text


def test_minilm_without_the_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minilm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DependencyMissingError, match=r"agentflow\[local\]"):
        MiniLMEmbedder()


# -- OpenAI-compatible endpoint ---------------------------------------------------------


class _EmbeddingsHandler(BaseHTTPRequestHandler):
    """A minimal /v1/embeddings endpoint: un-normalised vectors, returned in reverse order."""

    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(text)), 3.0, 4.0]}
            for i, text in enumerate(body["input"])
        ]
        payload = json.dumps(
            {
                "object": "list",
                "data": data[::-1],
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def embeddings_server() -> Iterator[str]:
    _EmbeddingsHandler.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmbeddingsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_embedder_batches_orders_and_normalises(
    embeddings_server: str, loopback: None
) -> None:
    emb = resolve_embedder(f"openai:tiny-embed@{embeddings_server}")
    assert isinstance(emb, OpenAIEmbedder) and emb.name == "openai:tiny-embed"
    emb.batch_size = 2
    vectors = emb.embed(["a", "bbbb", "cc"])
    assert len(_EmbeddingsHandler.requests) == 2  # 3 texts in batches of 2
    assert emb.dim == 3 and vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1, 1, 1], abs=1e-6)
    # Rows follow the input order even though the server answered in reverse.
    assert vectors[:, 0] == pytest.approx(np.array([1, 4, 2]) / np.sqrt(np.array([1, 16, 4]) + 25))
    assert embedder_spec(emb) == f"openai:tiny-embed@{embeddings_server}"


def test_openai_embedder_respects_the_network_guard() -> None:
    emb = OpenAIEmbedder("text-embedding-3-small", "http://10.255.255.1:9/v1", api_key="k")
    with pytest.raises(NetworkBlockedError):
        emb.embed(["hello"])


def test_openai_embedder_needs_a_key_for_openai() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        OpenAIEmbedder("text-embedding-3-small")


# -- MiniLM ---------------------------------------------------------------------------


@requires_minilm
@pytest.mark.slow
@pytest.mark.minilm
def test_minilm_smoke() -> None:
    emb = resolve_embedder("minilm")
    assert (emb.name, emb.dim) == ("minilm", 384)
    vectors = emb.embed(
        [
            "Marie Curie was born in Warsaw.",
            "Curie's birthplace is Warsaw, Poland.",
            "Bananas are yellow.",
        ]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1, 1, 1], abs=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    # Loaded once per process.
    assert minilm._load_model() is minilm._load_model()
    assert isinstance(resolve_embedder("auto"), MiniLMEmbedder)
