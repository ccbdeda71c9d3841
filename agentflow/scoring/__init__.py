"""agentflow.scoring"""
