"""Questions over a world: 1-4 hop chains, comparisons, and unanswerable ones whose chain is
broken (a document left out of the corpus, or a fact the world does not have).

Hint-free: a question names only its starting entities; bridges and the answer appear in
documents only. Each question comes with its gold decomposition (``#k`` references) and the
documents that support each step.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from agentflow.errors import UserError

from ..datasets import DecompositionStep, QAExample
from .entities import (
    KIND_RELATIONS,
    LINK_RELATIONS,
    OPTIONAL_RELATIONS,
    ORG_KINDS,
    TARGET_KIND,
    WORK_KINDS,
    EntityTable,
)
from .wording import (
    COMPARE_BIRTH,
    COMPARE_BIRTH_STEP,
    COMPARE_FOUNDING,
    COMPARE_FOUNDING_STEP,
    PHRASES,
    QUESTIONS,
)

# Share of each question kind; "chain:N" is an answerable N-hop chain.
MIX = (("chain:1", 0.14), ("chain:2", 0.24), ("chain:3", 0.17), ("chain:4", 0.11),
       ("comparison", 0.14), ("missing_document", 0.11), ("missing_relation", 0.09))
# Most constrained first, so the easy kinds do not use up what the hard ones need.
_ORDER = ("missing_relation", "comparison", "chain:4", "chain:3", "chain:2", "chain:1")
_FALLBACK = ("chain:2", "chain:1", "chain:3")
_CREATOR_RELATIONS: tuple[str, ...] = ("founded_by", "written_by", "directed_by", "performed_by")
_ATTEMPTS = 60

Path = list[tuple[int, str]]  # (subject entity, relation) per hop


def question_mix(n_questions: int) -> dict[str, int]:
    """How many questions of each kind make up ``n_questions`` (each kind at least once
    when there are enough questions)."""
    raw = {kind: share * n_questions for kind, share in MIX}
    counts = {kind: int(v) for kind, v in raw.items()}
    kinds = [kind for kind, _ in MIX]
    by_remainder = sorted(kinds, key=lambda k: (raw[k] - counts[k], -kinds.index(k)), reverse=True)
    for kind in by_remainder[: n_questions - sum(counts.values())]:
        counts[kind] += 1
    if n_questions >= len(MIX):
        for kind in kinds:
            if counts[kind] == 0:
                counts[max(counts, key=counts.__getitem__)] -= 1
                counts[kind] = 1
    return counts


class QuestionMaker:
    """Draws questions from an entity table, tracking which documents are left out
    (``omitted``) and which ones accepted questions rely on (``needed``)."""

    def __init__(self, table: EntityTable, rng: random.Random) -> None:
        self.t = table
        self.rng = rng
        self.omitted: set[int] = set()
        self.needed: set[int] = set()
        self._asked: set[object] = set()  # what was asked, however it was worded
        ents = table.entities
        self._anchors = [i for i, e in enumerate(ents) if e.kind != "country"]
        self._creations = [i for i, e in enumerate(ents) if e.kind in ORG_KINDS + WORK_KINDS]
        self._persons = table.by_kind.get("person", [])

    # -- building blocks ------------------------------------------------------------------

    def _walk(self, hops: int, last_ok: Callable[[int, str, int | None], bool]) -> Path | None:
        """A random path of ``hops`` facts through documents that exist; the last fact must
        pass ``last_ok(subject, relation, target)``."""
        t, rng = self.t, self.rng
        for _ in range(40):
            cur = rng.choice(self._anchors)
            if cur in self.omitted:
                continue
            path: Path = []
            seen = {cur}
            for step in range(hops):
                last = step == hops - 1
                options = []
                for r in t.relations(cur):
                    nxt = t.target(cur, r)
                    if nxt in seen:
                        continue
                    if last:
                        ok = last_ok(cur, r, nxt)
                    else:
                        ok = nxt is not None and nxt not in self.omitted and bool(t.relations(nxt))
                    if ok:
                        options.append(r)
                if not options:
                    break
                r = rng.choice(options)
                path.append((cur, r))
                if not last:
                    cur = t.target(cur, r)  # type: ignore[assignment]
                    seen.add(cur)
            if len(path) == hops:
                return path
        return None

    def _wording(self, anchor: str, relations: list[str]) -> str:
        phrase = anchor
        for r in relations[:-1]:
            phrase = self.rng.choice(PHRASES[r]).format(x=phrase)
        return self.rng.choice(QUESTIONS[relations[-1]]).format(x=phrase)

    def _accept(self, key: object, text: str, hidden: list[str]) -> bool:
        """Keep a question only when ``key`` (what it asks) is new and its text names none of
        ``hidden`` (case-insensitively)."""
        low = text.casefold()
        if key in self._asked or any(h.casefold() in low for h in hidden):
            return False
        self._asked.add(key)
        return True

    def _steps(self, anchor: str, relations: list[str], path: Path) -> list[DecompositionStep]:
        """Canonical sub-questions; steps past the answered ``path`` have no answer."""
        steps = []
        for k, r in enumerate(relations):
            q = QUESTIONS[r][0].format(x=anchor if k == 0 else f"#{k}")
            if k < len(path):
                s = path[k][0]
                steps.append(DecompositionStep(question=q, answer=self.t.answer(s, r),
                                               supporting_ids=[self.t.doc_id(s)]))
            else:
                steps.append(DecompositionStep(question=q, answer=""))
        return steps

    def _tail(self, kind: str, n: int) -> list[str]:
        """``n`` relations that could follow from an entity of ``kind`` (past a break)."""
        rels: list[str] = []
        for k in range(n):
            last = k == n - 1
            options = [r for r in KIND_RELATIONS[kind]
                       if last or (r in LINK_RELATIONS and TARGET_KIND[r] != "country")]
            r = self.rng.choice(options)
            rels.append(r)
            kind = TARGET_KIND.get(r, kind)
        return rels

    # -- question kinds -------------------------------------------------------------------

    def chain(self, hops: int) -> QAExample | None:
        """An answerable question that follows ``hops`` facts from one named entity."""
        path = self._walk(hops, lambda s, r, n: True)
        if path is None:
            return None
        t = self.t
        anchor, relations = t.entities[path[0][0]].name, [r for _, r in path]
        answer = t.answer(*path[-1])
        text = self._wording(anchor, relations)
        hidden = [answer, *(t.entities[s].name for s, _ in path[1:])]
        if not self._accept((path[0][0], *relations), text, hidden):
            return None
        self.needed.update(s for s, _ in path)
        return QAExample(id="", question=text, answers=[answer],
                         supporting_ids=list(dict.fromkeys(t.doc_id(s) for s, _ in path)),
                         decomposition=self._steps(anchor, relations, path), hops=hops,
                         kind="chain")

    def missing_document(self, hops: int) -> QAExample | None:
        """A chain whose last document is left out of the corpus (its fact is stated nowhere
        else), so the question cannot be answered from the corpus."""
        def last_ok(s: int, r: str, n: int | None) -> bool:
            # A marriage is stated in both spouses' documents: leaving one out breaks nothing.
            return r != "married_to" and s not in self.needed

        path = self._walk(hops, last_ok)
        if path is None:
            return None
        t = self.t
        anchor, relations = t.entities[path[0][0]].name, [r for _, r in path]
        hidden = [t.answer(*path[-1]), *(t.entities[s].name for s, _ in path[1:])]
        text = self._wording(anchor, relations)
        if not self._accept((path[0][0], *relations), text, hidden):
            return None
        self.omitted.add(path[-1][0])
        self.needed.update(s for s, _ in path[:-1])
        return QAExample(id="", question=text, answers=[], answerable=False,
                         decomposition=self._steps(anchor, relations, path[:-1]), hops=hops,
                         kind="missing_document")

    def missing_relation(self, hops: int) -> QAExample | None:
        """A chain that reaches a person and asks a fact the world lacks for them (no spouse,
        no university), possibly followed by further hops from the missing entity."""
        t, rng = self.t, self.rng
        brk = rng.randint(1, hops - 1)

        def last_ok(s: int, r: str, n: int | None) -> bool:
            return (n is not None and n not in self.omitted and t.entities[n].kind == "person"
                    and not all(t.has(n, o) for o in OPTIONAL_RELATIONS))

        path = self._walk(brk, last_ok)
        if path is None:
            return None
        person = t.target(*path[-1])
        assert person is not None
        missing = rng.choice([o for o in OPTIONAL_RELATIONS if not t.has(person, o)])
        relations = [r for _, r in path] + [missing]
        relations += self._tail(TARGET_KIND[missing], hops - brk - 1)
        anchor = t.entities[path[0][0]].name
        hidden = [t.entities[s].name for s, _ in path[1:]] + [t.entities[person].name]
        text = self._wording(anchor, relations)
        if not self._accept((path[0][0], *relations), text, hidden):
            return None
        self.needed.update(s for s, _ in path)
        self.needed.add(person)
        return QAExample(id="", question=text, answers=[], answerable=False,
                         decomposition=self._steps(anchor, relations, path), hops=hops,
                         kind="missing_relation")

    def comparison(self) -> QAExample | None:
        """Which of two entities, each reached through one fact, came first (born or founded);
        the answer is a bridge, so it is never named in the question."""
        t, rng = self.t, self.rng
        if rng.random() < 0.6:  # two people reached from works or organisations, by birth
            pool, wording, step_q = self._creations, COMPARE_BIRTH, COMPARE_BIRTH_STEP
            via = _CREATOR_RELATIONS
        else:  # two universities reached from people, by founding
            pool, wording, step_q = self._persons, COMPARE_FOUNDING, COMPARE_FOUNDING_STEP
            via = ("studied_at",)
        a, b = rng.choice(pool), rng.choice(pool)
        ra = [r for r in t.relations(a) if r in via]
        rb = [r for r in t.relations(b) if r in via]
        if a == b or not ra or not rb:
            return None
        pa, pb = t.target(a, ra[0]), t.target(b, rb[0])
        assert pa is not None and pb is not None
        ents = t.entities
        if pa == pb or ents[pa].year == ents[pb].year or {a, b, pa, pb} & self.omitted:
            return None
        earlier = pa if ents[pa].year < ents[pb].year else pb
        text = rng.choice(wording).format(
            a=rng.choice(PHRASES[ra[0]]).format(x=ents[a].name),
            b=rng.choice(PHRASES[rb[0]]).format(x=ents[b].name))
        if not self._accept(frozenset((a, b)), text, [ents[pa].name, ents[pb].name]):
            return None
        self.needed.update((a, b, pa, pb))
        steps = [
            DecompositionStep(question=QUESTIONS[ra[0]][0].format(x=ents[a].name),
                              answer=ents[pa].name, supporting_ids=[t.doc_id(a)]),
            DecompositionStep(question=QUESTIONS[rb[0]][0].format(x=ents[b].name),
                              answer=ents[pb].name, supporting_ids=[t.doc_id(b)]),
            DecompositionStep(question=step_q, answer=ents[earlier].name,
                              supporting_ids=[t.doc_id(pa), t.doc_id(pb)]),
        ]
        return QAExample(id="", question=text, answers=[ents[earlier].name],
                         supporting_ids=[t.doc_id(i) for i in (a, b, pa, pb)],
                         decomposition=steps, hops=2, kind="comparison")

    def make(self, kind: str) -> QAExample | None:
        """One question of ``kind`` (a :data:`MIX` key), or None when none could be found."""
        for _ in range(_ATTEMPTS):
            if kind.startswith("chain:"):
                q = self.chain(int(kind.split(":")[1]))
            elif kind == "comparison":
                q = self.comparison()
            elif kind == "missing_document":
                q = self.missing_document(self.rng.randint(2, 4))
            else:
                q = self.missing_relation(self.rng.randint(2, 4))
            if q is not None:
                return q
        return None

    def omit_spare(self, count: int) -> bool:
        """Leave ``count`` more documents out, of entities no question relies on; False when
        there are not that many."""
        if count <= 0:
            return True
        spare = [i for i in range(len(self.t)) if i not in self.needed and i not in self.omitted]
        if len(spare) < count:
            return False
        self.omitted.update(self.rng.sample(spare, count))
        return True


def make_questions(table: EntityTable, mix: dict[str, int],
                   rng: random.Random) -> tuple[list[QAExample], set[int]]:
    """The questions ``mix`` asks for (ids ``wq000000``...) and the entities whose documents
    the corpus must leave out: exactly ``mix["missing_document"]`` of them."""
    maker = QuestionMaker(table, rng)
    questions: list[QAExample] = []
    plan = [("missing_document", mix.get("missing_document", 0))]
    plan += [(kind, mix.get(kind, 0)) for kind in _ORDER]
    n_omit = mix.get("missing_document", 0)

    def too_few() -> UserError:
        return UserError(
            f"could make only {len(questions)} distinct questions of the {sum(mix.values())} "
            f"asked from a world of {len(table) - n_omit} documents: ask for more documents "
            "or fewer questions")

    for kind, count in plan:
        for _ in range(count):
            q = maker.make(kind)
            for fallback in _FALLBACK:
                if q is not None:
                    break
                q = maker.make(fallback)
            if q is None:
                raise too_few()
            questions.append(q)
        # Keep the corpus size exact when some missing_document questions could not be made.
        if kind == "missing_document" and not maker.omit_spare(n_omit - len(maker.omitted)):
            raise too_few()
    rng.shuffle(questions)
    for k, q in enumerate(questions):
        q.id = f"wq{k:06d}"
    return questions, maker.omitted
