"""`runs plot`: every kind from a tiny database to PNG, SVG and PDF, TrueType fonts only in
the PDF, and a CSV that holds exactly the numbers drawn."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.patches import Rectangle
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from typer.testing import CliRunner

from llmd4rec_tui.cli import app
from llmd4rec_tui.figures.data import FigureData
from llmd4rec_tui.figures.render import draw, figure_data, write
from llmd4rec_tui.results import METRICS
from llmd4rec_tui.store.db import open_store
from llmd4rec_tui.store.figure_source import figure_source
from llmd4rec_tui.store.views import compare_inputs

runner = CliRunner()
CHOICES = {
    "rounds": ["sasrec0", "sasrec1", "e4srec0", "llmd0", "llmd1"],
    "ablations": ["llmd0", "llmd1", "wo_w0"],
    "weights": ["trained0", "trained1"],
    "losses": ["trained0"],
    "sweep": [f"sweep-t1-{t1}-{seed}" for t1 in (1.0, 2.0, 4.0) for seed in (0, 1)],
}


def _data(db: str, ids: list[int], kind: str, split: str = "test") -> FigureData:
    store = open_store(f"sqlite:///{db}")
    try:
        with store.session() as session:
            source = figure_source(session, list(compare_inputs(session, ids)), split, METRICS, kind)
    finally:
        store.close()
    return figure_data(kind, source, "ndcg@10")


def _fonts(pdf: Path) -> list[str]:
    subtypes = []
    for page in PdfReader(pdf).pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        fonts = resources.get("/Font", {})
        for ref in fonts.get_object().values():
            subtypes.append(str(ref.get_object()["/Subtype"]))
    return subtypes


@pytest.mark.parametrize("kind", list(CHOICES))
def test_each_kind_renders_png_svg_and_pdf_with_truetype_fonts(
    figures_db: tuple[str, dict[str, int]], tmp_path: Path, kind: str
) -> None:
    db, ids = figures_db
    chosen = [str(ids[name]) for name in CHOICES[kind]]
    pdf, table = tmp_path / f"{kind}.pdf", tmp_path / f"{kind}.csv"
    result = runner.invoke(
        app, ["--db", db, "runs", "plot", kind, *chosen, "--out", str(pdf), "--data-out", str(table)]
    )
    assert result.exit_code == 0, result.output
    assert pdf.stat().st_size > 1000 and table.read_text().startswith("panel,series,role,x,y,err,n")
    fonts = _fonts(pdf)
    assert fonts and "/Type3" not in fonts, fonts
    data = _data(db, [int(i) for i in chosen], kind)
    assert data.to_csv() == table.read_text()
    assert "protocol: " in data.caption and "PdfReader" not in data.caption
    metadata = PdfReader(pdf).metadata
    assert metadata is not None and metadata.subject == data.caption
    figure = draw(data)
    for suffix, magic in (("png", b"\x89PNG"), ("svg", b"<?xml")):
        out = tmp_path / f"{kind}.{suffix}"
        write(figure, data, out)
        assert out.read_bytes().startswith(magic) and out.stat().st_size > 1000


def _rows(data: FigureData) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.to_csv())))


def test_the_rounds_csv_is_what_the_lines_draw(figures_db: tuple[str, dict[str, int]]) -> None:
    db, ids = figures_db
    data = _data(db, [ids[n] for n in CHOICES["rounds"]], "rounds")
    rows = _rows(data)
    crm = [r for r in rows if r["panel"] == "CRM" and r["series"] == "LLMD4Rec_C"]
    # llmd0 and llmd1 after each round: (0.30 + 0.31) / 2, ... of HR@10, NDCG@10 = 0.42 HR@10
    assert [round(float(r["y"]), 6) for r in crm] == [round(v * 0.42, 6) for v in (0.305, 0.335, 0.345)]
    figure = draw(data)
    drawn = {line.get_label(): list(np.asarray(line.get_ydata())) for ax in figure.axes for line in ax.get_lines()}
    for series in {r["series"] for r in rows}:
        plotted = [float(r["y"]) for r in rows if r["series"] == series]
        assert drawn[series] == pytest.approx(plotted if len(plotted) > 1 else plotted * 2), series


def test_the_ablation_bars_are_the_csv_means_with_seed_error_bars(figures_db: tuple[str, dict[str, int]]) -> None:
    db, ids = figures_db
    data = _data(db, [ids[n] for n in CHOICES["ablations"]], "ablations")
    rows = _rows(data)
    assert {(r["series"], r["x"]) for r in rows} == {
        ("LLMD4Rec", "CRM"), ("LLMD4Rec", "LLM"), ("LLMD4Rec w/o w", "CRM"), ("LLMD4Rec w/o w", "LLM"),
    }  # fmt: skip
    full_crm = next(r for r in rows if r["series"] == "LLMD4Rec" and r["x"] == "CRM")
    assert float(full_crm["err"]) == pytest.approx(0.00707107 * 0.42, rel=1e-4) and full_crm["n"] == "2"
    patches = draw(data).axes[0].patches
    bars = [p for p in patches if isinstance(p, Rectangle)]
    assert len(bars) == len(patches)
    heights = sorted(bar.get_height() for bar in bars)
    assert heights == pytest.approx(sorted(float(r["y"]) for r in rows))


def test_weights_add_the_runs_counts_and_each_ridge_is_a_distribution(figures_db: tuple[str, dict[str, int]]) -> None:
    db, ids = figures_db
    rows = _rows(_data(db, [ids["trained0"], ids["trained1"]], "weights"))
    assert {r["panel"] for r in rows} == {"w1 (LLM phase)", "w2 (CRM phase)"}
    ridge = [r for r in rows if r["panel"] == "w2 (CRM phase)" and r["series"] == "r2 e1"]
    # counts [1, 2, 5, 2] (seed 0) + [2, 2, 5, 2] (seed 1) over 21 samples
    assert [float(r["y"]) for r in ridge] == pytest.approx([3 / 21, 4 / 21, 10 / 21, 4 / 21])
    assert [float(r["x"]) for r in ridge] == [0.25, 0.75, 1.25, 1.75] and {r["n"] for r in ridge} == {"2"}


def test_losses_run_on_a_global_step_with_round_boundaries(figures_db: tuple[str, dict[str, int]]) -> None:
    db, ids = figures_db
    rows = _rows(_data(db, [ids["trained0"]], "losses"))
    ce = [(float(r["x"]), float(r["y"])) for r in rows if r["panel"] == "CRM" and r["series"] == "CE"]
    assert ce == [(1, 4.0), (2, 2.5), (3, 2.0), (4, 5.0), (5, 3.5), (6, 3.0)]  # round 2 continues at step 3 + s
    assert [(r["series"], r["x"]) for r in rows if r["role"] == "boundary"] == [("round 2", "3.0"), ("round 2", "3.0")]


def test_a_sweep_averages_seeds_along_the_swept_key(figures_db: tuple[str, dict[str, int]]) -> None:
    db, ids = figures_db
    rows = _rows(_data(db, [ids[n] for n in CHOICES["sweep"]], "sweep"))
    assert [float(r["x"]) for r in rows] == [1.0, 2.0, 4.0]
    assert [float(r["y"]) for r in rows] == pytest.approx([(0.2 + t / 100 + 0.0005) * 0.42 for t in (1, 2, 4)])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rounds", "--tag", "ml", "--out", "x.gif"], "expected a .png, .svg or .pdf"),
        (["bars", "--tag", "ml"], "KIND 'bars'"),
        (["rounds", "--tag", "ml", "--metric", "mrr"], "--metric 'mrr'"),
        (["rounds", "--tag", "ml", "--split", "train"], "--split 'train'"),
        (["losses", "--tag", "ml"], "losses draws one run"),
        (["sweep", "--tag", "ml"], "sweep draws runs that vary one or two config keys"),
    ],
)
def test_bad_choices_exit_2_naming_the_problem(
    figures_db: tuple[str, dict[str, int]], tmp_path: Path, args: list[str], message: str
) -> None:
    db, _ = figures_db
    result = runner.invoke(app, ["--db", db, "runs", "plot", *args], catch_exceptions=False)
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_the_cli_and_the_tui_start_without_matplotlib_or_optuna() -> None:
    code = "import sys, llmd4rec_tui.app, llmd4rec_tui.cli; print(sorted({'matplotlib', 'optuna'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
