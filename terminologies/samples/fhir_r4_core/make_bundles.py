"""Rebuild the bundles of this folder from an ``hl7.fhir.r4.core`` 4.0.1 package (see README.md).

    python terminologies/samples/fhir_r4_core/make_bundles.py /path/to/hl7.fhir.r4.core/package

Writes ``r4-core-codesystems.json.gz`` (every CodeSystem whose ``content`` is ``complete``) and
``r4-core-valuesets.json.gz`` (every ValueSet), narratives (``text``) left out, gzipped reproducibly. A code
system that states no version gets the package's (FHIR 4.0.1): a stored release needs one. A concept whose code
is blank or padded is left out (four in ``v2-0550``, whose codes are or end with mis-encoded no-break spaces).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent


def bundle(resources: list[dict]) -> bytes:
    document = {"resourceType": "Bundle", "type": "collection",
                "entry": [{"fullUrl": r["url"], "resource": r} for r in resources]}
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return gzip.compress(raw, 9, mtime=0)


def coded(concepts: list[dict]) -> list[dict]:
    """The concepts whose code is neither blank nor padded, their children likewise."""
    kept = []
    for concept in concepts:
        code = str(concept.get("code", ""))
        if code.strip() and code == code.strip():
            if "concept" in concept:
                concept["concept"] = coded(concept["concept"])
            kept.append(concept)
    return kept


def main(package: Path) -> None:
    meta = json.loads((package / "package.json").read_text())
    assert meta["name"] == "hl7.fhir.r4.core", meta["name"]
    code_systems, value_sets = [], []
    for path in sorted(package.glob("*.json")):
        resource = json.loads(path.read_text())
        kind = resource.get("resourceType")
        if kind == "CodeSystem" and resource.get("content") == "complete":
            resource["concept"] = coded(resource.get("concept", []))
            code_systems.append(resource)
        elif kind == "ValueSet":
            value_sets.append(resource)
        else:
            continue
        resource.pop("text", None)
        resource.setdefault("version", meta["version"])
    (HERE / "r4-core-codesystems.json.gz").write_bytes(bundle(code_systems))
    (HERE / "r4-core-valuesets.json.gz").write_bytes(bundle(value_sets))
    print(f"{len(code_systems)} code systems, {len(value_sets)} value sets from {meta['name']} {meta['version']}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
