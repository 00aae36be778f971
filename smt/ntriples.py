"""N-Triples term syntax, written directly as text (building pyoxigraph term objects per triple is 3× slower)."""

from __future__ import annotations

import itertools
import re

_IRI_UNSAFE = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_blank_ids = itertools.count()


def iri(value: str) -> str:
    """``<value>``, percent-encoding the characters N-Triples forbids in IRIs."""
    if _IRI_UNSAFE.search(value):
        value = _IRI_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), value)
    return f"<{value}>"


def literal(text: str, language: str | None = None) -> str:
    """A plain or language-tagged literal."""
    quoted = f'"{text.translate(_ESCAPES)}"'
    return f"{quoted}@{language}" if language else quoted


def typed(text: str, datatype: str) -> str:
    """A literal with a datatype IRI (given in N-Triples form, e.g. ``XSD_INTEGER``)."""
    return f'"{text.translate(_ESCAPES)}"^^{datatype}'


def blank() -> str:
    """A fresh blank node label, unique within this process."""
    return f"_:b{next(_blank_ids)}"


def quad(subject: str, predicate: str, obj: str, graph: str) -> str:
    return f"{subject} {predicate} {obj} {graph} .\n"
