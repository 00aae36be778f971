"""N-Triples term syntax, written directly as text (building pyoxigraph term objects per triple is 3× slower)."""

from __future__ import annotations

import itertools
import re

_IRI_UNSAFE = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r'[\\"\n\r]')
_blank_ids = itertools.count()


def iri(value: str) -> str:
    """``<value>``, percent-encoding the characters N-Triples forbids in IRIs."""
    if _IRI_UNSAFE.search(value):
        value = _IRI_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), value)
    return f"<{value}>"


def literal(text: str, language: str | None = None) -> str:
    """A plain or language-tagged literal."""
    quoted = f'"{_escaped(text)}"'
    return f"{quoted}@{language}" if language else quoted


def typed(text: str, datatype: str) -> str:
    """A literal with a datatype IRI (given in N-Triples form, e.g. ``XSD_INTEGER``)."""
    return f'"{_escaped(text)}"^^{datatype}'


def _escaped(text: str) -> str:
    """``text`` with N-Triples string escapes (most texts have none: a search is 5× cheaper than a translate)."""
    return text.translate(_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def blank() -> str:
    """A fresh blank node label, unique within this process."""
    return f"_:b{next(_blank_ids)}"


def quad(subject: str, predicate: str, obj: str, graph: str) -> str:
    return f"{subject} {predicate} {obj} {graph} .\n"
