"""JSON in and out, keeping numbers as written (the reference compares numbers by their source text)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

Json = Any


def loads(text: str | bytes) -> Json:
    """Parse JSON; decimals become ``Decimal`` so ``1.50`` stays ``1.50``. A UTF-8 BOM is accepted."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    return json.loads(text.lstrip("\ufeff"), parse_float=Decimal)


def load(path: Path) -> Json:
    return loads(path.read_bytes())


def number_text(value: int | Decimal) -> str:
    """The text of a JSON number as the reference sees it."""
    return str(value)


def _dump(value: Json, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int | Decimal):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(repr(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False) + ":")
            _dump(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _dump(item, out)
        out.append("]")
    else:
        raise TypeError(f"not JSON: {type(value).__name__}")


def dumps(value: Json) -> str:
    """Compact JSON, decimals written as parsed."""
    out: list[str] = []
    _dump(value, out)
    return "".join(out)


def pretty(value: Json) -> str:
    """Indented JSON for reports and diffs (decimals as parsed)."""
    return json.dumps(loads(dumps(value)), indent=2, ensure_ascii=False, default=str)
