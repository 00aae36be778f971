"""SNOMED CT Expression Constraint Language (ECL 2.2): parser, AST and evaluator over a small backend protocol.

``parse(text)`` gives the AST; ``evaluate(text_or_ast, backend)`` the set of concept ids it selects.
"""

from smt.ecl.backend import EclBackend
from smt.ecl.errors import EclError, EclEvaluationError, EclSyntaxError, EclUnknownConcept, EclUnsupported
from smt.ecl.evaluator import evaluate
from smt.ecl.parser import parse

__all__ = [
    "EclBackend",
    "EclError",
    "EclEvaluationError",
    "EclSyntaxError",
    "EclUnknownConcept",
    "EclUnsupported",
    "evaluate",
    "parse",
]
