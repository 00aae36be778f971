"""Deterministic generator of a synthetic RF2 Snapshot with the shape of the SNOMED CT International Edition.

    python benchmarks/snomed_generate.py [OUT_FOLDER] [--concepts 370000] [--seed 42]

Writes ``OUT_FOLDER/SnomedCT_Synthetic_INT_20250801/Snapshot/...`` (default ``benchmarks/out/``, gitignored).
At the default size: ≈ 370k concepts (≈ 8 % inactive), ≈ 1.6 M descriptions in en + fr (FSN, synonyms, some
inactive), ≈ 3 M relationship rows of which ≈ 1.2 M is-a (active and historical) in a polyhierarchy of
random-recursive trees under the 19 real top-level concepts (extra parents are drawn among the first
parent's siblings, so ancestor sets overlap as in SNOMED CT; 404684003 |Clinical finding| gets ≈ 30 % of the
concepts, i.e. ≈ 100k descendants), en-US / en-GB / fr language refsets, concrete values, OWL axioms, an
association refset (REPLACED BY for inactive concepts) and a simple map refset. Identifiers are valid SCTIDs
(Verhoeff check digit); well-known metadata concepts use their real ids. Terms are pseudo-words: the content
is meaningless, only the volumes and shapes matter. Lines end in CRLF as in real RF2.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loaders.snomed_sctid import with_check_digits

DATE = "20250801"
CORE, MODEL = "900000000000207008", "900000000000012004"
IS_A, FSN, SYN, DEF = "116680003", "900000000000003001", "900000000000013009", "900000000000550004"
PREFERRED, ACCEPTABLE = "900000000000548007", "900000000000549004"
US, GB = "900000000000509007", "900000000000508004"
PRIMITIVE, DEFINED = "900000000000074008", "900000000000073002"
INFERRED, SOME, CASE = "900000000000011006", "900000000000451002", "900000000000448009"
REPLACED_BY, OWL_REFSET, DEPENDENCY = "900000000000526001", "733073007", "900000000000534007"
ROOT, MODEL_COMPONENT, ATTRIBUTE = "138875005", "900000000000441003", "410662002"

TOP_LEVEL = (  # (id, name, semantic tag, share of the generated concepts)
    ("404684003", "Clinical finding", "finding", 0.30), ("71388002", "Procedure", "procedure", 0.16),
    ("123037004", "Body structure", "body structure", 0.10), ("410607006", "Organism", "organism", 0.09),
    ("105590001", "Substance", "substance", 0.07), ("373873005", "Pharmaceutical / biologic product",
                                                    "product", 0.06),
    ("260787004", "Physical object", "physical object", 0.04), ("363787002", "Observable entity",
                                                               "observable entity", 0.03),
    ("362981000", "Qualifier value", "qualifier value", 0.03), ("243796009", "Situation with explicit context",
                                                                "situation", 0.02),
    ("48176007", "Social context", "social concept", 0.015), ("272379006", "Event", "event", 0.01),
    ("123038009", "Specimen", "specimen", 0.01), ("308916002", "Environment or geographical location",
                                                  "environment / location", 0.005),
    ("254291000", "Staging and scales", "staging scale", 0.005), ("78621006", "Physical force",
                                                                  "physical force", 0.002),
    ("419891008", "Record artifact", "record artifact", 0.002), ("370115009", "Special concept",
                                                                 "special concept", 0.002),
)
METADATA = (  # (id, name, parent)
    (MODEL_COMPONENT, "SNOMED CT Model Component", ROOT), (ATTRIBUTE, "Concept model attribute", MODEL_COMPONENT),
    (IS_A, "Is a", ATTRIBUTE), (CORE, "SNOMED CT core module", MODEL_COMPONENT),
    (MODEL, "SNOMED CT model component module", MODEL_COMPONENT), (FSN, "Fully specified name", MODEL_COMPONENT),
    (SYN, "Synonym", MODEL_COMPONENT), (DEF, "Definition", MODEL_COMPONENT),
    (PREFERRED, "Preferred", MODEL_COMPONENT), (ACCEPTABLE, "Acceptable", MODEL_COMPONENT),
    (US, "United States of America English language reference set", MODEL_COMPONENT),
    (GB, "Great Britain English language reference set", MODEL_COMPONENT),
    (PRIMITIVE, "Not sufficiently defined by necessary conditions definition status", MODEL_COMPONENT),
    (DEFINED, "Sufficiently defined by necessary conditions definition status", MODEL_COMPONENT),
    (INFERRED, "Inferred relationship", MODEL_COMPONENT), (SOME, "Existential restriction modifier",
                                                           MODEL_COMPONENT),
    (CASE, "Only initial character case insensitive", MODEL_COMPONENT),
    (REPLACED_BY, "REPLACED BY association reference set", MODEL_COMPONENT),
    (OWL_REFSET, "OWL axiom reference set", MODEL_COMPONENT),
    (DEPENDENCY, "Module dependency reference set", MODEL_COMPONENT),
)
REAL_ATTRIBUTES = ("363698007", "116676008", "246075003", "260686004", "405813007", "127489000", "272741003",
                   "42752001", "47429007", "370135005", "246454002", "263502005", "408729009", "246112005")
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "vel", "dor", "ix", "um", "pra", "sti", "gon", "fel", "ar",
             "is", "cor", "den", "tri", "pho", "lu", "bre", "qui", "zen")


class IdPool:
    """Fresh SCTIDs of one partition (00 concept, 01 description, 02 relationship), made in vectorised blocks."""

    def __init__(self, partition: str, start: int) -> None:
        self.partition, self.next_item, self.buffer = partition, start, iter(())

    def __call__(self) -> str:
        value = next(self.buffer, None)
        if value is None:
            block = pl.Series([f"{i}{self.partition}" for i in range(self.next_item, self.next_item + 100_000)])
            self.next_item += 100_000
            self.buffer = iter(with_check_digits(block).to_list())
            value = next(self.buffer)
        return value


class Writer:
    """One RF2 file, written line by line with CRLF endings."""

    def __init__(self, folder: Path, name: str, header: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.handle: TextIO = (folder / name).open("w", encoding="utf-8", newline="")
        self.rows = 0
        self.handle.write(header.replace(" ", "\t") + "\r\n")

    def row(self, *fields: str) -> None:
        self.handle.write("\t".join(fields) + "\r\n")
        self.rows += 1

    def close(self) -> None:
        self.handle.close()


class Generator:
    def __init__(self, out: Path, concepts: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.target = concepts
        root = out / f"SnomedCT_Synthetic_INT_{DATE}" / "Snapshot"
        term, refset = root / "Terminology", root / "Refset"
        self.concept_ids, self.description_ids = IdPool("00", 50_000_000), IdPool("01", 50_000_000)
        self.relationship_ids, self.members = IdPool("02", 50_000_000), 0
        self.first_parent: dict[str, str] = {}
        self.children: dict[str, list[str]] = {}
        self.fr_refset = self.concept_ids()
        self.map_refset = self.concept_ids()
        self.files = {
            "concept": Writer(term, f"sct2_Concept_Snapshot_INT_{DATE}.txt",
                              "id effectiveTime active moduleId definitionStatusId"),
            "en": Writer(term, f"sct2_Description_Snapshot-en_INT_{DATE}.txt",
                         "id effectiveTime active moduleId conceptId languageCode typeId term caseSignificanceId"),
            "fr": Writer(term, f"sct2_Description_Snapshot-fr_INT_{DATE}.txt",
                         "id effectiveTime active moduleId conceptId languageCode typeId term caseSignificanceId"),
            "def": Writer(term, f"sct2_TextDefinition_Snapshot-en_INT_{DATE}.txt",
                          "id effectiveTime active moduleId conceptId languageCode typeId term caseSignificanceId"),
            "rel": Writer(term, f"sct2_Relationship_Snapshot_INT_{DATE}.txt",
                          "id effectiveTime active moduleId sourceId destinationId relationshipGroup typeId "
                          "characteristicTypeId modifierId"),
            "concrete": Writer(term, f"sct2_RelationshipConcreteValues_Snapshot_INT_{DATE}.txt",
                               "id effectiveTime active moduleId sourceId value relationshipGroup typeId "
                               "characteristicTypeId modifierId"),
            "owl": Writer(term, f"sct2_sRefset_OWLExpressionSnapshot_INT_{DATE}.txt",
                          "id effectiveTime active moduleId refsetId referencedComponentId owlExpression"),
            "lang_en": Writer(refset / "Language", f"der2_cRefset_LanguageSnapshot-en_INT_{DATE}.txt",
                              "id effectiveTime active moduleId refsetId referencedComponentId acceptabilityId"),
            "lang_fr": Writer(refset / "Language", f"der2_cRefset_LanguageSnapshot-fr_INT_{DATE}.txt",
                              "id effectiveTime active moduleId refsetId referencedComponentId acceptabilityId"),
            "assoc": Writer(refset / "Content", f"der2_cRefset_AssociationSnapshot_INT_{DATE}.txt",
                            "id effectiveTime active moduleId refsetId referencedComponentId targetComponentId"),
            "map": Writer(refset / "Map", f"der2_sRefset_SimpleMapSnapshot_INT_{DATE}.txt",
                          "id effectiveTime active moduleId refsetId referencedComponentId mapTarget"),
            "dep": Writer(refset / "Metadata", f"der2_ssRefset_ModuleDependencySnapshot_INT_{DATE}.txt",
                          "id effectiveTime active moduleId refsetId referencedComponentId sourceEffectiveTime "
                          "targetEffectiveTime"),
        }

    # -- helpers --------------------------------------------------------------------------------------------

    def member_id(self) -> str:
        self.members += 1
        n = self.members
        return f"{n:08x}-{n % 65536:04x}-4{n % 4096:03x}-8{n % 4096:03x}-{n:012x}"

    def words(self, count: int) -> str:
        rng = self.rng
        return " ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(count))

    def date(self) -> str:
        return f"{self.rng.randint(2002, 2025)}{self.rng.choice(('0131', '0731'))}"

    def concept(self, sctid: str, name: str, tag: str, active: bool = True, module: str = CORE,
                defined: bool = False) -> None:
        self.files["concept"].row(sctid, self.date(), "1" if active else "0", module,
                                  DEFINED if defined else PRIMITIVE)
        self.description("en", sctid, FSN, f"{name} ({tag})", us=PREFERRED, gb=PREFERRED, module=module)
        self.description("en", sctid, SYN, name, us=PREFERRED, gb=PREFERRED, module=module)

    def description(self, lang: str, concept: str, typ: str, term: str, us: str | None = None,
                    gb: str | None = None, active: bool = True, module: str = CORE) -> None:
        did = self.description_ids()
        self.files[lang if typ != DEF else "def"].row(did, self.date(), "1" if active else "0", module, concept,
                                                      lang, typ, term, CASE)
        if not active:
            return
        if lang == "fr":
            self.files["lang_fr"].row(self.member_id(), DATE, "1", module, self.fr_refset, did, us or ACCEPTABLE)
            return
        for refset, acceptability in ((US, us), (GB, gb)):
            if acceptability:
                self.files["lang_en"].row(self.member_id(), DATE, "1", module, refset, did, acceptability)

    def relationship(self, source: str, destination: str, typ: str, group: int = 0, active: bool = True) -> None:
        self.files["rel"].row(self.relationship_ids(), self.date(), "1" if active else "0", CORE, source,
                              destination, str(group), typ, INFERRED, SOME)

    # -- content --------------------------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        self.concept(ROOT, "SNOMED CT Concept", "SNOMED RT+CTV3")
        for sctid, name, parent in METADATA:
            self.concept(sctid, name, "foundation metadata concept", module=MODEL)
            self.relationship(sctid, parent, IS_A)
        for refset, name in ((self.fr_refset, "French language reference set"),
                             (self.map_refset, "Synthetic simple map reference set")):
            self.concept(refset, name, "foundation metadata concept", module=MODEL)
            self.relationship(refset, MODEL_COMPONENT, IS_A)
        attributes = list(REAL_ATTRIBUTES) + [self.concept_ids() for _ in range(46)]
        for attribute in attributes:
            self.concept(attribute, f"Attribute {self.words(2)}", "attribute", module=MODEL)
            self.relationship(attribute, ATTRIBUTE, IS_A)
        remaining = self.target - 3 - len(METADATA) - len(attributes)
        hierarchies = []
        total_share = sum(share for *_, share in TOP_LEVEL)
        for sctid, name, tag, share in TOP_LEVEL:
            self.concept(sctid, name, tag)
            self.relationship(sctid, ROOT, IS_A)
            hierarchies.append(([sctid], tag, round(share / total_share * remaining)))
        destinations = [h[0] for h in hierarchies[2:6]]  # body structure, organism, substance, product
        for nodes, tag, size in hierarchies[2:6] + hierarchies[:2] + hierarchies[6:]:  # destinations first
            for _ in range(size - 1):
                self.generated(nodes, tag, attributes, destinations)
        self.files["dep"].row(self.member_id(), DATE, "1", CORE, DEPENDENCY, MODEL, DATE, DATE)
        counts = {name: writer.rows for name, writer in self.files.items()}
        for writer in self.files.values():
            writer.close()
        return counts

    def generated(self, nodes: list[str], tag: str, attributes: list[str], destinations: list[list[str]]) -> None:
        """One generated concept under ``nodes`` (its hierarchy's active concepts, grown as a recursive tree)."""
        rng = self.rng
        sctid = self.concept_ids()
        active = rng.random() >= 0.08
        name = self.words(rng.randint(2, 4)).capitalize()
        self.concept(sctid, name, tag, active, defined=rng.random() < 0.3)
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            self.description("en", sctid, SYN, f"{name} {self.words(1)}", us=ACCEPTABLE, gb=ACCEPTABLE,
                             active=active)
        if rng.random() < 0.6:
            self.description("fr", sctid, SYN, self.words(rng.randint(2, 4)).capitalize(), us=PREFERRED,
                             active=active)
        if rng.random() < 0.2:
            self.description("en", sctid, SYN, f"{name} {self.words(1)}", active=False)
        if rng.random() < 0.03:
            self.description("en", sctid, DEF, f"{name} defined as {self.words(8)}", us=PREFERRED, gb=PREFERRED)
        primary = nodes[rng.randrange(len(nodes))]
        parents = {primary}
        uncles = self.children.get(self.first_parent.get(primary, ""), []) or nodes
        while rng.random() < 0.5 and len(parents) < 4:  # extra parents near the first one
            parents.add(uncles[rng.randrange(len(uncles))])
        for parent in sorted(parents):
            self.relationship(sctid, parent, IS_A, active=active)
        for _ in range(rng.choice((1, 2, 2, 2, 3))):  # historical is-a rows
            self.relationship(sctid, nodes[rng.randrange(len(nodes))], IS_A, active=False)
        heavy = tag in ("finding", "procedure", "product")
        for _ in range(rng.randint(4, 9) if heavy else rng.randint(2, 4)):
            pool = destinations[rng.randrange(len(destinations))]
            self.relationship(sctid, pool[rng.randrange(len(pool))], attributes[rng.randrange(len(attributes))],
                              group=rng.randint(0, 3), active=active and rng.random() < 0.7)
        if not active:
            self.files["assoc"].row(self.member_id(), DATE, "1", CORE, REPLACED_BY, sctid,
                                    nodes[rng.randrange(len(nodes))])
            return
        nodes.append(sctid)
        self.first_parent[sctid] = primary
        self.children.setdefault(primary, []).append(sctid)
        axiom = " ".join(f":{p}" for p in sorted(parents))
        self.files["owl"].row(self.member_id(), DATE, "1", CORE, OWL_REFSET, sctid,
                              f"SubClassOf(:{sctid} ObjectIntersectionOf({axiom}))")
        if tag == "product":
            for _ in range(rng.randint(1, 3)):
                self.files["concrete"].row(self.relationship_ids(), DATE, "1", CORE, sctid,
                                           f"#{rng.randint(1, 1000)}", "1", attributes[-1], INFERRED, SOME)
        if tag == "finding":
            target = f"{rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}{rng.randint(0, 99):02d}.{rng.randint(0, 9)}"
            self.files["map"].row(self.member_id(), DATE, "1", CORE, self.map_refset, sctid, target)


def rows(counts: dict[str, int]) -> Iterator[str]:
    for name, count in counts.items():
        yield f"  {name:9} {count:>10,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--concepts", type=int, default=370_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    counts = Generator(args.out, args.concepts, args.seed).run()
    print(f"wrote {args.out / f'SnomedCT_Synthetic_INT_{DATE}'}:")
    print("\n".join(rows(counts)))


if __name__ == "__main__":
    main()
