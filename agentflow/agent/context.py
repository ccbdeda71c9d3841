"""The run-scoped dependencies every node receives through LangGraph's runtime context.

Nodes never reach for globals: the LLM, the tools, the embedder, the budget, the
trajectory recorder and the progress sink all come in here. :meth:`RunContext.ask`
is the one way nodes call the LLM: it renders the node's prompt, enforces the
budget, records the call in the trajectory and turns a model that never produced
valid output into ``None`` (the node then uses its deterministic floor).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, Field

from agentflow.agent.budget import Budget, llm_budget_left
from agentflow.agent.events import event_dict, progress_event
from agentflow.agent.prompting import copied_example, render
from agentflow.errors import DeadlineExceededError, StructuredOutputError
from agentflow.llm.deadline import call_deadline
from agentflow.llm.tokens import count_message_tokens
from agentflow.trajectory import TrajectoryRecorder

if TYPE_CHECKING:
    from agentflow.agent.memory_store import StoreMemory
    from agentflow.agent.run_config import RunConfig
    from agentflow.embed.base import Embedder
    from agentflow.llm.base import LLM
    from agentflow.memory.graph import MemoryGraph
    from agentflow.tools.base import SearchTool

T = TypeVar("T", bound=BaseModel)


class ResearchSettings(BaseModel):
    """Knobs of the research loop (not budgets)."""

    k: int = 5  # passages per query
    read_k: int = 4  # passages shown to the reader per round
    max_rounds: int = 2  # search rounds per sub-question
    max_sub_questions: int = 4
    memory_tokens: int = 200  # compact memory budget inside the reader's prompt
    evidence_tokens: int = 600  # memory + passages shown to the reader, together
    passage_chars: int = 600  # a passage is cut to at most this many characters in prompts
    react_steps: int = 4  # ReAct baseline: steps before it must answer
    # Mechanisms of the loop, each switchable for ablations (evals/ablation.py).
    #: Ask the model for a plan (else: the question is the one step, carried by bridge
    #: hops). None: only a trusted model. On held-out MuSiQue the 135M model's plans were
    #: invalid in 33 of 40 runs and the 10 accepted (with HotpotQA) all ended wrong or
    #: refused, 8 of them copying the prompt's example; asking cost a call per question.
    plan_llm: bool | None = None
    #: The plan built in code from the question's nested phrases (agentflow.agent.decompose),
    #: the fallback under an invalid model plan and a small model's plan. None: on only
    #: when the reader is trusted. For a small reader it used to measure worse than the
    #: question plus bridge hops (R@5 0.73 vs 0.83, 20 dev questions, LLM-free loop);
    #: with the whole question's search and bridges kept under a plan
    #: (``question_bridges``) and the single-step floor when a link is unsupported
    #: (``chain_fallback``), it is what answers chains (see evals/ablation.py).
    clause_plan: bool | None = True
    bridge_searches: int = 3  # LLM-free bridge hops after the question's first search
    #: Under a multi-step plan and an untrusted reader, the whole question's search is
    #: still followed by its bridge hops (the evidence floor does not depend on the
    #: weak reader's chain of answers).
    question_bridges: bool = True
    #: A step that depends on earlier ones is also searched with their runner-up answers.
    alternate_searches: int = 2
    #: A step that ends unanswerable under an untrusted reader's bridge is tried again with
    #: that bridge's runner-up answers (up to this many), one search round each; a runner-up
    #: replaces the bridge only when the step's answer is then stated about it.
    bridge_retries: int = 2
    #: The run's evidence is ordered by its searches' votes plus this weight times the
    #: corpus entity graph's PPR mass, seeded from the question and its resolved steps
    #: (HippoRAG: passages linked to the entities the chain reached rank higher). 0: off.
    evidence_graph: float = 2.0
    #: A step's answer passage follows the step heads in the evidence order when a
    #: sentence of it states what the step asks (agentflow.agent.answer.stated_links).
    stated_links: bool = True
    #: The model picks among typed candidate spans. False: nobody picks (the floor must be
    #: supported). None: only a trusted model; for an untrusted (small) one the best-scored
    #: candidate stands as the pick. On the development sample None kept F1 (0.139 vs
    #: 0.135 with the 135M model asked) at a twentieth of the time; the refusals it lost
    #: (the 135M model's) now come from code: a plan's final step must be supported
    #: (``final_step_support``).
    reader_llm: bool | None = None
    #: With an untrusted reader (``trust_reader``), the question's answer (a final step's)
    #: must sit in a sentence that states what is asked. Off by default: with the 135M
    #: model it refused half the first 8 dev questions (3 of them with every gold passage
    #: retrieved), against 0.05 refused without it; the relation families are too narrow.
    final_needs_support: bool = False
    #: The same rule for the final step of a plan of several steps, where the evidence
    #: about its subject is missing: no shown passage names it, or its own page states
    #: nothing of what is asked (agentflow.agent.verify._evidence_missing). Measured on the
    #: development sample: requiring support of every final step refused 0.21 (over-refusal
    #: 0.22); a span merely worded unlike the question now stands.
    final_step_support: bool = True
    critic_llm: bool = True  # the model may ask for one more search (it can never refuse)
    #: On the last hop of a multi-hop question, a span naming what a shown passage is
    #: about is weighed down as a likely bridge (agentflow.agent.candidates.SUBJECT_FACTOR).
    beyond_subjects: bool = True
    #: "Who was born earlier, A or B?" is decided in code from the dates the run's
    #: passages state for A and B (agentflow.agent.compare); the model picks between the
    #: two options only when a date is missing.
    compare_in_code: bool = True
    #: In a step that does not nest, a span stated about the entity the step names (in
    #: a sentence naming it, or in the passage titled with it) is likelier than one next
    #: to a namesake (agentflow.agent.candidates.NAMED_FACTOR), and only such a span
    #: supports the step's answer.
    named_subjects: bool = True
    #: Spans are weighed by the words just before them (the asked relation's word: more
    #: likely; another relation's: less), by the side of a life parenthesis asked for,
    #: and by the asked noun right after them ("Maharashtra state"); markup, sentence-
    #: opening common words and cut abbreviations are no spans; a country is seldom the
    #: person asked for (agentflow.agent.candidates._near_relation and neighbours).
    relation_cues: bool = True
    #: The top passage of each plan step's own query follows the whole question's top
    #: passage in the evidence order (agentflow.agent.answer.step_heads).
    step_heads: bool = True
    #: Under an untrusted reader's plan of several steps, a chain with an unsupported
    #: link is not trusted: the answer is the single-step floor over the run's evidence
    #: (agentflow.agent.answer.broken_link). A chain whose links hold and whose last step
    #: finds nothing still refuses.
    chain_fallback: bool = True
    #: With ``chain_fallback``, a chain whose link is unsupported but whose last step
    #: still read an answer keeps that answer, even one its sentence does not state; the
    #: single-step floor answers only a chain whose last step read nothing. On the 42
    #: development questions that fell back, the chains' own answers scored F1 9.1
    #: (summed) against the floor's 7.5; the unstated readings 3.7 against 2.3 on 12.
    chain_answer_first: bool = True
    #: The single-step floor never answers with a bridge the chain read (a step later
    #: steps depend on): the question asks something of it ("the spouse of the main
    #: director of Big Eye" is not Tim Burton).
    floor_skips_bridges: bool = True
    #: Whether a step whose subject's own page was shown, and whose span is not stated
    #: with the asked relation, counts as missing its evidence (refuses as a final step
    #: or a link): the page would say it. Off: only a span not about the subject does.
    subject_page_missing: bool = True
    #: The subject-page rule only when the span was read on that page: a span from
    #: another passage whose sentence names the subject ("... playwright Henrik Ibsen's
    #: Norway") may state what the page does not (agentflow.agent.read.subject_page).
    subject_page_refined: bool = True
    #: Instruction-like passages (agentflow.agent.injection) are never shown, never
    #: candidates, never support or citations; off only to measure the attack.
    screen_passages: bool = True
    # Whether the reader's pick stands when its sentence does not echo the question while
    # another candidate's does; None: yes, except for a small model (``LLM.small``).
    trust_reader: bool | None = None
    #: How many independent sub-questions (their dependencies answered) are researched at
    #: once, each in its own branch (agentflow.agent.fanout). 1: one after another, the
    #: loop as it always ran. None: 4 for a model behind a remote OpenAI-compatible server,
    #: else 1 (the embedded model answers one request at a time, and so does a server on
    #: this machine unless it was started with several slots).
    concurrency: int | None = Field(default=None, ge=1, le=32)


@dataclass
class RunContext:
    """Everything a node needs besides the state."""

    llm: LLM
    tools: list[SearchTool]
    embedder: Embedder | None = None
    budget: Budget = field(default_factory=Budget)
    settings: ResearchSettings = field(default_factory=ResearchSettings)
    recorder: TrajectoryRecorder = field(default_factory=lambda: TrajectoryRecorder(None, "adhoc"))
    emit: Callable[[dict[str, Any]], None] = lambda event: None
    #: LangGraph's custom stream of the run (``runtime.stream_writer``): progress events
    #: reach ``stream_mode="custom"`` clients (Studio, ``langgraph_sdk``) through it.
    writer: Callable[[Any], None] = lambda event: None
    #: Whether this context records the run's ``run_start``/``final`` itself (runs under
    #: LangGraph tooling); agentflow's runner records them for its own runs.
    owns_trajectory: bool = False
    #: Where the run's memory graph lives (:class:`~agentflow.agent.memory_store.StoreMemory`
    #: over the graph's ``BaseStore``); None: the graph travels in the state.
    memory_store: StoreMemory | None = None
    #: The run configuration this context was resolved from (None: built by hand).
    config: RunConfig | None = None
    #: ``time.monotonic()`` when the run's time budget ends (set by the runner); each
    #: LLM call's timeout is cut to what is left, so a hanging backend cannot overrun it.
    deadline: float | None = None
    # The run's memory graph, cached as (revision, graph, fingerprint of its JSON at that
    # revision), so consecutive nodes neither re-read nor re-embed it and a step's delta
    # is computed against what was last saved. One context serves one run only.
    _memory: tuple[int, MemoryGraph, Any] | None = None

    # -- LLM -------------------------------------------------------------------

    def ask(
        self,
        usage: dict[str, Any],
        *,
        node: str,
        prompt: str,
        output_type: type[T],
        sub_question: str | None = None,
        max_tokens: int = 256,
        **variables: Any,
    ) -> T | None:
        """One structured LLM call for ``node`` with template ``prompt``.

        Updates ``usage`` in place. Returns None when the budget forbids the call or
        the model's output never validated (recorded in the trajectory); backend
        failures (:class:`~agentflow.errors.LLMError`) propagate and end the run.
        """
        left = self.budget.max_seconds - usage.get("seconds", 0.0)
        if self.deadline is not None:
            left = min(left, self.deadline - time.monotonic())
        if not llm_budget_left(usage, self.budget) or left <= 0:
            self.recorder.record("note", node=node, kind="budget", sub_question=sub_question,
                                 message="LLM budget spent: using the deterministic fallback")
            return None
        messages = render(prompt, **variables)
        started = time.perf_counter()
        value: T | None = None
        error: str | None = None
        try:
            with call_deadline(left):
                value, call = self.llm.structured(messages, output_type, max_tokens=max_tokens)
        except DeadlineExceededError as exc:
            error, attempts, call = str(exc), [], None
        except StructuredOutputError as exc:
            error = str(exc)
            attempts = [
                {"output": raw, "error": err} for raw, err in zip(exc.raw_outputs, exc.errors)
            ]
            call = None
        # A copied prompt example is no answer: treated as invalid output (the node's floor).
        copied = copied_example(prompt, value, variables) if value is not None else None
        if copied is not None:
            value, error = None, f"output copies the prompt's example {copied!r}"
        seconds = time.perf_counter() - started
        if call is not None:
            u = call.usage
            attempts = [
                {
                    "output": a.text,
                    "prompt_tokens": a.usage.prompt_tokens,
                    "completion_tokens": a.usage.completion_tokens,
                    "latency_s": round(a.usage.latency_s, 4),
                }
                for a in call.attempts
            ]
            prompt_tokens, completion_tokens, model = u.prompt_tokens, u.completion_tokens, u.model
            first_prompt = call.attempts[0].usage.prompt_tokens if call.attempts else 0
        else:
            first_prompt = count_message_tokens(messages)
            prompt_tokens = first_prompt * max(1, len(attempts))
            completion_tokens = sum(len(a["output"]) // 4 for a in attempts)
            model = self.llm.name
        usage["llm_calls"] += 1
        usage["prompt_tokens"] += prompt_tokens
        usage["completion_tokens"] += completion_tokens
        usage["max_prompt_tokens"] = max(usage.get("max_prompt_tokens", 0), first_prompt)
        self.recorder.record(
            "llm_call",
            node=node,
            sub_question=sub_question,
            prompt=prompt,
            messages=[m.model_dump() for m in messages],
            attempts=attempts,
            parsed=value.model_dump(mode="json") if value is not None else None,
            error=error,
            prompt_tokens=prompt_tokens,
            first_prompt_tokens=first_prompt,
            completion_tokens=completion_tokens,
            latency_s=round(seconds, 4),
            model=model,
        )
        if copied is not None:
            self.note(node, "example_copied", f"{error}: ignored", example=copied)
        return value

    # -- progress ----------------------------------------------------------------

    def progress(self, **fields: Any) -> None:
        """Send a typed progress event (:mod:`agentflow.agent.events`) to the run's sink
        and to LangGraph's custom stream. A broken sink never fails the run."""
        event = event_dict(progress_event(**fields))
        for send in (self.emit, self.writer):
            try:
                send(event)
            except Exception:  # noqa: BLE001 - a broken progress sink must not break a run
                pass

    def trusts_reader(self) -> bool:
        """Whether the reader's pick stands against the checks in code
        (``ResearchSettings.trust_reader``; by default, unless the model is small)."""
        trust = self.settings.trust_reader
        return not getattr(self.llm, "small", False) if trust is None else trust

    def note(self, node: str, kind: str, message: str, **data: Any) -> None:
        """Record a noteworthy decision (a fallback, a removed citation) in the trajectory."""
        self.recorder.record("note", node=node, kind=kind, message=message, data=data)
        self.progress(type="note", node=node, kind=kind, message=message)
