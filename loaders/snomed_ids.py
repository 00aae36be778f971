"""Well-known SNOMED CT concept ids used by the RF2 loader."""

from __future__ import annotations

IS_A = "116680003"
FSN = "900000000000003001"
SYNONYM = "900000000000013009"
DEFINITION = "900000000000550004"
PREFERRED = "900000000000548007"
ACCEPTABLE = "900000000000549004"
SUFFICIENTLY_DEFINED = "900000000000073002"
US_ENGLISH = "900000000000509007"
CORE_MODULE = "900000000000207008"

CHARACTERISTICS = {
    "900000000000011006": "inferred",
    "900000000000010007": "stated",
    "900000000000227009": "additional",
}
"""characteristicTypeId → the word stored in the index's ``relationship.characteristic``."""

USE_DISPLAYS = {FSN: "Fully specified name", SYNONYM: "Synonym", DEFINITION: "Definition"}
