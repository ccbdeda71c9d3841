"""The OpenAI-compatible chatbot server: ``agentflow serve``, or
:func:`agentflow.server.app.create_app` to build the FastAPI app yourself.

Modules: ``app`` (routes), ``chat`` (chat completions, streaming), ``sse`` (chunk
format), ``schemas`` (bodies), ``auth`` (API keys), ``limits`` (sizes, runs in
progress), ``errors`` (OpenAI's error shape), ``threads`` (threads in PostgreSQL).
Nothing is imported here, so using the PostgreSQL thread store does not pull in FastAPI.
The demo mode's agent (a scripted reader over the demo world) lives with the world it
reads: ``agentflow serve --agent-factory agentflow.evals.world.demo:demo_agent``.
"""
