"""One document per entity, written from varied templates (2-6 sentences, name in the title).

A document states only its subject's own facts (see ``entities``), plus filler and passing
mentions of unrelated entities (a film's cast, an album's producer) that act as distractors.
"""

from __future__ import annotations

import random

from .draw import between, pick, some
from .entities import Entity, EntityTable

_OCCUPATIONS = ("painter", "engineer", "cartographer", "composer", "historian", "architect",
                "chemist", "novelist", "photographer", "economist", "stage actor", "surveyor",
                "botanist", "journalist", "shipbuilder", "violinist", "mathematician", "lawyer")
_BIRTH = (
    "{name} was {a_occ} born in {city} in {year}.",
    "{name} (born {year}) is {a_occ} who was born in {city}.",
    "Born in {city} in {year}, {name} became {a_occ}.",
    "{name} is {a_occ}. {He} was born in {year} in {city}.",
    "{name} was born in {city}. {His} year of birth was {year}, and {he} later worked as {a_occ}.",
    "{name} was {a_occ} from {city}, where {he} was born in {year}.",
)
_SCHOOL = ("{He} studied at {school}.", "{He} was educated at {school}.",
           "{name} graduated from {school}.", "As a young adult {he} studied at {school}.")
_SPOUSE = ("{He} was married to {spouse}.", "{name} married {spouse}.",
           "{His} spouse was {spouse}.", "{He} later married {spouse}.")
_PERSON_FILLER = (
    "{He} was known for {trait}.", "{His} letters were later collected by a regional archive.",
    "Colleagues remembered {him} as {manner}.", "{He} travelled widely as a young {occ}.",
    "{He} spoke {count} languages.", "{His} early work attracted little attention.",
)
_TRAITS = ("a meticulous attention to detail", "long walks along the coast",
           "an extensive collection of maps", "lively public lectures", "a quiet, private manner",
           "a habit of rewriting everything twice")
_MANNERS = ("patient and exacting", "generous with time", "difficult but brilliant",
            "cheerful and restless")
_COUNTS = ("three", "four", "five", "two")

_CITY = ("{name} is a city in {country}.", "{name} is a {size} town in {country}.",
         "{name} lies in {country}.", "The city of {name} is located in {country}.",
         "{name} is a {size} city in the country of {country}.")
_SIZES = ("small", "large", "busy", "quiet", "coastal", "hillside", "mid-sized")
_CITY_FILLER = (
    "It sits on a wide river delta.", "It is known for its {industry}.",
    "Its old quarter is built around a covered market.",
    "The town has about {pop},000 inhabitants.", "A railway line connects it with the coast.",
    "Its main square is lined with {tree} trees.", "Every autumn it hosts a {fest} festival.",
)
_INDUSTRIES = ("textile mills", "shipyards", "glassworks", "vineyards", "printing houses",
               "salt pans", "copper mines", "clockmakers")
_TREES = ("lime", "chestnut", "plane", "cypress", "walnut")
_FESTS = ("lantern", "harvest", "music", "kite", "boat")

_COUNTRY = ("{name} is a country {geo}.", "{name} is a {gov} {geo}.",
            "The {gov} of {name} lies {geo2}.")
_GEO = ("with a long northern coastline", "in a mountainous interior",
        "made up of several islands", "bordered by wide plains")
_GEO2 = ("along a long northern coastline", "in a mountainous interior",
         "across several islands", "on wide inland plains")
_GOVS = ("republic", "kingdom", "federation", "principality")
_COUNTRY_FILLER = (
    "Its economy relies on {industry}.", "It has a population of about {pop} million.",
    "Its parliament meets in a converted {building}.", "The national flag shows a {color} {symbol}.",
)
_BUILDINGS = ("railway station", "granary", "monastery", "opera house")
_COLORS = ("red", "green", "white", "blue", "golden", "black")
_SYMBOLS = ("star", "heron", "wheel", "oak leaf", "crescent", "tower")

_ORG_DESC = {
    "university": ("private research university", "public university", "small college",
                   "technical university"),
    "company": ("trading company", "shipping company", "textile company",
                "manufacturer of precision instruments", "brewing company"),
    "studio": ("film studio", "independent production company", "animation studio"),
    "label": ("record label", "independent music label", "jazz label"),
}
_FOUNDING = ("{name} is {a_desc} founded by {founder} in {year}.",
             "{name} was founded in {year} by {founder}.",
             "{founder} founded {name} in {year}.",
             "{name} is {a_desc}. It was established in {year} by {founder}.")
_HEADQUARTERS = ("It is headquartered in {city}.", "Its headquarters are in {city}.",
                 "{name} is based in {city}.", "It has its main offices in {city}.")
_ORG_FILLER = {
    "university": ("It is known for its {field} faculty.", "It enrols about {pop},000 students."),
    "company": ("It employs about {pop},000 people.", "Its best-known product is a line of {product}."),
    "studio": ("It produced {count} feature films in its first decade.",
               "Its backlot covers several hectares."),
    "label": ("It specialises in {genre} music.", "Its catalogue runs to {count} hundred records."),
}
_ORG_COMMON = ("Its logo shows a {color} {symbol}.", "It went through a difficult decade of debt.")
_FIELDS = ("law", "medicine", "engineering", "music", "agriculture", "philosophy")
_PRODUCTS = ("barometers", "bicycles", "typewriters", "lamps", "pocket watches")

_WORK = {
    "book": ("{name} is {a_genre} novel by {creator}, published in {year}.",
             "{name} is a book written by {creator} and first published in {year}.",
             "Published in {year}, {name} is {a_genre} novel by {creator}.",
             "{creator} wrote {name}, which appeared in {year}."),
    "film": ("{name} is a {year} {genre} film directed by {creator}.",
             "{name} was directed by {creator} and released in {year}.",
             "Released in {year}, {name} is {a_genre} film by director {creator}.",
             "{creator} directed the {genre} film {name}, which came out in {year}."),
    "album": ("{name} is {a_genre} album by {creator}, released in {year}.",
              "{name} was recorded by {creator} and released in {year}.",
              "{creator} released the album {name} in {year}.",
              "Released in {year}, {name} is {a_genre} album performed by {creator}."),
}
_WORK_FILLER = {
    "book": ("It follows {count} generations of a family of {trade}.",
             "Critics praised its {quality} prose.", "It was translated into {count} languages."),
    "film": ("It stars {other} and {other2}.", "It runs for about {pop}0 minutes.",
             "It was shot on location in {place}."),
    "album": ("It contains {count} tracks.", "The album was produced by {other}.",
              "It was recorded over {count} weeks in {place}."),
}
_GENRES = {"book": ("historical", "crime", "comic", "epistolary", "adventure"),
           "film": ("drama", "comedy", "thriller", "musical", "war"),
           "album": ("folk", "jazz", "rock", "choral", "electronic")}
_TRADES = ("ferrymen", "glassblowers", "bakers", "lighthouse keepers", "weavers")
_QUALITIES = ("spare", "lyrical", "dense", "playful")


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _person(t: EntityTable, e: Entity, rng: random.Random) -> list[str]:
    ents = t.entities
    occ = pick(rng, _OCCUPATIONS)
    words = {
        "name": e.name, "city": ents[e.link].name, "year": e.year, "occ": occ, "a_occ": _a(occ),
        "He": "She" if e.female else "He",
        "he": "she" if e.female else "he", "His": "Her" if e.female else "His",
        "him": "her" if e.female else "him", "trait": pick(rng, _TRAITS),
        "manner": pick(rng, _MANNERS), "count": pick(rng, _COUNTS),
    }
    facts = []
    if e.school >= 0:
        facts.append(pick(rng, _SCHOOL).format(school=ents[e.school].name, **words))
    if e.spouse >= 0:
        facts.append(pick(rng, _SPOUSE).format(spouse=ents[e.spouse].name, **words))
    fillers = [f.format(**words) for f in some(rng, _PERSON_FILLER, between(rng, 1 - min(1, len(facts)), 2))]
    rest = facts + fillers
    rng.shuffle(rest)
    return [pick(rng, _BIRTH).format(**words), *rest]


def _place(t: EntityTable, e: Entity, rng: random.Random) -> list[str]:
    words = {"name": e.name, "size": pick(rng, _SIZES), "industry": pick(rng, _INDUSTRIES),
             "pop": between(rng, 2, 90), "tree": pick(rng, _TREES), "fest": pick(rng, _FESTS),
             "geo": pick(rng, _GEO), "geo2": pick(rng, _GEO2), "gov": pick(rng, _GOVS),
             "building": pick(rng, _BUILDINGS), "color": pick(rng, _COLORS),
             "symbol": pick(rng, _SYMBOLS)}
    if e.kind == "city":
        head = pick(rng, _CITY).format(country=t.entities[e.link].name, **words)
        return [head, *(f.format(**words) for f in some(rng, _CITY_FILLER, between(rng, 1, 3)))]
    head = pick(rng, _COUNTRY).format(**words)
    return [head, *(f.format(**words) for f in some(rng, _COUNTRY_FILLER, between(rng, 1, 3)))]


def _org(t: EntityTable, e: Entity, rng: random.Random) -> list[str]:
    ents = t.entities
    desc = pick(rng, _ORG_DESC[e.kind])
    words = {"name": e.name, "desc": desc, "a_desc": _a(desc), "year": e.year,
             "founder": ents[e.link].name, "city": ents[e.place].name,
             "field": pick(rng, _FIELDS), "pop": between(rng, 2, 40),
             "product": pick(rng, _PRODUCTS), "count": pick(rng, _COUNTS),
             "genre": pick(rng, _GENRES["album"]), "color": pick(rng, _COLORS),
             "symbol": pick(rng, _SYMBOLS)}
    sentences = [pick(rng, _FOUNDING).format(**words), pick(rng, _HEADQUARTERS).format(**words)]
    fillers = some(rng, _ORG_FILLER[e.kind] + _ORG_COMMON, between(rng, 0, 2))
    return sentences + [f.format(**words) for f in fillers]


def _work(t: EntityTable, e: Entity, rng: random.Random) -> list[str]:
    ents = t.entities
    people = t.by_kind["person"]
    genre = pick(rng, _GENRES[e.kind])
    words = {"name": e.name, "creator": ents[e.link].name, "year": e.year, "genre": genre,
             "a_genre": _a(genre), "count": pick(rng, _COUNTS),
             "trade": pick(rng, _TRADES), "quality": pick(rng, _QUALITIES),
             "pop": between(rng, 8, 16), "other": ents[pick(rng, people)].name,
             "other2": ents[pick(rng, people)].name,
             "place": ents[pick(rng, t.by_kind["city"])].name}
    fillers = some(rng, _WORK_FILLER[e.kind], between(rng, 1, 3))
    return [pick(rng, _WORK[e.kind]).format(**words), *(f.format(**words) for f in fillers)]


_RENDERERS = {"person": _person, "city": _place, "country": _place, "university": _org,
              "company": _org, "studio": _org, "label": _org, "book": _work, "film": _work,
              "album": _work}


def render_document(table: EntityTable, i: int, rng: random.Random) -> tuple[str, str]:
    """The (title, text) of entity ``i``'s document, drawn with ``rng``."""
    e = table.entities[i]
    return e.name, " ".join(_RENDERERS[e.kind](table, e, rng))


#: How a document states each fact: relation -> (sentence templates, the field that holds
#: the fact's value). Readers of the world (the scripted reader in ``reader``) parse
#: documents with these, so the wording has one source.
FACT_SENTENCES: dict[str, tuple[tuple[str, ...], str]] = {
    "born_in": (_BIRTH, "city"),
    "born_year": (_BIRTH, "year"),
    "studied_at": (_SCHOOL, "school"),
    "married_to": (_SPOUSE, "spouse"),
    "located_in": (_CITY, "country"),
    "founded_by": (_FOUNDING, "founder"),
    "founded_year": (_FOUNDING, "year"),
    "headquartered_in": (_HEADQUARTERS, "city"),
    "written_by": (_WORK["book"], "creator"),
    "published_year": (_WORK["book"], "year"),
    "directed_by": (_WORK["film"], "creator"),
    "performed_by": (_WORK["album"], "creator"),
    "released_year": (_WORK["film"] + _WORK["album"], "year"),
}
