"""The README works as written, in order: ``make run`` (``smt load-samples``), then every line of "Loading the
full official files", with the real files. The only substitutions are the README's placeholders (a file the
reader has and this machine has not, a release id, a canonical URL), each named in ``PLACEHOLDERS``."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from smt.config import PROJECT_ROOT, SAMPLES_DIR
from tests.server import running_server, smt_command

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"


def readme_commands() -> list[str]:
    """The ``smt`` lines of the README's "Loading the full official files" block, comments removed."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Loading the full official files", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    return [line for line in lines if line.startswith("smt ")]


def placeholders(tmp_path: Path, shared_data: Path) -> dict[str, str]:
    """README placeholder → what this machine has of that kind."""
    atih = tmp_path / "LIBCIM10MULTI.TXT"
    shutil.copy(SAMPLES_DIR / "cim10" / "LIBCIM10MULTI_2021_extrait.TXT", atih)
    snomed = tmp_path / "SnomedCT_InternationalRF2_PRODUCTION_20250801T120000Z.zip"
    subset = shared_data / "snomed-sample" / "hl7-tx-ecosystem-subset-INT-20250909"
    with zipfile.ZipFile(snomed, "w") as archive:
        for file in subset.rglob("*.txt"):
            archive.write(file, f"SnomedCT/{file.relative_to(subset)}")
    resources = tmp_path / "resources"
    resources.mkdir()
    fixtures = Path(__file__).parents[1] / "fixtures"
    shutil.copy(fixtures / "sssom" / "conceptmap-r4.json", resources)
    return {
        "LIBCIM10MULTI.TXT": str(atih),
        "SnomedCT_InternationalRF2_PRODUCTION_20250801T120000Z.zip": str(snomed),
        "path/to/resources/": str(resources),
        "mappings.sssom.tsv": str(fixtures / "sssom" / "demo.sssom.tsv"),
        "<canonical url>": CIM10,
    }


def test_readme_load_lines_work_in_order_after_make_run(tmp_path: Path, shared_data: Path) -> None:
    home = tmp_path / "home"
    commands = readme_commands()
    assert len(commands) >= 14 and commands[0].startswith("smt load cim10 ")
    smt_command(home, "load-samples", "--no-core")  # what `make run` does before serving (less the FHIR core)
    given = placeholders(tmp_path, shared_data)
    data = str(shared_data)
    for command in commands:
        written = command
        for placeholder, value in given.items():
            written = written.replace(placeholder, value)
        words = [word.replace("../shared/data", data, 1) for word in written.split()[1:]]
        if "<release-id>" in words:
            ids = [line.split("\t")[0] for line in smt_command(home, "releases").stdout.splitlines()[1:]]
            words = [ids[0] if word == "<release-id>" else word for word in words]
        if words[0] == "serve":  # `smt serve` on a free port (not 8000: other servers may run here)
            with running_server(home, workers=1) as client:
                assert client.get("/fhir/CodeSystem/$lookup", params={"system": CIM10, "code": "E11"}).is_success
            continue
        result = smt_command(home, *words, check=False)
        assert result.returncode == 0, f"README line `{command}` failed:\n{result.stdout}\n{result.stderr}"
        if words[:2] == ["load", "cim10"] and "2021" in words[2]:
            assert re.search(r"version 2021 .* replacing release terminologie-cim-10-2021-", result.stdout), (
                "the real CIM-10 2021 replaces the sample")
    rows = [line.split("\t") for line in smt_command(home, "releases").stdout.splitlines()[1:]]
    cim10 = {row[3]: int(row[5]) for row in rows if row[2] == CIM10}
    assert set(cim10) == {"2015", "2016", "2017", "2018", "2019", "2020", "2021", "2024"}
    assert cim10["2021"] == 42_880 + 258  # the real file, not the 109-concept sample
