"""agentflow.server"""
