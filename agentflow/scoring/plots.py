"""The report's figures, drawn with matplotlib and returned as inline SVG markup.

Text is drawn as paths (``svg.fonttype = "path"``), so the SVG needs no font, and each
figure gets its own id salt so several figures can share one HTML page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from agentflow.errors import DependencyMissingError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from agentflow.scoring.scorer import RunScore

#: Quality metrics drawn as bars (all in [0, 1]).
BAR_METRICS = ("em", "f1", "cover_em", "correct", "recall@5", "full_chain", "sufficient",
               "utilisation", "citation_precision", "refused")
_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C")


def _pyplot():  # type: ignore[no-untyped-def]
    try:
        import matplotlib
    except ImportError:
        raise DependencyMissingError("matplotlib", "eval", "the HTML report's plots") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def to_svg(fig: Figure, salt: str) -> str:
    """The figure as an ``<svg>`` element (no XML prolog, no DOCTYPE, no date)."""
    plt = _pyplot()
    with plt.rc_context({"svg.fonttype": "path", "svg.hashsalt": salt}):
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _err(est: dict[str, float | None]) -> tuple[float, float, float]:
    mean = est.get("mean") or 0.0
    lo = est.get("lo") if est.get("lo") is not None else mean
    hi = est.get("hi") if est.get("hi") is not None else mean
    return mean, max(0.0, mean - lo), max(0.0, hi - mean)  # type: ignore[operator]


def metric_bars(runs: Sequence[RunScore], metrics: Sequence[str] = BAR_METRICS) -> str:
    """Grouped bars, one group per metric and one bar per run, with 95% bootstrap intervals."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(7.0, 0.9 * len(metrics) * max(1, len(runs)) / 2 + 3), 3.6))
    width = 0.8 / max(1, len(runs))
    for r, run in enumerate(runs):
        xs, means, lows, highs = [], [], [], []
        for i, name in enumerate(metrics):
            mean, lo, hi = _err(run.metric(name))
            xs.append(i - 0.4 + width * (r + 0.5))
            means.append(mean)
            lows.append(lo)
            highs.append(hi)
        ax.bar(xs, means, width=width * 0.95, yerr=[lows, highs], capsize=2, label=run.label,
               color=_COLOURS[r % len(_COLOURS)], error_kw={"elinewidth": 0.8})
    ax.set_xticks(range(len(metrics)))
    ax.set_xticklabels(metrics, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("mean (95% bootstrap CI)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False, ncol=min(4, len(runs)))
    return to_svg(fig, "bars")


def hop_bars(runs: Sequence[RunScore]) -> str | None:
    """Per-hop sub-answer accuracy with intervals (None when no run has per-hop scores)."""
    hops = max((len(r.aggregate.get("per_hop") or []) for r in runs), default=0)
    if not hops or not any(h.get("n") for r in runs for h in r.aggregate.get("per_hop") or []):
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    width = 0.8 / max(1, len(runs))
    for r, run in enumerate(runs):
        per_hop = run.aggregate.get("per_hop") or []
        xs = [i + 1 - 0.4 + width * (r + 0.5) for i in range(len(per_hop))]
        errs = [_err(h) for h in per_hop]
        ax.bar(xs, [e[0] for e in errs], width=width * 0.95,
               yerr=[[e[1] for e in errs], [e[2] for e in errs]], capsize=2, label=run.label,
               color=_COLOURS[r % len(_COLOURS)], error_kw={"elinewidth": 0.8})
    ax.set_xticks(range(1, hops + 1))
    ax.set_xlabel("hop (gold decomposition step)")
    ax.set_ylabel("sub-answer cover-EM")
    ax.set_ylim(0, 1.05)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return to_svg(fig, "hops")


def prompt_growth(runs: Sequence[RunScore]) -> str:
    """Mean (solid) and largest (dotted) prompt tokens of the i-th LLM call of a run,
    one colour per run: flat for compact memory, rising for a growing transcript."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for r, run in enumerate(runs):
        steps = run.aggregate.get("prompt_tokens_by_step") or []
        if not steps:
            continue
        colour = _COLOURS[r % len(_COLOURS)]
        xs = [s["step"] for s in steps]
        ax.plot(xs, [s["mean"] for s in steps], marker="o", markersize=3, color=colour,
                label=f"{run.label} ({run.manifest.graph})")
        ax.plot(xs, [s["max"] for s in steps], linestyle=":", color=colour, linewidth=1)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("LLM call index within a run")
    ax.set_ylabel("prompt tokens (mean; dotted: max)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return to_svg(fig, "growth")


def accuracy_vs_cost(runs: Sequence[RunScore]) -> str:
    """Correct rate against mean tokens per question and mean seconds per question,
    each point with its bootstrap intervals on both axes."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    costs = (("tokens", "tokens per question (prompt + completion)"),
             ("seconds", "seconds per question"))
    for ax, (cost, label) in zip(axes, costs, strict=True):
        for r, run in enumerate(runs):
            y, ylo, yhi = _err(run.metric("correct"))
            if cost == "tokens":
                p, c = _err(run.metric("prompt_tokens")), _err(run.metric("completion_tokens"))
                x, xlo, xhi = p[0] + c[0], p[1] + c[1], p[2] + c[2]
            else:
                x, xlo, xhi = _err(run.metric("seconds"))
            ax.errorbar([x], [y], xerr=[[xlo], [xhi]], yerr=[[ylo], [yhi]], fmt="o", capsize=3,
                        color=_COLOURS[r % len(_COLOURS)], label=run.label)
            ax.annotate(run.label, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
        ax.set_xlabel(label)
        ax.set_ylabel("correct (cover-EM or F1 >= 0.5)")
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, frameon=False)
    return to_svg(fig, "cost")
