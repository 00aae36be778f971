"""``smt mcp``: the agent tools (``smt.agent.tools``) served over MCP on stdio with the official ``mcp`` package.

Five read-only tools — ``search``, ``lookup``, ``validate_code``, ``expand``, ``translate`` — over the published
releases of the store at ``SMT_HOME`` (drafts are never visible). A tool that fails (unknown code system, a
parameter out of bounds) answers an MCP tool error carrying the message, as the HTTP API's OperationOutcome
would. The protocol owns stdout: logs go to stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

import smt
from smt.agent import tools
from smt.errors import SmtError
from smt.releases.registry import Registry

INSTRUCTIONS = (
    "Terminologies of French health software (CIM-10 FR, CISP-2, ANS NOS, SNOMED CT…), published releases only. "
    "Quote codes only as these tools return them, with their system and version: search finds concepts by words, "
    "lookup and validate_code check a code, expand lists a value set, translate follows published maps."
)
Answer = dict[str, Any]
"""A tool's answer: a JSON object (MCP structured content)."""
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


def build_server(home: Path) -> MCPServer:
    """The MCP server over the published releases of the store at ``home``."""
    registry = Registry(home).public()
    server = MCPServer("smt", instructions=INSTRUCTIONS, version=smt.__version__)

    def answer(call: Callable[[], Answer]) -> Answer:
        try:
            return call()
        except SmtError as exc:
            raise ToolError(str(exc)) from None

    @server.tool(annotations=READ_ONLY)
    def search(text: str, system: str | None = None, version: str | None = None, count: int = 10) -> Answer:
        """Find concepts by words or code (French first, abbreviations understood), best match first.
        ``system`` (a code system URL or OID) and ``version`` narrow it; ``count`` ≤ 200."""
        return answer(lambda: tools.search_concepts(registry, text, system, version, count))

    @server.tool(annotations=READ_ONLY)
    def lookup(system: str, code: str, version: str | None = None, display_language: str | None = None) -> Answer:
        """A code's display, designations and properties in a code system version (default: the latest
        published); for a retired code, its retirement date, reason and replacements when known."""
        return answer(lambda: tools.lookup(registry, system, code, version, display_language))

    @server.tool(annotations=READ_ONLY)
    def validate_code(system: str, code: str, version: str | None = None, display: str | None = None,
                      value_set: str | None = None) -> Answer:
        """Whether a code is valid in a code system version (and in ``value_set``, a value set URL, when given),
        with the correct display and the issues found (unknown code, wrong display, inactive code…)."""
        return answer(lambda: tools.validate_code(registry, system, code, version, display, value_set))

    @server.tool(annotations=READ_ONLY)
    def expand(value_set: str, filter: str | None = None, count: int = 20, offset: int = 0,
               value_set_version: str | None = None) -> Answer:
        """A page of the codes of a value set (URL), optionally only those whose terms match ``filter``."""
        return answer(lambda: tools.expand_value_set(registry, value_set, filter, count, offset, value_set_version))

    @server.tool(annotations=READ_ONLY)
    def translate(system: str, code: str, version: str | None = None, target_system: str | None = None,
                  concept_map: str | None = None) -> Answer:
        """The codes a code maps to through the published concept maps (or the one ``concept_map`` names),
        optionally only into ``target_system``."""
        return answer(lambda: tools.translate_code(registry, system, code, version, target_system, concept_map))

    return server


def run(home: Path) -> None:
    """Serve MCP on stdin/stdout until the client closes the connection."""
    build_server(home).run("stdio")
