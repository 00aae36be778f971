"""How large a regex pattern compiles: the ``regex`` engine unrolls counted repeats, so nested ones multiply.

``((a{1000}){1000}){1000}`` is 24 characters and would compile to a billion nodes (tens of GB: the process is
killed before the match time budget can help). ``compiled_size`` bounds what the engine would build, from the
pattern alone: each atom counts 1, a group the sum of its parts, a counted repeat ``{m,n}`` multiplies what it
repeats by its largest count (``*``, ``+`` and ``?`` loop without copying). It over-estimates (alternatives are
added), never under-estimates, and stops counting past ``ceiling``.
"""

from __future__ import annotations

import re

_COUNTED = re.compile(r"\{(\d*)(?:,(\d*))?\}")
_NAMED_ESCAPE = re.compile(r"\\[pPNxuUg]\{[^}]*\}")


def compiled_size(pattern: str, ceiling: int = 1 << 30) -> int:
    """An upper bound of the nodes ``regex.compile(pattern)`` builds (at most ``ceiling``)."""
    totals = [0]  # size of the group being read, one entry per open group
    last = 0  # size of the last atom or group, which a quantifier applies to
    position = 0
    while position < len(pattern):
        char = pattern[position]
        counted = _COUNTED.match(pattern, position) if char == "{" else None
        if counted and (counted.group(1) or counted.group(2)):
            times = max(int(counted.group(1) or 0), int(counted.group(2) or 0), 1)
            grown = min(last * times, ceiling)
            totals[-1] = min(totals[-1] + grown - last, ceiling)
            last = grown
            position = counted.end()
            continue
        if char == "(":
            totals.append(0)
            position += 1
            continue
        if char == ")" and len(totals) > 1:
            last = totals.pop()
            totals[-1] = min(totals[-1] + last, ceiling)
            position += 1
            continue
        if char in "*+?|":
            position += 1
            continue
        position = _atom_end(pattern, position)
        last = 1
        totals[-1] = min(totals[-1] + 1, ceiling)
    return min(sum(totals), ceiling)


def _atom_end(pattern: str, position: int) -> int:
    """Where the atom starting at ``position`` ends: an escape, a character class or one character."""
    if pattern[position] == "\\":
        named = _NAMED_ESCAPE.match(pattern, position)
        return named.end() if named else position + 2
    if pattern[position] != "[":
        return position + 1
    depth, position = 1, position + 1
    if pattern[position:position + 1] == "^":
        position += 1
    if pattern[position:position + 1] == "]":
        position += 1
    while position < len(pattern) and depth:
        char = pattern[position]
        if char == "\\":
            position += 1
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        position += 1
    return position
