"""agentflow.cli"""
