"""Small hand-made releases for tests."""

from __future__ import annotations

from smt.model import CodeSystemRelease, Concept, ConceptProperty, Designation


def make_release(version: str = "1", *, extra: list[Concept] | None = None, url: str = "http://example.org/cs",
                 ) -> CodeSystemRelease:
    concepts = [
        Concept("ROOT", "Racine", origin="src.txt:1"),
        Concept("A", "Alpha", parents=["ROOT"], origin="src.txt:2",
                designations=[Designation("alpha court", "fr"), Designation("alpha", "en")],
                properties=[ConceptProperty("rank", 1, "integer")]),
        Concept("A1", "Alpha un", parents=["A"], origin="src.txt:3"),
        Concept("B", "Bêta", parents=["ROOT"], status="retired", origin="src.txt:4"),
        *(extra or []),
    ]
    return CodeSystemRelease(url=url, version=version, name="EX", title="Exemple", concepts=concepts,
                             oids=["1.2.3.4"], publisher="Test")
