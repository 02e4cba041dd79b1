"""Our SASRec against RecBole 1.2.1's SASRec on ml-100k, side by side.

Both use the leave-one-out split of ml-100k, full ranking with the history masked,
maximum length 50, hidden 64, 2 layers, 2 heads, dropout 0.2, CE loss over all items,
Adam at lr 1e-3 and early stopping on validation NDCG@10 (all read from
examples/configs/ml100k-sasrec.toml). RecBole trains every prefix as a separate sample
(batch 256 samples); ours trains whole windows (batch 64 windows of up to 50 targets):
both see every training target once per epoch.

RecBole runs in its own virtual environment (benchmarks/out/recbole-venv, created on
first use, git-ignored): RecBole from PyPI and its light dependencies, the project's
pinned torch shared through a .pth file, ray stubbed and NumPy 2 aliases restored (see
benchmarks/recbole_runner.py).

    python benchmarks/recbole_sasrec.py --recbole-epochs 8 --epochs 40 --seeds 0
    python benchmarks/recbole_sasrec.py --recbole-log benchmarks/out/recbole_seed0.log  # reuse a RecBole run

Prints one Markdown table: test NDCG@10 and HR@10 (mean +/- std over seeds), wall seconds
per epoch (training plus validation), and the wall seconds each needs to reach RecBole's
best validation NDCG@10, with the ratio. Results also go to benchmarks/out/recbole_sasrec.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import statistics
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine.config import Config, load_config
from engine.data import load_dataset
from engine.evaluate import evaluate
from engine.events import Emitter
from engine.models.crm import build_crm
from engine.protocol import EpochEnd, Event
from engine.runtime import CancelToken, seed_everything
from engine.trainer import PhaseSettings, train_phase

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
VENV = OUT / "recbole-venv"
CONFIG = ROOT / "examples" / "configs" / "ml100k-sasrec.toml"
RECBOLE_PACKAGES = [
    "recbole==1.2.1",
    "scipy",
    "pandas",
    "scikit-learn",
    "pyyaml",
    "colorlog==4.7.2",
    "colorama==0.4.4",
    "tabulate",
    "texttable",
    "tensorboard",
    "plotly",
]


@dataclass
class Curve:
    """One training run: (cumulative seconds, validation NDCG@10) per epoch and test metrics."""

    name: str
    elapsed: list[float] = field(default_factory=list)
    valid: list[float] = field(default_factory=list)
    test: dict[str, float] = field(default_factory=dict)

    def seconds_per_epoch(self) -> float:
        return self.elapsed[-1] / len(self.elapsed)

    def seconds_to_reach(self, target: float) -> float | None:
        """Wall seconds until validation NDCG@10 first reaches target (None: never)."""
        for seconds, score in zip(self.elapsed, self.valid, strict=True):
            if score >= target - 1e-12:
                return seconds
        return None


def ensure_recbole_venv() -> Path:
    """Create the RecBole environment once; the project's torch is shared, never reinstalled."""
    python = VENV / "bin" / "python"
    if python.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    site = Path(sysconfig.get_paths()["purelib"])
    target_site = next((VENV / "lib").glob("python3*/site-packages"))
    (target_site / "zz_project_venv.pth").write_text(str(site) + "\n")
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--no-deps", RECBOLE_PACKAGES[0]], check=True)
    subprocess.run([*pip, *RECBOLE_PACKAGES[1:]], check=True)
    subprocess.run([*pip, "--no-deps", "thop"], check=True)
    return python


def parse_recbole(text: str, source: str) -> Curve:
    lines = [line for line in text.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise SystemExit(f"{source}: no 'RESULT {{...}}' line; the RecBole run did not finish (see the log)")
    result = json.loads(lines[-1].removeprefix("RESULT "))
    curve = Curve("RecBole 1.2.1 SASRec")
    for epoch in result["epochs"]:
        curve.elapsed.append(epoch["elapsed"])
        curve.valid.append(epoch["valid_ndcg@10"])
    curve.test = {"ndcg@10": result["test"]["ndcg@10"], "hr@10": result["test"]["hit@10"]}
    return curve


def read_finished_log(path: Path, wait_s: float) -> Curve:
    """A reused RecBole log, waiting up to wait_s for a run that is still writing it."""
    deadline = time.monotonic() + wait_s
    while "\nRESULT " not in "\n" + path.read_text() and time.monotonic() < deadline:
        time.sleep(10)
    return parse_recbole(path.read_text(), str(path))


def run_recbole(config: Config, seed: int, epochs: int, threads: int) -> Curve:
    python = ensure_recbole_venv()
    work = OUT / "recbole-work"
    work.mkdir(parents=True, exist_ok=True)
    c, t = config.crm, config.train
    args = [
        "--epochs", str(epochs), "--seed", str(seed), "--max-len", str(config.data.max_seq_len),
        "--hidden", str(c.hidden_size), "--layers", str(c.num_layers), "--heads", str(c.num_heads),
        "--dropout", str(c.dropout), "--lr", str(t.crm_lr), "--patience", str(t.patience),
        "--threads", str(threads),
    ]  # fmt: skip
    log = OUT / f"recbole_seed{seed}.log"
    with log.open("w") as handle:
        code = subprocess.run(
            [str(python), str(ROOT / "benchmarks" / "recbole_runner.py"), *args],
            cwd=work,
            stdout=handle,
            stderr=subprocess.STDOUT,
        ).returncode
    if code != 0:
        raise SystemExit(f"RecBole failed with exit code {code}; see {log}")
    return parse_recbole(log.read_text(), str(log))


class EpochClock(Emitter):
    """Records validation NDCG@10 and wall time at each epoch end, prints nothing."""

    def __init__(self, curve: Curve) -> None:
        super().__init__(stream=io.StringIO())
        self.curve, self.started = curve, time.perf_counter()

    def emit(self, event: Event) -> None:
        if isinstance(event, EpochEnd):
            self.curve.elapsed.append(time.perf_counter() - self.started)
            self.curve.valid.append(event.valid["ndcg@10"])


def run_ours(config: Config, seed: int, epochs: int) -> Curve:
    seed_everything(seed)
    data = load_dataset(config.data)
    model = build_crm(config, data)
    settings = PhaseSettings.from_config(config, "crm")
    settings = dataclasses.replace(settings, epochs=epochs, seed=seed)
    curve = Curve("llmd4rec SASRec")
    train_phase(model, data, settings, EpochClock(curve), CancelToken(), 0, "crm")
    test = evaluate(model, data, "test", ks=[10], batch_size=config.eval.batch_size).metrics
    curve.test = {"ndcg@10": test["ndcg@10"], "hr@10": test["hr@10"]}
    return curve


def mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def table(recbole: list[Curve], ours: list[Curve]) -> str:
    target = statistics.mean(max(c.valid) for c in recbole)
    rows = [
        "| implementation | test NDCG@10 | test HR@10 | s / epoch | s to RecBole's best valid NDCG@10 | epochs run |"
    ]
    rows.append("|---|---|---|---|---|---|")
    reach: dict[str, float | None] = {}
    for name, curves in (("RecBole 1.2.1", recbole), ("llmd4rec", ours)):
        times = [c.seconds_to_reach(target) for c in curves]
        reached = [t for t in times if t is not None]
        reach[name] = statistics.mean(reached) if len(reached) == len(times) else None
        shown = f"{reach[name]:.0f}" if reach[name] is not None else "not reached"
        rows.append(
            f"| {name} | {mean_std([c.test['ndcg@10'] for c in curves])}"
            f" | {mean_std([c.test['hr@10'] for c in curves])}"
            f" | {statistics.mean(c.seconds_per_epoch() for c in curves):.1f} | {shown}"
            f" | {', '.join(str(len(c.elapsed)) for c in curves)} |"
        )
    theirs, mine = reach["RecBole 1.2.1"], reach["llmd4rec"]
    ratio = f"{theirs / mine:.1f}x less wall time" if theirs and mine else "n/a"
    per_epoch = statistics.mean(c.seconds_per_epoch() for c in recbole) / statistics.mean(
        c.seconds_per_epoch() for c in ours
    )
    rows.append("")
    rows.append(
        f"RecBole's best validation NDCG@10: {target:.4f}. Time to reach it: {ratio}; per epoch: {per_epoch:.1f}x."
    )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=40, help="Most epochs for ours (early stopping applies).")
    parser.add_argument("--recbole-epochs", type=int, default=8, help="Most epochs for RecBole (~200-270 s each here).")
    parser.add_argument("--recbole-log", type=Path, nargs="*", help="Reuse finished RecBole runs (one log per seed).")
    parser.add_argument("--wait", type=float, default=3600, help="Seconds to wait for a reused log to finish.")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for both implementations.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = load_config(CONFIG)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.recbole_log:  # ours first, so a RecBole run still finishing can be read afterwards
        ours = [run_ours(config, seed, args.epochs) for seed in args.seeds]
        recbole = [read_finished_log(path, args.wait) for path in args.recbole_log]
    else:
        recbole = [run_recbole(config, seed, args.recbole_epochs, args.threads) for seed in args.seeds]
        ours = [run_ours(config, seed, args.epochs) for seed in args.seeds]
    report = table(recbole, ours)
    print(report)
    dump = {"recbole": [c.__dict__ for c in recbole], "ours": [c.__dict__ for c in ours], "table": report}
    (OUT / "recbole_sasrec.json").write_text(json.dumps(dump, indent=2))


if __name__ == "__main__":
    main()
