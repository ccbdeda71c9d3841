"""A seeded synthetic world of fictional people, places, organisations and works, with
hint-free multi-hop questions over it (no model can know the answers beforehand).

``generate_world`` builds one in memory; ``write_world`` (and ``python -m
agentflow.evals.world``) streams one to ``corpus.jsonl`` + ``questions.jsonl``.
"""

from .generator import World, WorldFiles, generate_world, write_world

__all__ = ["World", "WorldFiles", "generate_world", "write_world"]
