"""CIM-10 code syntax: codes are written dotted ("E11.9", "B24.+0"); the ATIH tables write them without the dot.

One rule for the loader (which builds the served codes from the ATIH form) and the CIM-10 code system provider
(which accepts "E119" where "E11.9" is meant).
"""

from __future__ import annotations


def insert_dot(code: str) -> str:
    """The dot after the three-character category: "E119" → "E11.9"; a category alone is unchanged."""
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def dotted_code(text: str) -> str:
    """Canonical dotted form of a code given with or without dot, in any case: "e119" → "E11.9",
    "B24+0" → "B24.+0", "E1.19" → "E11.9"; a range ("A00-B99") is only upper-cased."""
    code = text.strip().upper().replace(" ", "")
    if "-" in code:
        return code
    return insert_dot(code.replace(".", ""))
