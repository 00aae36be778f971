"""Port of the JSON comparison of ``org.hl7.fhir.r5.test.utils.CompareUtilities`` (reference runner).

Rules, as in the reference:

* every property of the actual object must exist in the expected one (unless *pattern mode*, used for the
  metadata tests, or it is listed in the expected object's ``$optional-properties$``: an optional property may
  be present or absent); every expected property must exist in the actual one unless it is ``$optional$``,
  listed in ``$optional-properties$`` (``*`` = all), or an array whose object items are all ``$optional$``;
* arrays are compared **in order** (the runner sorts the actual response first, see ``normalize``); an
  expected item marked ``$optional$`` may be skipped; ``$count-arrays$`` compares only the sizes; in pattern
  mode the expected items must appear as an ordered subsequence of the actual ones;
* ``$optional$`` is ``true`` or a filter: ``"!mode"`` (optional unless that mode runs), ``"mode"`` (optional
  when it runs) or ``"warning:…"`` (optional, with a warning when absent);
* strings: templates ``$$``, ``$instant$``, ``$date$``, ``$uuid$``, ``$string$``, ``$id$``, ``$url$``,
  ``$token$``, ``$semver$``, ``$version$``, ``$choice:a|b$``, ``$fragments:a|b$``, ``$external:N[:frags]$``;
  two strings both containing ``<div`` always match; two strings whose lenient Base64 decodings are equal
  and non-empty match too (a quirk of the reference kept on purpose);
* numbers are compared by their text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from .jsonio import Json

_INSTANT = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))")
_DATE = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?")
_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_URL = re.compile(r"(https?://|www\.)[-a-zA-Z0-9+&@#/%?=~_|!:.;]*[-a-zA-Z0-9+&@#/%=~_|]")
_TOKEN = re.compile(r"[0-9a-zA-Z_][0-9a-zA-Z_.\-]*")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_B64.update({"-": 62, "_": 63})


class TemplateError(Exception):
    """An expected string is a ``$…$`` template the reference does not know."""


def lenient_base64(text: str) -> bytes:
    """Decode like commons-codec ``Base64.decodeBase64``: skip foreign characters, stop at ``=``."""
    out = bytearray()
    acc = count = 0
    for ch in text:
        if ch == "=":
            break
        value = _B64.get(ch)
        if value is None:
            continue
        acc = ((acc << 6) | value) & 0xFFFFFF
        count += 1
        if count % 4 == 0:
            out += bytes(((acc >> 16) & 0xFF, (acc >> 8) & 0xFF, acc & 0xFF))
    rest = count % 4
    if rest == 2:
        out.append((acc >> 4) & 0xFF)
    elif rest == 3:
        out += bytes(((acc >> 10) & 0xFF, (acc >> 2) & 0xFF))
    return bytes(out)


def _java_split(text: str, sep: str) -> list[str]:
    """``String.split``: trailing empty strings removed."""
    parts = text.split(sep)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _java_trim(text: str) -> str:
    start, end = 0, len(text)
    while start < end and text[start] <= " ":
        start += 1
    while end > start and text[end - 1] <= " ":
        end -= 1
    return text[start:end]


@dataclass(frozen=True)
class Mismatch:
    """Why a comparison failed: ``kind`` (see ``KINDS``), the JSON ``path`` and a one-line ``message``."""

    kind: str
    path: str
    message: str
    hint: str = ""  # for array size differences: which named items are missing/extra


KINDS = ("unexpected-property", "missing-property", "value", "type", "array-count", "array-items",
         "array-extra", "pattern-missing", "template")


def _short(value: object, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Comparer:
    """One comparison context: run ``modes``, ``externals`` for the response file and ``variables``."""

    modes: frozenset[str] = frozenset()
    externals: Mapping[str, str] | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    pattern_mode: bool = False
    warnings: list[str] = field(default_factory=list)

    def compare(self, expected: Json, actual: Json) -> Mismatch | None:
        """Compare two resources; ``None`` when they match."""
        try:
            return self._objects("", expected, actual)
        except TemplateError as exc:
            return Mismatch("template", "", str(exc))

    # -- objects -------------------------------------------------------------------------------------
    def _objects(self, path: str, expected: dict, actual: dict) -> Mismatch | None:
        optionals = _optionals(expected)
        count_only = expected.get("$count-arrays$") or []
        for name, value in actual.items():
            if name == "fhir_comments":
                continue
            if name in expected:
                found = self._nodes(f"{path}.{name}", expected[name], value, name in count_only)
                if found:
                    return found
            elif not self.pattern_mode and name not in optionals:
                return Mismatch("unexpected-property", f"{path}.{name}",
                                f"properties differ at {path or '/'}: unexpected property {name}")
        for name, value in expected.items():
            if name == "fhir_comments" or _is_optional_name(name, optionals):
                continue
            if name not in actual and not _all_optional(value):
                return Mismatch("missing-property", f"{path}.{name}",
                                f"properties differ at {path or '/'}: missing property {name}")
        return None

    # -- any node ------------------------------------------------------------------------------------
    def _nodes(self, path: str, expected: Json, actual: Json, count_only: bool) -> Mismatch | None:
        if not (_is_primitive(expected) and _is_primitive(actual)) and _kind(expected) != _kind(actual):
            return Mismatch("type", path, f"properties differ at {path}: expected {_kind(expected)}, "
                                          f"actual {_kind(actual)}")
        if _is_primitive(actual):
            return self._primitives(path, expected, actual)
        if isinstance(actual, dict):
            return self._objects(path, expected, actual)
        return self._arrays(path, expected, actual, count_only)

    def _primitives(self, path: str, expected: Json, actual: Json) -> Mismatch | None:
        if isinstance(actual, bool) and isinstance(expected, bool):
            if actual != expected:
                return self._differ("value", path, "boolean property values differ", expected, actual)
            return None
        if isinstance(actual, str) and isinstance(expected, str):
            if "<div" in actual and "<div" in expected:
                return None
            if self.matches(actual, expected):
                return None
            a64, e64 = lenient_base64(actual), lenient_base64(expected)
            if a64 and e64 and a64 == e64:
                return None
            return self._differ("value", path, "string property values differ", expected, actual)
        if _is_number(actual) and _is_number(expected):
            if str(actual) != str(expected):
                return self._differ("value", path, "number property values differ", expected, actual)
            return None
        if expected is None:
            return None if actual is None else self._differ("type", path, "null property differs", None, actual)
        return self._differ("type", path, "property types differ", expected, actual)

    def _differ(self, kind: str, path: str, message: str, expected: Json, actual: Json) -> Mismatch:
        return Mismatch(kind, path, f"{message} at {path}: expected {self.present(expected)}, "
                                    f"actual {_short(actual)!r}")

    # -- arrays --------------------------------------------------------------------------------------
    def _arrays(self, path: str, expected: list, actual: list, count_only: bool) -> Mismatch | None:
        n_act, n_exp = len(actual), len(expected)
        if count_only:
            if n_act != n_exp:
                return Mismatch("array-count", path, f"array item count differs at {path}: expected {n_exp}, "
                                                     f"actual {n_act}")
            return None
        if self.pattern_mode:
            return self._pattern_array(path, expected, actual)
        optional_count = sum(1 for item in expected if self._is_optional(item))
        if n_act > n_exp or n_act < n_exp - optional_count:
            hint = self._array_hint(expected, actual)
            return Mismatch("array-count", path, f"array item count differs at {path}: expected {n_exp}"
                            f"{f' ({n_exp - optional_count} required)' if optional_count else ''}, "
                            f"actual {n_act}{f' ({hint})' if hint else ''}", hint)
        cursor = 0
        for i, item in enumerate(expected):
            if cursor >= n_act:
                if i >= n_exp - optional_count and self._is_optional(item):
                    warning = _optional_warning(item)
                    if warning:
                        self.warnings.append(warning)
                    return None
                return Mismatch("array-items", path, f"one or more array items did not match at {path} "
                                                     f"starting at index {i}")
            found = self._nodes(f"{path}[{i}]", item, actual[cursor], False)
            if found and not self._is_optional(item):
                return found
            if not found:
                cursor += 1
        if cursor < n_act:
            return Mismatch("array-extra", path, f"unexpected node found in array at {path} at index {cursor}")
        return None

    def _array_hint(self, expected: list, actual: list) -> str:
        """Which labelled items (by name/code/url) are missing or extra: a diagnostic only."""
        required = Counter(_label(i) for i in expected if not self._is_optional(i))
        present = Counter(_label(i) for i in actual)
        missing = sorted((required - present).elements())
        extra = sorted((present - Counter(_label(i) for i in expected)).elements())
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"extra {', '.join(extra)}"] if extra else []
        return "; ".join(parts)

    def _pattern_array(self, path: str, expected: list, actual: list) -> Mismatch | None:
        cursor = 0
        for i, item in enumerate(expected):
            found: Mismatch | None = Mismatch("pattern-missing", f"{path}[{i}]", "doesn't exist")
            while found is not None and cursor < len(actual):
                found = self._nodes(f"{path}[{i}]", item, actual[cursor], False)
                cursor += 1
            if found is not None:
                return Mismatch("pattern-missing", f"{path}[{i}]",
                                f"the expected item at {path} index {i} was not found ({found.message})")
        return None

    def _is_optional(self, item: Json) -> bool:
        if not isinstance(item, dict):
            return False
        flag = item.get("$optional$")
        if isinstance(flag, bool):
            return flag
        return isinstance(flag, str) and self._passes_optional_filter(flag)

    def _passes_optional_filter(self, token: str) -> bool:
        if token.startswith("!"):
            return token[1:] not in self.modes
        if token.startswith("warning:"):
            return True
        return token in self.modes

    # -- strings -------------------------------------------------------------------------------------
    def matches(self, actual: str, expected: str) -> bool:
        """Whether the actual string satisfies the expected value or template."""
        if not (expected.startswith("$") and expected.endswith("$")):
            if "$version$" in expected and "version" in self.variables:  # e.g. "http://…/gender|$version$"
                expected = expected.replace("$version$", self.variables["version"])
            return actual == expected
        if expected.startswith("$choice:"):
            return actual in expected[8:-1].split("|")
        if expected.startswith("$fragments:"):
            return all(f.lower() in actual.lower() for f in expected[11:-1].split("|"))
        if expected.startswith("$external:"):
            cmd = _java_split(expected[1:-1], ":")
            if self.externals is not None:
                return actual == self.externals.get(cmd[1])
            if len(cmd) <= 2:
                return True
            return all(f.lower() in actual.lower() for f in cmd[2].split("|"))
        checks = {
            "$$": lambda s: True,
            "$instant$": lambda s: bool(_INSTANT.fullmatch(s)),
            "$date$": lambda s: bool(_DATE.fullmatch(s)),
            "$uuid$": lambda s: bool(_UUID.fullmatch(s)),
            "$string$": lambda s: s == _java_trim(s),
            "$id$": lambda s: bool(_ID.fullmatch(s)),
            "$url$": lambda s: bool(_URL.fullmatch(s)),
            "$token$": lambda s: bool(_TOKEN.fullmatch(s)),
            "$semver$": lambda s: bool(_SEMVER.fullmatch(s)),
            "$version$": lambda s: "version" not in self.variables or s == self.variables["version"],
        }
        if expected not in checks:
            raise TemplateError(f"unhandled template {expected}")
        return checks[expected](actual)

    def present(self, expected: Json) -> str:
        """How an expected value is shown in messages."""
        if not isinstance(expected, str) or not (expected.startswith("$") and expected.endswith("$")):
            return repr(_short(expected))
        if expected.startswith("$choice:"):
            return f"one of {expected[8:-1].split('|')}"
        if expected.startswith("$fragments:"):
            return f"text containing all of {expected[11:-1].split('|')}"
        if expected.startswith("$external:"):
            cmd = _java_split(expected[1:-1], ":")
            if self.externals is not None:
                return f"{self.externals.get(cmd[1])!r} (external {cmd[1]})"
            frags = cmd[2].split("|") if len(cmd) > 2 else []
            return f"text containing all of {frags} (external {cmd[1]})"
        return f"a value matching {expected}"


def _label(item: Json) -> str:
    if isinstance(item, dict):
        for key in ("name", "code", "url"):
            if isinstance(item.get(key), str):
                value = item[key]
                return value.rstrip("/").rsplit("/", 1)[-1] if key == "url" else value
        details = item.get("details")
        if "severity" in item:
            coding = (details or {}).get("coding") or [{}] if isinstance(details, dict) else [{}]
            return f"{item.get('severity')}/{coding[0].get('code', item.get('code', '?'))}"
        return "{…}"
    return _short(item, 30)


def _kind(value: Json) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "primitive"


def _is_primitive(value: Json) -> bool:
    return not isinstance(value, dict | list)


def _is_number(value: Json) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _optionals(expected: dict) -> list[str]:
    listed = expected.get("$optional-properties$")
    if listed is None:
        return []
    return ["$optional-properties$", "$count-arrays$", *[s for s in listed if isinstance(s, str)]]


def _is_optional_name(name: str, optionals: list[str]) -> bool:
    return name == "$optional$" or "*" in optionals or name in optionals


def _all_optional(value: Json) -> bool:
    if not isinstance(value, list):
        return False
    return all("$optional$" in item for item in value if isinstance(item, dict))


def _optional_warning(item: Json) -> str | None:
    flag = item.get("$optional$") if isinstance(item, dict) else None
    if isinstance(flag, str) and flag.startswith("warning:"):
        return flag[len("warning:"):]
    return None
