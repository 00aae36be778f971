"""French medical abbreviations and everyday words expanded at query time ("HTA" → "hypertension artérielle",
"crise cardiaque" → "infarctus du myocarde").

Two dictionaries next to this module, same format: ``abbreviations_fr.tsv`` (abbreviations) and
``synonyms_fr.tsv`` (everyday wordings of diseases and symptoms). Each line: key, expansions separated by ``|``
(for an abbreviation the first is the meaning; the others are the wordings CIM-10 / CISP-2 / NOS labels use),
optional note. Keys are compared folded (case, accents) and without dots ("H.T.A." = "hta"); a key may be
several words, stop words included ("AVC ischémique", "sucre dans le sang"), the longest key starting at a query
word wins; a key listed twice, in one file or in both, is an error. Nothing is indexed: existing search indexes
keep working, and an entry added to a file is used by the next process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from smt.search import analysis

DICTIONARY = Path(__file__).with_name("abbreviations_fr.tsv")
SYNONYMS = Path(__file__).with_name("synonyms_fr.tsv")
DICTIONARIES = (DICTIONARY, SYNONYMS)
"""The files read by ``dictionary``: abbreviations, then everyday words."""
HEADERS = ("abbreviation\t", "term\t")
MAX_KEY_WORDS = 4
_DOTTED = re.compile(r"(?<![^\W\d_])(?:[^\W\d_]\.)+[^\W\d_](?![^\W\d_])\.?")
"""A dotted acronym of two letters or more: "H.T.A.", "h.t.a", "G.E.U."."""


@dataclass(frozen=True, slots=True)
class Abbreviation:
    """One entry: the folded key words, the expansions (as written) and a note."""

    key: tuple[str, ...]
    text: str
    expansions: tuple[str, ...]
    note: str = ""


def key_words(text: str) -> tuple[str, ...]:
    """Folded words of an abbreviation or a query span, dotted acronyms joined ("H.T.A." → ("hta",))."""
    return tuple(analysis.words(join_dotted(text)))


def join_dotted(text: str) -> str:
    """Dotted acronyms written as one word ("H.T.A. gravidique" → "HTA gravidique")."""
    return _DOTTED.sub(lambda m: m.group().replace(".", ""), text) if "." in text else text


def parse(lines: list[str], name: str = DICTIONARY.name,
          entries: dict[tuple[str, ...], Abbreviation] | None = None) -> dict[tuple[str, ...], Abbreviation]:
    """Entries of a dictionary file's lines (a header line, ``#`` comments and blank lines are skipped), added to
    ``entries`` (the entries of the files read before: a key may not be listed twice)."""
    entries = {} if entries is None else entries
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#") or line.startswith(HEADERS):
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) < 2:
            raise ValueError(f"{name}:{number}: expected key<TAB>expansions[<TAB>note]")
        key = key_words(fields[0])
        expansions = tuple(e.strip() for e in fields[1].split("|") if e.strip())
        if not key or len(key) > MAX_KEY_WORDS or not expansions:
            raise ValueError(f"{name}:{number}: bad entry {fields[0]!r}")
        if key in entries:
            raise ValueError(f"{name}:{number}: {fields[0]!r} is already listed")
        entries[key] = Abbreviation(key, fields[0].strip(), expansions, fields[2].strip() if len(fields) > 2 else "")
    return entries


@lru_cache(maxsize=1)
def dictionary() -> dict[tuple[str, ...], Abbreviation]:
    """The abbreviations and everyday words of ``DICTIONARIES``, by folded key words (read once per process)."""
    entries: dict[tuple[str, ...], Abbreviation] = {}
    for path in DICTIONARIES:
        parse(path.read_text(encoding="utf-8").splitlines(), path.name, entries)
    return entries


def find(words: list[str]) -> list[tuple[int, int, Abbreviation]]:
    """Abbreviations in a list of folded query words: ``(start, end, entry)``, longest key first, no overlap."""
    entries = dictionary()
    found: list[tuple[int, int, Abbreviation]] = []
    start = 0
    while start < len(words):
        for size in range(min(MAX_KEY_WORDS, len(words) - start), 0, -1):
            entry = entries.get(tuple(words[start:start + size]))
            if entry is not None:
                found.append((start, start + size, entry))
                start += size
                break
        else:
            start += 1
    return found


@lru_cache(maxsize=1)
def _first_words() -> frozenset[str]:
    return frozenset(key[0] for key in dictionary())


def join_known_dotted(text: str) -> str:
    """Dotted acronyms that are known abbreviations written as one word ("H.T.A." → "HTA"); others unchanged."""
    if "." not in text:
        return text

    def join(found: re.Match[str]) -> str:
        joined = found.group().replace(".", "")
        return joined if analysis.fold(joined) in _first_words() else found.group()

    return _DOTTED.sub(join, text)
