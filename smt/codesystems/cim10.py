"""The CIM-10 providers: CIM-10 codes are served dotted, and a look-up accepts them undotted ("E119" for
"E11.9"), in any case (the rule of ``smt.formats.cim10_codes``, shared with the loader)."""

from __future__ import annotations

from smt.codesystems.memory import MemoryCodeSystem
from smt.codesystems.provider import CodeSystemProvider
from smt.codesystems.stored import StoredCodeSystem
from smt.formats.cim10_codes import dotted_code
from smt.index.reader import DesignationRecord


class Cim10Rules(CodeSystemProvider):
    """What any CIM-10 version does its own way."""

    @classmethod
    def is_display_designation(cls, designation: DesignationRecord) -> bool:
        """The long and short labels (ATIH) are both displays of a CIM-10 code."""
        return True

    @classmethod
    def normalise_code(cls, code: str) -> str:
        return dotted_code(code)


class StoredCim10(Cim10Rules, StoredCodeSystem):
    """A stored CIM-10 release."""


class MemoryCim10(Cim10Rules, MemoryCodeSystem):
    """A CIM-10 code system given in a request."""
