"""Long-form cited reports: research a question, outline it from the evidence, write it
section by section with every sentence citing a passage retrieved in the run (checked in
code), and render it as Markdown or one self-contained HTML page.

The research loop (``deep_research``) runs unchanged as the report graph's first node;
see :mod:`agentflow.graphs.report`.
"""

from agentflow.report.records import Report, ReportSection, ReportSentence, SourcePassage

__all__ = ["Report", "ReportSection", "ReportSentence", "SourcePassage"]
