"""Text analysis shared by the index builder and the searcher (French first, English second).

tantivy analysers (registered on every index, also called from Python so that index and query agree):

* ``smt_fold`` — words split on anything not a letter or digit (hyphens, apostrophes, dots), lower-cased,
  ASCII-folded (é→e, œ→oe, ç→c, ß→ss). The ``plain`` field: whole words, phrases, typo tolerance.
* ``smt_grams`` — 3- to 12-letter prefixes of each (already folded) word: the ``grams``, ``head`` and ``mid``
  fields, so that a word prefix is one term lookup.
* ``smt_fr`` / ``smt_en`` — ``smt_fold`` + stop words + Snowball French / English stemmer, applied word by
  word for the exact-term key and the prefix a query word is matched on ("cardiaques" → "cardiaqu").

Stemming runs after folding so that "diabète" and "diabete" give the same stem. Elisions and English
possessives are removed from queries in Python (tantivy-py has no elision filter); in indexed terms the letter
left by the tokenizer is a stop word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import tantivy

FOLD = "smt_fold"
FRENCH = "smt_fr"
ENGLISH = "smt_en"
GRAMS = "smt_grams"
MIN_GRAM, MAX_GRAM = 3, 12
"""Indexed word prefixes: 3 to 12 letters of every word but stop words. A one-letter query word must be a
whole word ("type 2", "vitamine D"); a two-letter one is expanded on the indexed words at query time; a
longer one is matched on its first 12 letters, the exact-word bonus then favours the word itself."""

STEMMED_LANGUAGES = ("fr", "en")
"""Languages with a stemmed field; other languages are matched on folded words only."""

FRENCH_STOP_WORDS = frozenset((
    "a", "au", "aux", "avec", "c", "chez", "d", "dans", "de", "des", "du", "en", "et", "j", "jusqu", "l", "la",
    "le", "les", "lorsqu", "m", "n", "ou", "par", "pour", "puisqu", "qu", "quoiqu", "s", "sur", "t", "un", "une",
))
"""Folded French stop words: articles, prepositions, conjunctions and what elision leaves (l', d', qu'…).

Negations and qualifiers ("sans", "non", "autre") are kept, they change what a term means; so are pronouns
and demonstratives ("ce" is also the abbreviation of "corps étranger").
"""

ENGLISH_STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "of", "on",
    "or", "s", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will",
    "with",
))
"""Lucene's English stop words without the negations "no" and "not", plus the "s" of possessives."""

ENGLISH_QUERY_STOP_WORDS = frozenset((
    "an", "and", "are", "at", "by", "for", "in", "is", "of", "on", "or", "the", "to", "with",
))
"""English words that are optional in a query (kept small: "as", "it", "be"… can be French words)."""

STOP_WORDS = FRENCH_STOP_WORDS | ENGLISH_QUERY_STOP_WORDS

_APOSTROPHES = ("’", "ʼ", "`", "´", "‘")
_ELISION = re.compile(r"\b(?:jusqu|lorsqu|puisqu|quoiqu|qu|[cdjlmnst])'(?=\w)", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?<=\w)'s\b", re.IGNORECASE)
_COMPOUND = re.compile(r"[^\W_]+(?:-[^\W_]+)+")


def _builder() -> tantivy.TextAnalyzerBuilder:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold()))


def _analyzers() -> dict[str, tantivy.TextAnalyzer]:
    grams = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(MIN_GRAM, MAX_GRAM, True)).build()
    return {
        GRAMS: grams,
        FOLD: _builder().build(),
        FRENCH: _builder().filter(tantivy.Filter.custom_stopword(sorted(FRENCH_STOP_WORDS)))
        .filter(tantivy.Filter.stemmer("french")).build(),
        ENGLISH: _builder().filter(tantivy.Filter.custom_stopword(sorted(ENGLISH_STOP_WORDS)))
        .filter(tantivy.Filter.stemmer("english")).build(),
    }


_ANALYZERS = _analyzers()


def analyzers() -> dict[str, tantivy.TextAnalyzer]:
    """The analysers, by the tokenizer name the index schema refers to."""
    return _ANALYZERS


def register(index: tantivy.Index) -> None:
    """Register the analysers on an index (needed after every ``Index`` creation or ``Index.open``)."""
    for name, analyzer in analyzers().items():
        index.register_tokenizer(name, analyzer)


def primary_language(language: str | None, default: str = "fr") -> str:
    """``fr-FR`` → ``fr``; missing → the release language."""
    return (language or default or "fr").split("-")[0].split("_")[0].lower()


def prepare(text: str) -> str:
    """Normalise Unicode and apostrophes, drop French elisions (l', d', qu'…) and English possessives."""
    text = unicodedata.normalize("NFC", text)
    for apostrophe in _APOSTROPHES:
        if apostrophe in text:
            text = text.replace(apostrophe, "'")
    if "'" in text:
        text = _POSSESSIVE.sub("", _ELISION.sub("", text))
    return text


@lru_cache(maxsize=100_000)
def fold(word: str) -> str:
    """A single word folded like ``smt_fold`` does ("Fémur" → "femur", "Cœur" → "coeur")."""
    return "".join(_ANALYZERS[FOLD].analyze(word))


_STEMS: dict[str, dict[str, str | None]] = {"fr": {}, "en": {}}


def stem(word: str, language: str) -> str | None:
    """Stem of one folded word in ``language`` ("fr"/"en"), or None for a stop word of that language."""
    cache = _STEMS[language]
    found = cache.get(word, "")
    if found == "":
        found = cache[word] = "".join(_ANALYZERS[FRENCH if language == "fr" else ENGLISH].analyze(word)) or None
    return found


def index_words(text: str) -> list[str]:
    """Folded words of a designation (elided letters included)."""
    return _ANALYZERS[FOLD].analyze(text)


def gram_words(words: list[str]) -> list[str]:
    """The words whose prefixes are indexed: distinct, stop words and words under 3 letters left out."""
    return [w for w in dict.fromkeys(words) if len(w) >= MIN_GRAM and w not in STOP_WORDS]


def words(text: str) -> list[str]:
    """Folded words of a text, after elision removal (the unit of counting and highlighting)."""
    return _ANALYZERS[FOLD].analyze(prepare(text))


def compounds(text: str, words: list[str]) -> list[str]:
    """Extra words indexed with a term (``words``, its folded words): hyphenated words and dotted acronyms
    written as one word and folded like ``words`` ("insulino-dépendant" → "insulinodependant"; "G.E.U." → "geu",
    "T.M. du sein" → "tm").
    """
    found = [fold(c.replace("-", "")) for c in _COMPOUND.findall(text)] if "-" in text else []
    if "." in text:
        run: list[str] = []
        for word in [*words, ""]:
            if len(word) == 1 and word.isalpha():
                run.append(word)
                continue
            if len(run) >= 2:
                found.append("".join(run))
            run = []
    return found


def fuzzy_distance(word: str) -> int:
    """Edit distance tolerated for a query word in the fuzzy pass: none under 4 letters, 1 up to 7, then 2."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


def is_stop(word: str) -> bool:
    """Stop word of a query: optional (a bonus when present), never required."""
    return word in STOP_WORDS


def term_key(text: str, language: str, words: list[str] | None = None) -> str:
    """Order-free key of a term: its sorted distinct stems without stop words.

    Two texts with the same key are the same term for ranking ("fracture du col du fémur" = "fracture col
    femur" = "Fracture du col du fémur"). Elided letters need no special care: the tokenizer splits "l'artère"
    at the apostrophe and "l" is a stop word. Languages without a stemmer use folded words. ``words`` are the
    text's ``index_words`` when the caller has them already.
    """
    words = index_words(text) if words is None else words
    content = set(words) - STOP_WORDS
    if language in STEMMED_LANGUAGES:
        cache, stems = _STEMS[language], set()
        for word in content:
            found = cache.get(word, "")
            if found == "":
                found = stem(word, language)
            if found:
                stems.add(found)
        content = stems
    return " ".join(sorted(content or set(words)))


@dataclass(frozen=True, slots=True)
class QueryWord:
    """One word of a query: folded form, position in the query, stop-word flag and stems."""

    text: str
    position: int
    stop: bool
    stems: dict[str, str]

    @property
    def prefix(self) -> str:
        """What a term word must start with: the longest prefix the word shares with its stems.

        "cardiaques" → "cardiaqu" (matches cardiaque, cardiaques), "hôpitaux" → "hopita" (hôpital), "fract" →
        "fract" (fracture): plurals, inflections and unfinished words in one term of the ``grams`` field.
        """
        prefix = self.text
        for stem in self.stems.values():
            common = 0
            for a, b in zip(prefix, stem, strict=False):
                if a != b:
                    break
                common += 1
            if common >= min(3, len(prefix)):
                prefix = prefix[:common]
        return prefix[:MAX_GRAM]


def query_words(text: str) -> list[QueryWord]:
    """Analyse a query into words. When every word is a stop word, none is treated as one."""
    folded = words(text)
    all_stop = all(is_stop(w) for w in folded)
    result = []
    for position, word in enumerate(folded):
        stop = is_stop(word) and not all_stop
        stems = {} if stop else {lang: s for lang in STEMMED_LANGUAGES if (s := stem(word, lang))}
        result.append(QueryWord(word, position, stop, stems))
    return result
