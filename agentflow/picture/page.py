"""The picture as one self-contained HTML page: the data as inline JSON, cytoscape.js
and the drawing code inline, so the file opens anywhere with no network."""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from agentflow.picture.evidence import EvidencePicture

_SLOT = re.compile(r"\{\{(title|heading|data|script)\}\}")


@lru_cache(maxsize=4)
def _asset(name: str) -> str:
    return resources.files("agentflow.picture").joinpath("static", name).read_text(encoding="utf-8")


def picture_script() -> str:
    """cytoscape.js (MIT, bundled) followed by the drawing code: what the chat page loads."""
    return _asset("cytoscape.min.js") + "\n;\n" + _asset("picture.js")


def _json_for_script(picture: EvidencePicture) -> str:
    # "<" escaped: a passage containing "</script>" must not end the data block.
    return json.dumps(picture.model_dump(mode="json"), ensure_ascii=False).replace("<", "\\u003c")


def picture_page(picture: EvidencePicture, *, title: str = "agentflow evidence",
                 script_href: str | None = None) -> str:
    """The whole page as a string: self-contained, or with the drawing code loaded from
    ``script_href`` (a relative file written beside it, so that a report's hundreds of
    pictures share one copy of cytoscape.js)."""
    script = (f'<script src="{html.escape(script_href, quote=True)}"></script>' if script_href
              else "<script>" + picture_script().replace("</script", "<\\/script") + "</script>")
    values = {
        "title": html.escape(title),
        "heading": html.escape(picture.question or title),
        "data": _json_for_script(picture),
        "script": script,
    }
    # One pass: a passage that contains "{{script}}" stays text.
    return _SLOT.sub(lambda m: values[m.group(1)], _asset("picture.html"))


def write_picture(picture: EvidencePicture, path: str | Path, *, title: str = "agentflow evidence",
                  script_href: str | None = None) -> Path:
    """Write :func:`picture_page` to ``path`` (folders created) and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(picture_page(picture, title=title, script_href=script_href), encoding="utf-8")
    return out
