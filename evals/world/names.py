"""Fictional names built from syllables, so no language model can know the facts behind them.

Every word is unique within a world; a *twin* differs from its original by one letter group of
one syllable (``Velmora`` / ``Velmura``), which gives the look-alike distractors.
"""

from __future__ import annotations

import random

from .draw import pick

# Kept short and pronounceable (repeats weight the draw towards plain letters); long
# clusters make names that read as noise.
_ONSETS = ("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
           "b", "d", "k", "l", "m", "n", "r", "s", "t", "v",
           "br", "dr", "gr", "kr", "tr", "th", "st", "sh")
_NUCLEI = ("a", "e", "i", "o", "u", "a", "e", "i", "o", "a", "ai", "ea", "ou", "y")
_CODAS = ("", "", "", "", "", "", "n", "r", "l", "s", "m", "n", "r", "nd", "rn", "th")
_SYLLABLES: tuple[tuple[str, str, str], ...] = tuple(
    (o, n, c) for o in _ONSETS for n in _NUCLEI for c in _CODAS
)
_PARTS = tuple(tuple(dict.fromkeys(p)) for p in (_ONSETS, _NUCLEI, _CODAS))

Syllables = tuple[tuple[str, str, str], ...]


def render(syllables: Syllables) -> str:
    """Spell a syllable sequence as a capitalised word."""
    return "".join(o + n + c for o, n, c in syllables).capitalize()


class NameForge:
    """Draws unique fictional words from a seeded generator and spells look-alike twins."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._taken: set[str] = set()

    def reserve(self, name: str) -> bool:
        """Claim a full name; False when the world already uses it (case-insensitively)."""
        key = name.lower()
        if key in self._taken:
            return False
        self._taken.add(key)
        return True

    def word(self, n_syllables: int) -> tuple[str, Syllables]:
        """A new unique word of ``n_syllables`` syllables, with its syllables (for twinning)."""
        rng = self._rng
        tries = 0
        while True:
            sylls = tuple(pick(rng, _SYLLABLES) for _ in range(n_syllables))
            text = render(sylls)
            if len(text) >= 4 and self.reserve(text):
                return text, sylls
            tries += 1
            if tries % 8 == 0:  # short words run out in big worlds: go one syllable longer
                n_syllables += 1

    def free_word(self, n_syllables: int) -> tuple[str, Syllables]:
        """A word that is not reserved (first names, which many people share)."""
        sylls = tuple(pick(self._rng, _SYLLABLES) for _ in range(n_syllables))
        return render(sylls), sylls

    def twin(self, syllables: Syllables) -> tuple[str, Syllables] | None:
        """A reserved look-alike of ``syllables`` (one part of one syllable changed), or None."""
        rng = self._rng
        for _ in range(12):
            i = int(rng.random() * len(syllables))
            part = int(rng.random() * 3)
            syl = list(syllables[i])
            choice = pick(rng, _PARTS[part])
            if choice == syl[part]:
                continue
            syl[part] = choice
            new: Syllables = (*syllables[:i], (syl[0], syl[1], syl[2]), *syllables[i + 1:])
            text = render(new)
            if len(text) >= 4 and self.reserve(text):
                return text, new
        return None
