"""The `smt` command as users run it: load, releases, status, remove, error reporting."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smt.cli import app
from smt.config import SAMPLES_DIR
from tests.store.test_store import snapshot

runner = CliRunner()


def smt(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_load_samples_then_list(home: Path) -> None:
    code, out = smt("load-samples", "--no-core")
    assert code == 0, out
    assert "terminologie-cim-10 version 2021" in out and "terminologie-cisp" in out
    assert "JDV_J19-ModePriseEnCharge-ROR" in out
    code, out = smt("load-samples", "--no-core")
    assert code == 0 and "already loaded" in out
    code, out = smt("releases")
    assert code == 0
    assert "terminologie-cim-10" in out and "2021" in out and "active" in out


def test_load_status_and_remove(home: Path) -> None:
    code, out = smt("load", "cisp2", str(SAMPLES_DIR / "cisp2"), "--version", "test-1", "--status", "draft")
    assert code == 0, out
    assert "version test-1" in out and "draft" in out
    code, out = smt("status", "https://smt.esante.gouv.fr/terminologie-cisp", "active", "--version", "test-1")
    assert code == 0 and "is now active" in out
    code, out = smt("remove", "https://smt.esante.gouv.fr/terminologie-cisp", "--version", "test-1")
    assert code == 0 and "removed" in out
    assert snapshot(home)[0] == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("A00|3|NNNN|3|CHOLERA|Choléra\nA000|0|NOOO\n", ":2"),  # truncated last line
        ("A00|3|NNNN|3|CHOLERA|Choléra\nA00|3|NNNN|3|CHOLERA|Choléra\n", ":2"),  # duplicate code
    ],
)
def test_malformed_input_names_file_and_line_and_changes_nothing(home: Path, tmp_path: Path, content: str,
                                                                 expected: str) -> None:
    assert smt("load-samples", "--no-core")[0] == 0
    before = snapshot(home)
    bad = tmp_path / "LIBCIM10MULTI_2022.TXT"
    bad.write_bytes(content.encode("latin-1"))
    code, out = smt("load", "cim10", str(bad))
    assert code == 1
    assert f"LIBCIM10MULTI_2022.TXT{expected}" in out.replace("\n", "")
    assert snapshot(home) == before


def test_wrong_encoding_and_truncated_gzip(home: Path, tmp_path: Path) -> None:
    utf8 = tmp_path / "LIBCIM10MULTI_2022.TXT"
    utf8.write_bytes("A00|3|NNNN|3|CHOLERA|Choléra\n".encode())
    code, out = smt("load", "cim10", str(utf8))
    assert code == 1 and "LIBCIM10MULTI_2022.TXT:1" in out.replace("\n", "")
    truncated = tmp_path / "cim10_2022.tsv.gz"
    rows = "code\ttr\ttssr\ttpsy\tlib_court\tlib_long\tcategorie\n" + "".join(
        f"A{n:03d}\t3\tNNNN\t3\tLIBELLE {n}\tLibellé {n}\tA{n:03d}\n" for n in range(1000))
    packed = gzip.compress(rows.encode())
    truncated.write_bytes(packed[: len(packed) // 2])
    code, out = smt("load", "cim10", str(truncated))
    assert code == 1 and "cim10_2022.tsv.gz" in out and "gzip" in out
    assert snapshot(home)[0] == []


def test_unknown_loader_and_missing_file(home: Path) -> None:
    code, out = smt("load", "nope", "x")
    assert code == 1 and "unknown loader 'nope'" in out
    code, out = smt("load", "cim10", "/does/not/exist")
    assert code == 1 and "no such file" in out


def test_base_option_only_for_loaders_that_take_it(home: Path) -> None:
    code, out = smt("load", "cisp2", str(SAMPLES_DIR / "cisp2"), "--base", str(SAMPLES_DIR))
    assert code == 1 and "does not take --base" in out
    assert snapshot(home)[0] == []


def test_diff_between_two_loaded_versions(home: Path, tmp_path: Path) -> None:
    source = (SAMPLES_DIR / "cim10" / "LIBCIM10MULTI_2021_extrait.TXT").read_bytes().decode("latin-1")
    lines = source.splitlines()
    changed = [line.replace("Choléra, sans précision", "Choléra, sans autre précision") for line in lines
               if not line.startswith("A000 ")]
    newer = tmp_path / "LIBCIM10MULTI_2022.TXT"
    newer.write_bytes(("\n".join(changed) + "\n").encode("latin-1"))
    older = tmp_path / "LIBCIM10MULTI_2021.TXT"
    older.write_bytes(source.encode("latin-1"))
    assert smt("load", "cim10", str(older))[0] == 0
    assert smt("load", "cim10", str(newer), "--status", "draft")[0] == 0  # checked before it is published
    url = "https://smt.esante.gouv.fr/terminologie-cim-10"
    code, out = smt("diff", url, "2021", "2022")
    assert code == 0, out
    assert "2021 → 2022" in out and "removed: 1" in out and "display: 1" in out
    code, out = smt("diff", url, "2021", "2022", "--format", "csv")
    assert code == 0 and "A00.9" in out and "Choléra, sans autre précision" in out
    code, out = smt("diff", url, "2021", "1999")
    assert code == 1 and "1999" in out
