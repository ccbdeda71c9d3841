"""A picture of the evidence: how a run's answer was reached, as an interactive graph.

:func:`~agentflow.picture.evidence.evidence_picture` turns a trajectory into typed nodes
and edges (question, sub-questions, facts, passages, entities, the answer) with the
answer path marked; :func:`~agentflow.picture.page.picture_page` draws it as one
self-contained HTML page (cytoscape.js bundled, no network at view time). The chat page
and the evaluation report use the same pieces.
"""

from agentflow.picture.evidence import EvidencePicture, PictureEdge, PictureNode, evidence_picture
from agentflow.picture.page import picture_page, picture_script, write_picture

__all__ = ["EvidencePicture", "PictureEdge", "PictureNode", "evidence_picture", "picture_page",
           "picture_script", "write_picture"]
