"""Character cursor for the ECL parser: white space and comments, keywords, literals and syntax errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from smt.errors import EclSyntaxError

T = TypeVar("T")

_SCTID = re.compile(r"[1-9][0-9]{5,17}(?![0-9])")
_DIGITS = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?![0-9])")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|\|[^|]*\||/\*.*?\*/|[(){}\[\]]', re.DOTALL)
MAX_NESTING = 50
"""Brackets open at once at most: the parser and the evaluator recurse once or more per level."""
MAX_LENGTH = 100_000
"""Characters of an expression at most."""


def check_size(text: str) -> None:
    """``EclSyntaxError`` for an expression longer than ``MAX_LENGTH`` or nested deeper than ``MAX_NESTING``
    (brackets inside quoted strings, terms and comments do not count)."""
    if len(text) > MAX_LENGTH:
        raise EclSyntaxError(f"the expression has {len(text):,} characters, over the limit of {MAX_LENGTH:,}",
                             MAX_LENGTH)
    depth = 0
    for match in _NESTING.finditer(text):
        token = match.group()
        if token in "({[":
            depth += 1
            if depth > MAX_NESTING:
                raise EclSyntaxError(f"brackets are nested more than {MAX_NESTING} deep", match.start())
        elif token in ")}]":
            depth -= 1


def describe(text: str, pos: int) -> str:
    """How an error message names what stands at ``pos``."""
    if pos >= len(text):
        return "end of input"
    match = _WORD.match(text, pos) or _DIGITS.match(text, pos)
    token = match.group() if match else text[pos]
    return f"'{token}'"


class Cursor:
    """A position in the expression text. Every method that reads skips nothing implicitly but ``ws``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.furthest: EclSyntaxError | None = None

    # -- low level ----------------------------------------------------------------------------------------------

    @property
    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self, literal: str) -> bool:
        return self.text.startswith(literal, self.pos)

    def char(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def accept(self, literal: str) -> bool:
        if self.peek(literal):
            self.pos += len(literal)
            return True
        return False

    def expect(self, literal: str) -> None:
        if not self.accept(literal):
            raise self.error(f"'{literal}'")

    def ws(self) -> bool:
        """Skip white space and ``/* comments */``; True when anything was skipped."""
        start = self.pos
        text = self.text
        while self.pos < len(text):
            if text[self.pos] in " \t\r\n":
                self.pos += 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise EclSyntaxError("unterminated comment", self.pos, ("'*/'",))
                self.pos = end + 2
            else:
                break
        return self.pos > start

    # -- tokens -------------------------------------------------------------------------------------------------

    def keyword_ahead(self, word: str) -> bool:
        """``word`` (case-insensitive) stands here, not followed by a letter or digit."""
        end = self.pos + len(word)
        if self.text[self.pos:end].lower() != word.lower():
            return False
        return end >= len(self.text) or not self.text[end].isalnum()

    def accept_keyword(self, word: str) -> bool:
        if self.keyword_ahead(word):
            self.pos += len(word)
            return True
        return False

    def regex(self, pattern: re.Pattern[str]) -> str | None:
        match = pattern.match(self.text, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return match.group()

    def sctid(self) -> str:
        value = self.regex(_SCTID)
        if value is None:
            raise self.error("a concept id (6 to 18 digits)")
        return value

    def integer(self, what: str) -> int:
        value = self.regex(_DIGITS)
        if value is None:
            raise self.error(what)
        return int(value)

    def number(self) -> str:
        value = self.regex(_NUMBER)
        if value is None:
            raise self.error("a number")
        return value

    def word(self) -> str | None:
        return self.regex(_WORD)

    def quoted(self) -> str:
        """A ``"…"`` string; returns the raw text between the quotes (escapes kept)."""
        start = self.pos
        self.expect('"')
        text = self.text
        i = self.pos
        while i < len(text):
            if text[i] == "\\" and i + 1 < len(text):
                i += 2
                continue
            if text[i] == '"':
                self.pos = i + 1
                return text[start + 1:i]
            i += 1
        raise EclSyntaxError("unterminated string", start, ("'\"'",))

    # -- errors and backtracking --------------------------------------------------------------------------------

    def error(self, *expected: str, pos: int | None = None) -> EclSyntaxError:
        """A syntax error at ``pos`` (default: here) saying what was expected and what was found."""
        where = self.pos if pos is None else pos
        wanted = " or ".join(expected) if len(expected) < 3 else ", ".join(expected[:-1]) + " or " + expected[-1]
        found = describe(self.text, where)
        error = EclSyntaxError(f"expected {wanted} but found {found}", where, expected)
        return self.record(error)

    def record(self, error: EclSyntaxError) -> EclSyntaxError:
        if self.furthest is None or error.position >= self.furthest.position:
            self.furthest = error
        return error

    def attempt(self, parse: Callable[[], T]) -> T | None:
        """Run ``parse``; on a syntax error rewind and return None (the error is kept if it went furthest)."""
        start = self.pos
        try:
            return parse()
        except EclSyntaxError as error:
            self.record(error)
            self.pos = start
            return None

    def best_error(self, fallback: EclSyntaxError) -> EclSyntaxError:
        """The error that got furthest into the text: the most useful one after backtracking."""
        if self.furthest is not None and self.furthest.position > fallback.position:
            return self.furthest
        return fallback
