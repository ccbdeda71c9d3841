"""The world's entities and their typed facts, built deterministically from a seed.

Entities are kept as small records with integer links (no text), so a world of a million
documents fits in memory; documents and questions are rendered from them afterwards.
Every fact is stated in the document of its subject only (a marriage in both spouses'
documents), which is what lets a question's chain be broken by leaving one document out.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from .draw import between, pick, some
from .names import NameForge, Syllables

# Relations a question can follow or ask; each maps a subject to one target (functional).
LINK_RELATIONS = {
    "located_in": "link", "born_in": "link", "founded_by": "link", "written_by": "link",
    "directed_by": "link", "performed_by": "link", "headquartered_in": "place",
    "married_to": "spouse", "studied_at": "school",
}
# The kind of entity each link relation leads to.
TARGET_KIND = {
    "located_in": "country", "born_in": "city", "headquartered_in": "city",
    "founded_by": "person", "written_by": "person", "directed_by": "person",
    "performed_by": "person", "married_to": "person", "studied_at": "university",
}
YEAR_RELATIONS = frozenset({"born_year", "founded_year", "published_year", "released_year"})
OPTIONAL_RELATIONS = ("married_to", "studied_at")

ORG_KINDS = ("university", "company", "studio", "label")
WORK_KINDS = ("book", "film", "album")
_ORG_RELATIONS = ("founded_by", "headquartered_in", "founded_year")
KIND_RELATIONS: dict[str, tuple[str, ...]] = {
    "country": (),
    "city": ("located_in",),
    "person": ("born_in", "born_year", "studied_at", "married_to"),
    **{kind: _ORG_RELATIONS for kind in ORG_KINDS},
    "book": ("written_by", "published_year"),
    "film": ("directed_by", "released_year"),
    "album": ("performed_by", "released_year"),
}

# Share of the world per kind; people take whatever the others leave.
_SHARES = (("country", 0.02), ("city", 0.13), ("university", 0.05), ("company", 0.07),
           ("studio", 0.04), ("label", 0.04), ("book", 0.11), ("film", 0.08), ("album", 0.08))
MIN_ENTITIES = 50
_TWIN_RATE = 0.15
_MAX_COUNTRIES = 600

_COUNTRY_SUFFIXES = ("ia", "a", "land", "mark", "", "istan")
_CITY_SPELLINGS = ("{}", "{}", "{}", "{}", "Port {}", "{} Falls", "Fort {}", "{} Crossing")
_ORG_SPELLINGS = {
    "university": ("{} University", "University of {}", "{} Institute of Technology",
                   "{} College"),
    "company": ("{} Industries", "{} & Co.", "{} Holdings", "{} Works", "{} Trading Company"),
    "studio": ("{} Pictures", "{} Studios", "{} Films"),
    "label": ("{} Records", "{} Music", "{} Sound"),
}
_TITLE_NOUNS = ("Glass", "River", "Garden", "Winter", "Lantern", "Crown", "Letters", "Harbour",
                "Orchard", "Mirror", "Silence", "Tide", "Ember", "Archive", "Bridge", "Voyage",
                "Summer", "Shadow", "Meadow", "Compass", "Ashes", "Signal", "Weaver", "Echo")
_WORK_SPELLINGS = {
    "book": ("The {n} of {w}", "{w}", "{w}'s {n}", "A {n} for {w}", "The {w} {n}"),
    "film": ("The {n} of {w}", "{w}", "Return to {w}", "{w} {n}", "Beyond {w}"),
    "album": ("{w}", "{n}s of {w}", "{w} {n}", "Songs from {w}", "{w} Nights"),
}


@dataclass(slots=True)
class Entity:
    """One thing in the world; integer fields point at other entities (-1: none)."""

    kind: str
    name: str
    year: int = 0  # birth, founding or release year; 0 for places
    link: int = -1  # city->country, person->birth city, org->founder, work->creator
    place: int = -1  # org -> headquarters city
    spouse: int = -1
    school: int = -1  # person -> university
    female: bool = False
    twin: int = -1  # the look-alike this one was spelled from
    doc: int = 0  # document number: its id is ``w{doc:06d}``


class EntityTable:
    """All entities of a world plus the relation look-ups questions are built from."""

    def __init__(self, entities: list[Entity]) -> None:
        self.entities = entities
        self.by_kind: dict[str, list[int]] = {}
        for i, e in enumerate(entities):
            self.by_kind.setdefault(e.kind, []).append(i)

    def __len__(self) -> int:
        return len(self.entities)

    def doc_id(self, i: int) -> str:
        """The stable document id of entity ``i``."""
        return f"w{self.entities[i].doc:06d}"

    def relations(self, i: int) -> list[str]:
        """The relations entity ``i`` actually has (optional ones only when present)."""
        e = self.entities[i]
        return [r for r in KIND_RELATIONS[e.kind] if self.has(i, r)]

    def has(self, i: int, relation: str) -> bool:
        """Whether the fact ``relation`` exists for entity ``i``."""
        if relation in YEAR_RELATIONS:
            return True
        return getattr(self.entities[i], LINK_RELATIONS[relation]) >= 0

    def target(self, i: int, relation: str) -> int | None:
        """The entity ``relation`` leads to from ``i``; None for years and missing facts."""
        if relation in YEAR_RELATIONS:
            return None
        t: int = getattr(self.entities[i], LINK_RELATIONS[relation])
        return t if t >= 0 else None

    def answer(self, i: int, relation: str) -> str:
        """The fact's value as text: the target's name or the year."""
        if relation in YEAR_RELATIONS:
            return str(self.entities[i].year)
        t = self.target(i, relation)
        if t is None:
            raise KeyError(f"{self.entities[i].name} has no {relation}")
        return self.entities[t].name


def _counts(n: int) -> dict[str, int]:
    counts = {kind: max(2, round(share * n)) for kind, share in _SHARES}
    counts["country"] = max(4, min(counts["country"], _MAX_COUNTRIES))
    counts["person"] = n - sum(counts.values())
    return counts


class _Builder:
    """Creates the entities kind by kind, adding look-alike twins as it goes."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.forge = NameForge(rng)
        self.entities: list[Entity] = []

    def add(self, entity: Entity) -> int:
        self.entities.append(entity)
        return len(self.entities) - 1

    def run(self, n: int) -> list[Entity]:
        counts = _counts(n)
        rng = self.rng
        countries = self._places("country", counts["country"], [])
        cities = self._places("city", counts["city"], countries)
        persons = self._persons(counts["person"], cities)
        orgs: dict[str, list[int]] = {
            k: self._orgs(k, counts[k], persons, cities) for k in ORG_KINDS
        }
        for kind in WORK_KINDS:
            self._works(kind, counts[kind], persons)
        self._schools(persons, orgs["university"])
        self._marriages(persons)
        order = list(range(len(self.entities)))
        rng.shuffle(order)  # ids must not reveal kinds or twins
        for doc, i in enumerate(order):
            self.entities[i].doc = doc
        return self.entities

    def _fill(self, count: int, make: Callable[[], tuple[int, Syllables]],
              twin: Callable[[int, Syllables], int | None]) -> list[int]:
        """Make ``count`` entities, each followed by a look-alike twin now and then."""
        out: list[int] = []
        while len(out) < count:
            i, sylls = make()
            out.append(i)
            if len(out) < count and self.rng.random() < _TWIN_RATE:
                j = twin(i, sylls)
                if j is not None:
                    out.append(j)
        return out

    def _places(self, kind: str, count: int, countries: list[int]) -> list[int]:
        rng, forge = self.rng, self.forge
        spelled: dict[int, str] = {}

        def make() -> tuple[int, Syllables]:
            while True:
                word, sylls = forge.word(pick(rng, (2, 2, 3)))
                if kind != "country":
                    spell = pick(rng, _CITY_SPELLINGS)
                    break
                suffix = pick(rng, _COUNTRY_SUFFIXES)
                if suffix and word[-1] in "aeiouy" and suffix[0] in "aeiou":
                    suffix = suffix[1:]  # "Kinsai" + "istan" reads as "Kinsaistan"
                spell = "{}" + suffix
                # A suffixed name must not be some other entity's word: reserve it too.
                if not suffix or forge.reserve(spell.format(word)):
                    break
            link = pick(rng, countries) if countries else -1
            i = self.add(Entity(kind, spell.format(word), link=link))
            spelled[i] = spell
            return i, sylls

        def twin(i: int, sylls: Syllables) -> int | None:
            got = forge.twin(sylls)
            name = spelled[i].format(got[0]) if got else ""
            if got is None or (kind == "country" and name != got[0] and not forge.reserve(name)):
                return None
            original = self.entities[i]
            link = -1
            if countries:  # a look-alike town in another country: the near miss
                others = [c for c in some(rng, countries, 3) if c != original.link]
                link = others[0] if others else original.link
            j = self.add(Entity(kind, name, link=link, twin=i))
            self.entities[i].twin = j
            return j

        return self._fill(count, make, twin)

    def _persons(self, count: int, cities: list[int]) -> list[int]:
        rng, forge = self.rng, self.forge
        first_names = [forge.word(2)[0] for _ in range(max(40, count // 150))]

        def make() -> tuple[int, Syllables]:
            surname, sylls = forge.word(pick(rng, (2, 2, 3)))
            name = f"{pick(rng, first_names)} {surname}"
            e = Entity("person", name, year=between(rng, 1780, 1995), link=pick(rng, cities),
                       female=rng.random() < 0.5)
            return self.add(e), sylls

        def twin(i: int, sylls: Syllables) -> int | None:
            got = forge.twin(sylls)
            if got is None:
                return None
            o = self.entities[i]
            # Born in the look-alike of the original's town when there is one: a near miss.
            city = self.entities[o.link].twin
            if city < 0:
                city = o.link if rng.random() < 0.5 else pick(rng, cities)
            first = o.name.split(" ", 1)[0]
            e = Entity("person", f"{first} {got[0]}", year=o.year + between(rng, -3, 3),
                       link=city, female=o.female, twin=i)
            j = self.add(e)
            o.twin = j
            return j

        return self._fill(count, make, twin)

    def _orgs(self, kind: str, count: int, persons: list[int], cities: list[int]) -> list[int]:
        rng, forge = self.rng, self.forge
        spelled: dict[int, str] = {}

        def founded(founder: int) -> int:
            return min(2022, self.entities[founder].year + between(rng, 22, 65))

        def make() -> tuple[int, Syllables]:
            word, sylls = forge.word(pick(rng, (2, 2, 3)))
            spell = pick(rng, _ORG_SPELLINGS[kind])
            founder = pick(rng, persons)
            e = Entity(kind, spell.format(word), year=founded(founder), link=founder,
                       place=pick(rng, cities))
            i = self.add(e)
            spelled[i] = spell
            return i, sylls

        def twin(i: int, sylls: Syllables) -> int | None:
            got = forge.twin(sylls)
            if got is None:
                return None
            o = self.entities[i]
            founder = pick(rng, persons)
            # Same founding year when the founder's age allows it: a shared attribute.
            year = o.year if o.year >= self.entities[founder].year + 20 else founded(founder)
            j = self.add(Entity(kind, spelled[i].format(got[0]), year=year, link=founder,
                                place=pick(rng, cities), twin=i))
            o.twin = j
            return j

        return self._fill(count, make, twin)

    def _works(self, kind: str, count: int, persons: list[int]) -> list[int]:
        rng, forge = self.rng, self.forge
        spelled: dict[int, tuple[str, str]] = {}

        def released(creator: int) -> int:
            return min(2024, self.entities[creator].year + between(rng, 18, 70))

        def make() -> tuple[int, Syllables]:
            word, sylls = forge.word(pick(rng, (2, 3)))
            spell, noun = pick(rng, _WORK_SPELLINGS[kind]), pick(rng, _TITLE_NOUNS)
            creator = pick(rng, persons)
            i = self.add(Entity(kind, spell.format(w=word, n=noun), year=released(creator),
                                link=creator))
            spelled[i] = (spell, noun)
            return i, sylls

        def twin(i: int, sylls: Syllables) -> int | None:
            got = forge.twin(sylls)
            if got is None:
                return None
            o = self.entities[i]
            spell, noun = spelled[i]
            creator = pick(rng, persons)
            j = self.add(Entity(kind, spell.format(w=got[0], n=noun), year=released(creator),
                                link=creator, twin=i))
            o.twin = j
            return j

        return self._fill(count, make, twin)

    def _schools(self, persons: list[int], universities: list[int]) -> None:
        rng, ents = self.rng, self.entities
        for p in persons:
            if rng.random() < 0.3:
                continue  # no higher education: an absent fact questions can ask about
            for u in (pick(rng, universities) for _ in range(3)):
                if ents[u].year <= ents[p].year + 25:
                    ents[p].school = u
                    break

    def _marriages(self, persons: list[int]) -> None:
        rng, ents = self.rng, self.entities
        married = rng.sample(persons, (len(persons) // 4) * 2)
        for a, b in zip(married[::2], married[1::2]):
            ents[a].spouse, ents[b].spouse = b, a


def build_entities(n_entities: int, rng: random.Random) -> EntityTable:
    """Create a world of exactly ``n_entities`` entities from ``rng``."""
    if n_entities < MIN_ENTITIES:
        raise ValueError(f"a world needs at least {MIN_ENTITIES} entities")
    return EntityTable(_Builder(rng).run(n_entities))
