"""SNOMED CT Expression Constraint Language (ECL 2.2): parser, AST and evaluator over a small backend protocol.

``parse(text)`` gives the AST; ``evaluate(text_or_ast, backend)`` the set of concept ids it selects.
"""

from smt.ecl.backend import EclBackend
from smt.ecl.evaluator import evaluate
from smt.ecl.parser import parse
from smt.errors import EclError, EclEvaluationError, EclSyntaxError, EclUnknownConcept, EclUnsupported

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
