"""Prompt templates, one Jinja2 file per agent node, versioned with the code.

Installed as ``agentflow.prompts``; load templates with :func:`agentflow.agent.prompting.render`.
"""
