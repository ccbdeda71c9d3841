"""``agentflow show TRAJECTORY --html OUT``: the evidence picture of a run as a page."""

from __future__ import annotations

from pathlib import Path

from agentflow.cli.output import console
from agentflow.picture import evidence_picture, write_picture
from agentflow.trajectory import Trajectory


def write_trajectory_picture(traj: Trajectory, path: Path) -> Path:
    """Write the run's picture to ``path`` and say where it is (on stderr)."""
    picture = evidence_picture(traj)
    out = write_picture(picture, path, title=f"agentflow evidence · run {traj.run_id}")
    shown = sum(1 for n in picture.nodes if n.core) if picture.collapsed else len(picture.nodes)
    console.print(f"wrote {out} ({shown} of {len(picture.nodes)} nodes shown, "
                  f"{sum(1 for n in picture.nodes if n.on_path)} on the answer path)")
    return out
