"""The web interface's languages: French first, English available, from one message catalogue per language.

The language of a page is the ``lang`` query parameter when given (``?lang=en``; remembered in a cookie), else
the cookie, else French: the interface is French first whatever the browser's ``Accept-Language`` says.
Messages are ``str.format`` templates in ``messages/<lang>.toml`` (dotted keys, the same in every language).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from starlette.requests import Request

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
COOKIE = "smt_lang"
MESSAGES_DIR = Path(__file__).parent / "messages"


def _flatten(table: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalogue(language: str) -> dict[str, str]:
    """Every message of ``language`` by dotted key."""
    with (MESSAGES_DIR / f"{language}.toml").open("rb") as handle:
        return _flatten(tomllib.load(handle))


def requested_language(request: Request) -> str | None:
    """The language the request asks for explicitly (``?lang=``), if it is one we have."""
    asked = request.query_params.get("lang", "").strip().lower()
    return asked if asked in LANGUAGES else None


def page_language(request: Request) -> str:
    """The language to answer in: ``?lang=``, else the remembered choice, else French."""
    remembered = request.cookies.get(COOKIE, "")
    return requested_language(request) or (remembered if remembered in LANGUAGES else DEFAULT_LANGUAGE)


class Translator:
    """``t("key", name=value)``: the message of ``key`` in one language (the key itself when it is missing)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._messages = catalogue(language)

    def __call__(self, key: str, /, **values: object) -> str:
        text = self._messages.get(key)
        if text is None:
            return key
        return text.format(**values) if values else text

    def has(self, key: str, /) -> bool:
        return key in self._messages

    def number(self, value: int | float) -> str:
        """A number as written in the page's language (French: narrow no-break space between thousands)."""
        text = f"{value:,}"
        return text.replace(",", "\u202f") if self.language == "fr" else text
