"""Known place names: countries and first-level regions (states, provinces).

"Which country ..." is answered by a country. A gazetteer from ISO 3166
(``pycountry``: current and historic countries, and their subdivisions) lets the
candidate scorer prefer spans that are the kind of place asked for, in code, where
a weak reader cannot tell "Zimbabwe" from "Matabeleland South".
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["is_continent", "is_country", "is_region", "looks_demonym", "place_kind"]

# Everyday names that ISO spells differently, and former states that texts still name.
_COUNTRY_ALIASES = (
    "United States", "U.S.", "US", "USA", "U.S.A.", "America", "United States of America",
    "UK", "U.K.", "Britain", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland",
    "Russia", "Soviet Union", "USSR", "Iran", "Syria", "South Korea", "North Korea", "Korea",
    "Vietnam", "Laos", "Bolivia", "Venezuela", "Tanzania", "Moldova", "Taiwan", "Czech Republic",
    "Czechoslovakia", "Yugoslavia", "East Germany", "West Germany", "Prussia", "Ottoman Empire",
    "Holland", "Burma", "Ivory Coast", "Macedonia", "Vatican City", "Palestine", "Kosovo",
    "Republic of Ireland", "People's Republic of China", "Republic of China", "Roman Empire",
    "Byzantine Empire", "Austria-Hungary", "Persia", "Siam", "Ceylon", "Zaire", "Rhodesia",
)
_STATE_TYPES = {"State", "Province", "Region", "Autonomous community", "Land", "Territory",
                "Oblast", "Prefecture", "Country", "Republic", "Canton", "Emirate",
                "Governorate", "Department", "Federal district", "Autonomous region"}


def _key(name: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", "", name.lower().removeprefix("the ")).split())


def _swap(name: str) -> str:
    # ISO writes "Korea, Republic of" and "Iran, Islamic Republic of".
    if ", " in name:
        head, tail = name.split(", ", 1)
        return f"{tail} {head}"
    return name


@cache
def _countries() -> frozenset[str]:
    import pycountry

    names: set[str] = set(_COUNTRY_ALIASES)
    for c in list(pycountry.countries) + list(pycountry.historic_countries):
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value:
                names |= {value, _swap(value), value.split(",")[0]}
    return frozenset(_key(n) for n in names if n)


@cache
def _regions() -> frozenset[str]:
    import pycountry

    return frozenset(_key(s.name) for s in pycountry.subdivisions if s.type in _STATE_TYPES)


def is_country(span: str) -> bool:
    """True when ``span`` names a country (current or former)."""
    return _key(span) in _countries()


_CONTINENTS = frozenset(("africa", "antarctica", "asia", "australia", "europe", "north america",
                         "south america", "oceania", "australasia", "eurasia"))


def is_continent(span: str) -> bool:
    """True when ``span`` names a continent."""
    return _key(span) in _CONTINENTS


def is_region(span: str) -> bool:
    """True when ``span`` names a state, province or similar first-level region."""
    return _key(span) in _regions()


# "American", "Croatian", "Chinese": adjectives of a people, which the name extractor
# takes for names.
_DEMONYM = re.compile(r"[A-Z][a-z]+(?:ian|ean|an|ese|ish|ic|i)")


def looks_demonym(word: str) -> bool:
    """True when ``word`` is shaped like a people's adjective ("Croatian", "Chinese");
    a place name may look like one too ("Rogenistan"): callers check the gazetteer."""
    return bool(_DEMONYM.fullmatch(word))


def place_kind(noun: str) -> str | None:
    """Which gazetteer answers a question asking for ``noun``: "country", "region" or None."""
    noun = noun.lower()
    if noun in {"country", "nation", "countries"}:
        return "country"
    if noun in {"state", "province", "states", "provinces"}:
        return "region"
    if noun in {"continent", "continents"}:
        return "continent"
    return None
