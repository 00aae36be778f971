"""Build the full-text index of one code system release (a tantivy index inside the release folder).

One document per distinct term of a concept: its display and every other designation (synonyms, short/long
labels, other languages). Each document carries the concept's ordinal in the release (the id of the compiled
index, whose closure table serves the ``within`` filter), its code, status and the term's language. The folder
holds no absolute path, so it moves with the release folder; ``smt-search.json`` records its format, the release (URL
and version), its language and sizes.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import orjson
import tantivy

from smt.model import CodeSystemRelease, Concept
from smt.progress import NO_PHASE, Phase, counted
from smt.search import FORMAT_VERSION, analysis

META = "smt-search.json"
BREVITY_MAX = 0.002
"""Largest brevity bonus in ``weight``: shorter terms win ties, never a ranking tier."""
PREFERRED_WEIGHT = 2.0
"""Added to ``weight`` for a concept's display: tantivy multiplies scores by log2(2 + weight), so ×2."""
TIERS = (("head", 3), ("mid", 6))
"""Short-term tiers: terms of at most 3 (``head``) or 6 (``mid``) distinct words, stop words aside, are also
indexed in that tier's field; very broad and misspelt queries are ranked there first (see ``smt.search.query``).
"""

_CODE_NOISE = re.compile(r"[\s.]")


def code_key(code: str) -> str:
    """Code as matched by search: upper case, no dots or spaces ("e11.9", "E119" → "E119")."""
    return _CODE_NOISE.sub("", code).upper()


def schema() -> tantivy.Schema:
    """Fields of a search index (see docs/search.md)."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("code_key", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("concept", indexed=True, fast=True)
    builder.add_text_field("plain", stored=True, tokenizer_name=analysis.FOLD)
    builder.add_text_field("grams", tokenizer_name=analysis.GRAMS, index_option="basic")
    for tier, _ in TIERS:
        builder.add_text_field(tier, tokenizer_name=analysis.GRAMS, index_option="basic")
    builder.add_text_field("tier", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("key", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("lang", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_boolean_field("active", indexed=True)
    builder.add_float_field("weight", fast=True)
    return builder.build()


def weight(term: str, preferred: bool, words: int) -> float:
    """Static weight of a term of ``words`` words: 2 for a display, plus a brevity bonus (fewer words, then
    fewer characters)."""
    brevity = BREVITY_MAX / ((words or 1) + len(term) / 1000)
    return brevity + (PREFERRED_WEIGHT if preferred else 0.0)


def concept_terms(concept: Concept, default_language: str) -> Iterator[tuple[str, str, bool]]:
    """Distinct (term, language, preferred) of a concept: the display first, then its active designations.

    An inactive designation (a retired SNOMED CT description) is not a valid term for the concept any more:
    it stays on the concept (``$lookup``, ``$validate-code`` warn about it) but is not searchable.
    """
    display = (concept.display or "").strip()
    seen = {(display.casefold(), default_language)}
    if display:
        yield display, default_language, True
    for designation in concept.designations:
        if not designation.active:
            continue
        value = (designation.value or "").strip()
        language = _language(designation.language, default_language)
        marker = (value.casefold(), language)
        if value and marker not in seen:
            seen.add(marker)
            yield value, language, value == display


@lru_cache(maxsize=256)
def _language(language: str | None, default: str) -> str:
    return analysis.primary_language(language, default)


def _document(number: int, code: str, term: str, language: str, pref: bool, active: bool) -> str:
    """One index document as JSON (``IndexWriter.add_json`` is several times faster than ``Document``)."""
    words = analysis.index_words(term)
    extra = analysis.compounds(term, words)
    fields: dict[str, object] = {
        "code_key": code, "concept": number, "plain": [term, *extra], "grams": analysis.gram_words(words + extra),
        "lang": language, "active": active, "weight": weight(term, pref, len(words)),
    }
    size = len(set(words) - analysis.STOP_WORDS)
    tiers = [tier for tier, most in TIERS if size <= most]
    if tiers:  # longer terms cannot equal a query: queries are short
        fields["key"] = analysis.term_key(term, language, words)
        fields["tier"] = tiers
        for tier in tiers:
            fields[tier] = fields["grams"]
    return orjson.dumps(fields).decode()


WRITER_HEAP_MB = 256
"""Memory of the tantivy writer (split between its threads): it flushes a segment when full. 1 GB made the
writer most of an import's peak at SNOMED CT scale (it runs while the RDF graph loads); with 256 MB and the other
changes of ADR 0021 that peak went from 3.27 to 2.44 GB (benchmarks/README.md)."""


def build_search_index(release: CodeSystemRelease, target: Path, threads: int = 2, heap_mb: int = WRITER_HEAP_MB,
                       phase: Phase | None = None) -> int:
    """Write the search index of ``release`` into the folder ``target``; return the number of documents.
    ``phase`` counts the concepts indexed (the final commit follows)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    index = tantivy.Index(schema(), path=str(target))
    analysis.register(index)
    writer = index.writer(heap_mb * 1_000_000, threads)
    language = analysis.primary_language(release.language)
    documents = 0
    for number, concept in enumerate(counted(release.concepts, phase or NO_PHASE, finish=False)):
        active, key = concept.status == "active", code_key(concept.code)
        for term, term_language, pref in concept_terms(concept, language):
            writer.add_json(_document(number, key, term, term_language, pref, active))
            documents += 1
    writer.commit()
    writer.wait_merging_threads()
    meta = {
        "schema": FORMAT_VERSION, "url": release.url, "version": release.version, "language": language,
        "concepts": len(release.concepts), "documents": documents,
    }
    (target / META).write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    if phase is not None:
        phase.finish()
    return documents
