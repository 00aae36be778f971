"""The ``smt mcp`` command (registered by ``smt.cli``)."""

from __future__ import annotations

import logging
import sys

from smt.config import smt_home


def mcp() -> None:
    """Serve the published releases to AI assistants: an MCP server on stdio (search, lookup, validate_code,
    expand, translate; read-only). See docs/mcp.md."""
    from smt.agent.server import run

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    run(smt_home())
