"""A wheel built from the checkout works anywhere: installed in a fresh virtual environment and used from another
directory, with no data folder, ``smt load-samples``, ``smt load cim10 <file>`` and ``smt serve`` answer, and
``$lookup`` of E11 shows its parent block E10-E14 with its French label (shipped with the package).

The fresh environment gets only the wheel; its third-party dependencies are borrowed from the test environment
through a path entry (installing them from the package index takes minutes), which leaves SMT itself — code,
catalogue, samples, loader data — coming from the wheel alone: the test checks where ``smt`` is imported from.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from smt.config import PROJECT_ROOT
from tests.server import free_port

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_wheel_in_a_fresh_venv_from_another_directory(tmp_path: Path, shared_data: Path) -> None:
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(PROJECT_ROOT),
        cwd=tmp_path)
    (wheel,) = wheels.glob("smt-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(run(str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path).strip())
    borrowed = sysconfig.get_path("purelib")  # third-party packages (and pip) of the test environment
    run(str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-installed", "--no-compile",
        str(wheel), cwd=tmp_path, env={**os.environ, "PYTHONPATH": borrowed})
    (site / "dependencies.pth").write_text(borrowed + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "SMT_DATA_DIR")}
    env["SMT_HOME"] = str(elsewhere / "var")
    smt = str(venv / "bin" / "smt")
    origin = run(str(python), "-c", "import smt, terminologies, loaders; print(smt.__file__, terminologies.__file__)",
                 cwd=elsewhere, env=env)
    assert all(path.startswith(str(site)) for path in origin.split()), origin
    assert not (elsewhere / ".." / "shared" / "data").exists()

    assert run(smt, "--version", cwd=elsewhere, env=env).strip().startswith("smt ")
    core = site / "terminologies" / "samples" / "fhir_r4_core"  # the FHIR R4 core terminology ships too
    assert {p.name for p in core.glob("*.json.gz")} == {"r4-core-codesystems.json.gz", "r4-core-valuesets.json.gz"}
    assert "loaded sample" in run(smt, "load-samples", "--no-core", cwd=elsewhere, env=env)
    source = shared_data / "cim10" / "nomensland" / "cim10_fr_pmsi_2021.tsv.gz"
    assert "version 2021" in run(smt, "load", "cim10", str(source), cwd=elsewhere, env=env)

    port = free_port()
    server = subprocess.Popen([smt, "serve", "--port", str(port)], cwd=elsewhere, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            answer = None
            while answer is None:
                assert server.poll() is None, "smt serve ended"
                try:
                    answer = client.get("/fhir/CodeSystem/$lookup", params={"system": CIM10, "code": "E11"})
                except httpx.TransportError:
                    time.sleep(0.1)
            assert answer.status_code == 200, answer.text
            properties = [{part["name"]: part.get("valueCode", part.get("valueString")) for part in p["part"]}
                          for p in answer.json()["parameter"] if p["name"] == "property"]
            assert {"code": "parent", "value": "E10-E14", "description": "Diabète sucré"} in properties
    finally:
        server.terminate()
        server.wait(timeout=30)
