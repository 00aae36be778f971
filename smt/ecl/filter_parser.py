"""Parser for ECL ``{{ … }}`` blocks: description, concept and member filters and history supplements."""

from __future__ import annotations

import re
from collections.abc import Callable

from smt.ecl import ast
from smt.ecl.scanner import Cursor
from smt.ecl.steps import ExpressionParser

_LANGUAGE = re.compile(r"[A-Za-z]{2}(?![A-Za-z])")
_DIALECT_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_TIME = re.compile(r'"(?:[1-9][0-9]{3}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]))?"')
_DESCRIPTION_KEYWORDS = ("typeId", "type", "dialectId", "dialect", "term", "language", "moduleId",
                         "effectiveTime", "active", "id")
_CONCEPT_KEYWORDS = ("definitionStatusId", "definitionStatus", "moduleId", "effectiveTime", "active")
_MEMBER_KEYWORDS = ("moduleId", "effectiveTime", "active")


class FilterParser:
    """Filter blocks for the expression parser (which it calls back for nested sub-expressions)."""

    def __init__(self, cursor: Cursor, parser: ExpressionParser) -> None:
        self.c = cursor
        self.parser = parser

    # -- blocks -------------------------------------------------------------------------------------------------

    def _kind_letter(self) -> str | None:
        """After ``{{`` and white space: the block's letter (C, D or M) when one stands here."""
        letter = self.c.char().upper()
        if letter in ("C", "D", "M") and not self.c.char(1).isalpha():
            return letter
        return None

    def member_block_ahead(self) -> bool:
        c = self.c
        if not c.peek("{{"):
            return False
        mark = c.pos
        c.pos += 2
        c.ws()
        found = self._kind_letter() == "M"
        c.pos = mark
        return found

    def block(self, member_allowed: bool) -> ast.FilterBlock | ast.HistorySupplement:
        c = self.c
        c.expect("{{")
        c.ws()
        if c.accept("+"):
            c.ws()
            return self.history()
        letter = self._kind_letter()
        if letter == "M" and not member_allowed:
            raise c.error("a description or concept filter (member filters follow '^' only)")
        if letter:
            c.pos += 1
            c.ws()
        kind = {"C": "concept", "M": "member"}.get(letter or "", "description")
        parse_one = {"concept": self.concept_filter, "member": self.member_filter}.get(kind, self.description_filter)
        filters = [parse_one()]
        while True:
            c.ws()
            if c.accept("}}"):
                return ast.FilterBlock(kind, tuple(filters))  # type: ignore[arg-type]
            if not c.accept(","):
                raise c.error("','", "'}}'")
            c.ws()
            filters.append(parse_one())

    def history(self) -> ast.HistorySupplement:
        c = self.c
        if c.text[c.pos:c.pos + 7].upper() != "HISTORY":
            raise c.error("'HISTORY'")
        c.pos += 7
        profile: ast.HistoryProfile | None = None
        if c.char() in ("-", "_"):
            c.pos += 1
            for suffix in ("MIN", "MOD", "MAX"):
                if c.accept_keyword(suffix):
                    profile = suffix
                    break
            else:
                raise c.error("MIN", "MOD", "MAX")
        elif c.char().isalnum():
            raise c.error("'HISTORY'", pos=c.pos - 7)
        c.ws()
        subset = None
        if profile is None and c.peek("("):
            c.pos += 1
            c.ws()
            subset = self.parser.expression()
            c.ws()
            c.expect(")")
            c.ws()
        c.expect("}}")
        return ast.HistorySupplement(profile, subset)

    # -- one filter ---------------------------------------------------------------------------------------------

    def _keyword(self, keywords: tuple[str, ...], expected: str) -> str:
        for word in keywords:
            if self.c.accept_keyword(word):
                return word
        raise self.c.error(expected)

    def description_filter(self) -> ast.Filter:
        word = self._keyword(_DESCRIPTION_KEYWORDS, "a description filter (term, language, type, typeId, "
                             "dialect, dialectId, moduleId, effectiveTime, active or id)")
        return self._dispatch(word)

    def concept_filter(self) -> ast.Filter:
        word = self._keyword(_CONCEPT_KEYWORDS, "a concept filter (definitionStatus, definitionStatusId, "
                             "moduleId, effectiveTime or active)")
        return self._dispatch(word)

    def member_filter(self) -> ast.Filter:
        c = self.c
        for word in _MEMBER_KEYWORDS:
            if c.accept_keyword(word):
                return self._dispatch(word)
        name = c.word()
        if name is None or not name.isalpha():
            raise c.error("a member filter (moduleId, effectiveTime, active or a refset field name)")
        c.ws()
        op = self.parser.comparison()
        c.ws()
        if self._time_ahead():
            return ast.MemberFieldFilter(name, op, self.times())
        if c.peek("#"):
            return ast.MemberFieldFilter(name, op, self.parser.number_value())
        if op not in ("=", "!="):
            raise c.error("'#' and a number", 'a date "YYYYMMDD"')
        return ast.MemberFieldFilter(name, op, self.parser.attribute_value())

    def _time_ahead(self) -> bool:
        """A date or a set of dates starts here."""
        c = self.c
        mark = c.pos
        if c.accept("("):
            c.ws()
        found = bool(_TIME.match(c.text, c.pos))
        c.pos = mark
        return found

    def _dispatch(self, word: str) -> ast.Filter:
        c = self.c
        c.ws()
        time_keyword = word == "effectiveTime"
        op = self.parser.comparison() if time_keyword else self.equality()
        c.ws()
        handlers: dict[str, Callable[[ast.Comparison], ast.Filter]] = {
            "term": lambda o: ast.TermFilter(o, self.typed_search_terms()),
            "language": lambda o: ast.LanguageFilter(o, self.tokens(_LANGUAGE, "a two-letter language code")),
            "typeId": lambda o: ast.TypeFilter(o, value=self.concepts()),
            "type": lambda o: ast.TypeFilter(o, tokens=self.keywords(("syn", "fsn", "def"), "syn, fsn or def")),
            "dialectId": lambda o: ast.DialectFilter(o, self.dialect_ids()),
            "dialect": lambda o: ast.DialectFilter(o, self.dialect_aliases()),
            "moduleId": lambda o: ast.ModuleFilter(o, self.concepts()),
            "effectiveTime": lambda o: ast.EffectiveTimeFilter(o, self.times()),
            "active": lambda o: ast.ActiveFilter(o, self.active_value()),
            "id": lambda o: ast.DescriptionIdFilter(o, self.ids()),
            "definitionStatusId": lambda o: ast.DefinitionStatusFilter(o, value=self.concepts()),
            "definitionStatus": lambda o: ast.DefinitionStatusFilter(
                o, tokens=self.keywords(("primitive", "defined"), "primitive or defined")),
        }
        return handlers[word](op)

    def equality(self) -> ast.Comparison:
        c = self.c
        if c.accept("!="):
            return "!="
        if c.accept("="):
            return "="
        raise c.error("'='", "'!='")

    # -- values -------------------------------------------------------------------------------------------------

    def _set(self, item: Callable[[], object], allow_single: bool = True) -> tuple:
        """``item`` or ``( item item … )``."""
        c = self.c
        if not c.peek("("):
            return (item(),)
        c.pos += 1
        c.ws()
        items = [item()]
        while True:
            had_space = c.ws()
            if c.accept(")"):
                return tuple(items)
            if not had_space:
                raise c.error("white space", "')'")
            items.append(item())

    def tokens(self, pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
        def one() -> str:
            value = self.c.regex(pattern)
            if value is None:
                raise self.c.error(what)
            return value.lower()
        return self._set(one)

    def keywords(self, words: tuple[str, ...], what: str) -> tuple[str, ...]:
        def one() -> str:
            for word in words:
                if self.c.accept_keyword(word):
                    return word
            raise self.c.error(what)
        return self._set(one)

    def ids(self) -> tuple[str, ...]:
        return self._set(self.c.sctid)

    def times(self) -> tuple[str, ...]:
        def one() -> str:
            value = self.c.regex(_TIME)
            if value is None:
                raise self.c.error('a date "YYYYMMDD"')
            return value.strip('"')
        return self._set(one)

    def active_value(self) -> bool | None:
        c = self.c
        for words, value in ((("true", "1"), True), (("false", "0"), False)):
            for word in words:
                if c.accept_keyword(word):
                    return value
        if c.accept("*"):
            return None
        raise c.error("true", "false", "1", "0")

    def concepts(self) -> ast.SubExpression | ast.ConceptSet:
        """A sub-expression constraint or a ``(id id …)`` concept reference set."""
        c = self.c
        if c.peek("("):
            concept_set = c.attempt(self.concept_set)
            if concept_set is not None:
                return concept_set
        return self.parser.sub_expression()

    def concept_set(self) -> ast.ConceptSet:
        refs = self._set(self.parser.concept_reference)
        return ast.ConceptSet(refs)

    def dialect_ids(self) -> tuple[ast.Dialect, ...]:
        c = self.c
        if c.peek("("):
            dialects = c.attempt(lambda: self._set(self._dialect_id_item))
            if dialects is not None:
                return self._shared_acceptability(dialects)
        return self._shared_acceptability((ast.Dialect(refset=self.parser.sub_expression()),))

    def _dialect_id_item(self) -> ast.Dialect:
        ref = self.parser.concept_reference()
        return ast.Dialect(refset=ref, acceptability=self._item_acceptability())

    def dialect_aliases(self) -> tuple[ast.Dialect, ...]:
        def one() -> ast.Dialect:
            alias = self.c.regex(_DIALECT_ALIAS)
            if alias is None:
                raise self.c.error("a dialect alias (e.g. en-gb)")
            return ast.Dialect(alias=alias.lower(), acceptability=self._item_acceptability())
        return self._shared_acceptability(self._set(one))

    def _item_acceptability(self) -> tuple[str | ast.ConceptRef, ...]:
        c = self.c
        mark = c.pos
        c.ws()
        if c.peek("("):
            found = c.attempt(self.acceptability_set)
            if found is not None:
                return found
        c.pos = mark
        return ()

    def _shared_acceptability(self, dialects: tuple[ast.Dialect, ...]) -> tuple[ast.Dialect, ...]:
        """A trailing acceptability set applies to every dialect of the filter."""
        shared = self._item_acceptability()
        if not shared:
            return dialects
        return tuple(ast.Dialect(d.refset, d.alias, d.acceptability or shared) for d in dialects)

    def acceptability_set(self) -> tuple[str | ast.ConceptRef, ...]:
        c = self.c
        c.expect("(")
        c.ws()
        if c.char().isdigit():
            items: list[str | ast.ConceptRef] = [self.parser.concept_reference()]
            item: Callable[[], str | ast.ConceptRef] = self.parser.concept_reference
        else:
            item = self._acceptability_token
            items = [item()]
        while True:
            had_space = c.ws()
            if c.accept(")"):
                return tuple(items)
            if not had_space:
                raise c.error("white space", "')'")
            items.append(item())

    def _acceptability_token(self) -> str:
        for word, token in (("acceptable", "accept"), ("accept", "accept"), ("preferred", "prefer"),
                            ("prefer", "prefer")):
            if self.c.accept_keyword(word):
                return token
        raise self.c.error("accept", "prefer")

    # -- search terms -------------------------------------------------------------------------------------------

    def search_term_ahead(self) -> bool:
        """A typed search term (or a set of them) starts here."""
        c = self.c
        if c.peek('"') or c.keyword_ahead("match") or c.keyword_ahead("wild"):
            return True
        if not c.peek("("):
            return False
        mark = c.pos
        c.pos += 1
        c.ws()
        found = c.peek('"') or c.keyword_ahead("match") or c.keyword_ahead("wild")
        c.pos = mark
        return found

    def typed_search_terms(self) -> tuple[ast.SearchTerm, ...]:
        c = self.c
        if not c.peek("("):
            return (self.typed_search_term(),)
        c.pos += 1
        c.ws()
        terms = [self.typed_search_term()]
        while True:
            had_space = c.ws()
            if c.accept(")"):
                return tuple(terms)
            if not had_space:
                raise c.error("white space", "')'")
            terms.append(self.typed_search_term())

    def typed_search_term(self) -> ast.SearchTerm:
        c = self.c
        kind = "match"
        for word in ("match", "wild"):
            if c.accept_keyword(word):
                c.ws()
                c.expect(":")
                c.ws()
                kind = word
                break
        if not c.peek('"'):
            raise c.error("a quoted search term")
        start = c.pos
        raw = c.quoted()
        if kind == "match":
            text = re.sub(r"\\(.)", r"\1", raw).strip()
            if not text:
                raise c.error("a non-empty search term", pos=start)
            return ast.SearchTerm("match", text)
        if not raw:
            raise c.error("a non-empty search term", pos=start)
        return ast.SearchTerm("wild", raw)
