"""``smt mcp``: an MCP client session (the ``mcp`` package's stdio client) against a real ``smt mcp`` process.

Over the real data store: search "insuffisance cardiaque", validate I50.0 against CIM-10 2021, look up,
expand and translate; every answer names system, version and code; bounds and unknown resources answer tool
errors. Over a small store: a draft release is invisible.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from smt.compile import writable_store
from tests.factories import make_release
from tests.stores import CIM10, TEST_VS, analytics_home

TOOLS = {"search", "lookup", "validate_code", "expand", "translate"}


def session(home: Path, script: Callable[[Client], Awaitable[None]]) -> None:
    """Run ``script`` in an MCP session with ``smt mcp`` (a new process) over the store at ``home``."""
    server = StdioServerParameters(command=sys.executable, args=["-m", "smt.cli", "mcp"],
                                   env={"SMT_HOME": str(home), "SMT_DATA_DIR": os.environ.get("SMT_DATA_DIR", "")})

    async def run() -> None:
        async with Client(server) as client:
            await script(client)

    anyio.run(run)


async def call(client: Client, tool: str, **arguments: Any) -> dict:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    return result.content[0].text


@pytest.mark.shared_data
@pytest.mark.slow
def test_a_client_session_searches_and_validates_against_cim10_2021(tmp_path_factory: pytest.TempPathFactory) -> None:
    home = analytics_home(tmp_path_factory)

    async def script(client: Client) -> None:
        listed = (await client.list_tools()).tools
        assert {t.name for t in listed} == TOOLS
        assert all(t.annotations and t.annotations.read_only_hint for t in listed)

        found = await call(client, "search", text="insuffisance cardiaque", count=5)
        top = found["results"][0]
        assert (top["system"], top["version"], top["code"]) == (CIM10, "2021", "I50")
        assert {r["code"] for r in found["results"]} >= {"I50", "I50.0"}
        assert all(r["system"] and r["version"] and r["code"] for r in found["results"])

        valid = await call(client, "validate_code", system=CIM10, code="I50.0", version="2021")
        assert (valid["result"], valid["system"], valid["version"], valid["code"]) == (True, CIM10, "2021", "I50.0")
        assert valid["display"] == "Insuffisance cardiaque congestive" and valid["issues"] == []
        wrong = await call(client, "validate_code", system=CIM10, code="I50.0", version="2021", display="Angine")
        assert wrong["result"] is False and "Insuffisance cardiaque congestive" in wrong["message"]
        unknown = await call(client, "validate_code", system=CIM10, code="I50.7", version="2021")
        assert unknown["result"] is False and "I50.7" in unknown["message"]

        looked = await call(client, "lookup", system=CIM10, code="I50.0", version="2020")
        assert (looked["system"], looked["version"], looked["code"]) == (CIM10, "2020", "I50.0")

        paraplegia = TEST_VS + "is-a"  # CIM-10 is-a G82
        page = await call(client, "expand", value_set=paraplegia, count=3)
        assert page["total"] > len(page["contains"]) == 3
        assert all((e["system"], e["version"]) == (CIM10, "2021") and e["code"].startswith("G82")
                   for e in page["contains"])

        mapped = await call(client, "translate", system="https://smt.esante.gouv.fr/terminologie-cisp", code="K86")
        assert mapped["result"] is True
        assert {(m["system"], m["version"], m["code"]) for m in mapped["matches"]} >= {(CIM10, "2021", "I10")}

        assert "count" in await refused(client, "expand", value_set=paraplegia, count=10**9)
        assert "longer than 500" in await refused(client, "search", text="x" * 501)
        assert "could not be found" in await refused(client, "expand", value_set="https://example.org/none")

    session(home, script)


def test_drafts_are_not_served(home: Path) -> None:
    store = writable_store(home)
    store.load(make_release("1"))
    store.load(make_release("2"), status="draft")

    async def script(client: Client) -> None:
        found = await call(client, "lookup", system="http://example.org/cs", code="A")
        assert found["version"] == "1"
        assert "Valid versions: 1" in await refused(client, "lookup", system="http://example.org/cs", code="A",
                                               version="2")
        assert (await call(client, "search", text="Alpha"))["results"][0]["version"] == "1"

    session(home, script)
