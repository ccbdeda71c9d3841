"""One picture per question for the evaluation report, beside it in ``<report>-pictures/``:
the drawing code is written there once and every picture page loads it, so a report
over hundreds of questions stays small."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agentflow.picture.evidence import evidence_picture
from agentflow.picture.page import picture_script, write_picture
from agentflow.trajectory import read_trajectory

if TYPE_CHECKING:
    from agentflow.scoring.scorer import RunScore

SCRIPT_NAME = "picture.js"


def write_report_pictures(runs: Sequence[RunScore], report: str | Path, *,
                          limit: int) -> dict[tuple[int, str], str]:
    """Write the pictures of the first ``limit`` questions of each run; returns
    ``{(run index, question id): link relative to the report}``. A question whose
    trajectory is missing or unreadable simply gets no link."""
    from agentflow.scoring.manifest import trajectory_name, trajectory_path

    report = Path(report)
    folder = report.parent / f"{report.stem}-pictures"
    links: dict[tuple[int, str], str] = {}
    for i, run in enumerate(runs):
        for q in run.questions[:limit]:
            path = trajectory_path(run.folder, q.id)
            if not path.is_file():
                continue
            try:
                picture = evidence_picture(read_trajectory(path))
            except Exception:  # noqa: BLE001 - one bad trajectory costs its link, not the report
                continue
            name = f"{i}-{trajectory_name(q.id)}.html"
            write_picture(picture, folder / name, title=f"{run.label}: {q.id}", script_href=SCRIPT_NAME)
            links[(i, q.id)] = f"{folder.name}/{name}"
    if links:
        (folder / SCRIPT_NAME).write_text(picture_script(), encoding="utf-8")
    return links
