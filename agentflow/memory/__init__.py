"""agentflow.memory"""
