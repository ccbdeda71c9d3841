"""agentflow.agent"""
