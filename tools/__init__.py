"""Tools agents call: local corpus search, memory-graph search, and your own.

Installed as ``agentflow.tools``. A tool implements :class:`agentflow.tools.base.Tool`.
"""
