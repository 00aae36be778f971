"""The agent interface: ``smt mcp``, an MCP server on stdio over the published releases (``docs/mcp.md``)."""
