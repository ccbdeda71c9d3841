"""Workflow definitions: LangGraph StateGraphs wiring agentflow's nodes.

Installed as ``agentflow.graphs``. Each module builds one graph; :data:`GRAPHS`
maps the names users pass to ``--graph`` onto their builders.
"""
