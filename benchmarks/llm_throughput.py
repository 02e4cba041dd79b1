"""Throughput of the LLM recommender per backbone, layer count and prompt mode.

For each setting, in its own process (so peak memory is that setting's own): training
samples/s (forward, backward and AdamW step on LoRA + W_in + W_out), evaluation users/s
(score() over all items for validation histories), the mean prompt length in tokens and
the peak resident memory (plus peak CUDA memory on a GPU). Prompts come from ml-100k
(real titles) with the most recent ``--max-history`` items; the injected item table is
random (its values do not change the cost). Ratios are against the first setting
measured in the same run.

    python benchmarks/llm_throughput.py                       # the full table (several minutes)
    python benchmarks/llm_throughput.py --settings tiny-random:0 smollm2-135m:4 --modes ids

Writes benchmarks/out/llm_throughput.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_SETTINGS = ["tiny-random:0", "smollm2-135m:4", "smollm2-135m:8", "smollm2-135m:30"]
MODES = ["ids", "titles", "hybrid"]
OUT = Path(__file__).resolve().parent / "out"


def measure(args: argparse.Namespace) -> dict[str, object]:
    """One setting, in this process."""
    import numpy as np
    import torch

    from engine.backbone_catalog import default_cache_dir
    from engine.backbones import load_backbone, resolve_dtype
    from engine.config import DataSection
    from engine.data.load import load_dataset
    from engine.models.llm import LLMRecommender
    from engine.runtime import pick_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    backbone_name, layers = args.one.rsplit(":", 1)
    data = load_dataset(DataSection(dataset=args.dataset))
    torch.manual_seed(0)
    table = torch.randn(data.num_items + 1, 64)
    started = time.perf_counter()
    backbone = load_backbone(backbone_name, int(layers), resolve_dtype("auto", device), default_cache_dir())
    load_s = time.perf_counter() - started
    model = LLMRecommender(
        backbone,
        data,
        table,
        prompt_mode=args.mode,
        max_history=args.max_history,
        samples_per_user=args.samples_per_user,
        score_batch_size=args.eval_batch_size,
        device=device,
    )
    optimizer = torch.optim.AdamW(model.trainable_parameters(), lr=1e-4)
    rng = np.random.default_rng(0)
    batches = iter(model.train_batches(args.batch_size, rng))

    def train_one() -> int:
        out = model.train_step(next(batches))
        loss = torch.nn.functional.cross_entropy(out.logits, out.targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return len(out.targets)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(args.warmup):  # allocator, kernels and optimizer state settle first
        train_one()
    sync()
    done, started = 0, time.perf_counter()
    while done < args.train_samples:
        done += train_one()
    sync()
    train_s = time.perf_counter() - started

    split = data.eval_split("valid")
    users = np.random.default_rng(1).choice(data.num_users, size=args.eval_users + 8, replace=False)
    histories = [split.histories[u] for u in users]
    model.score(histories[:8])  # warm-up
    sync()
    started = time.perf_counter()
    model.score(histories[8:])
    sync()
    eval_s = time.perf_counter() - started

    prompt_lengths = model.prompts.lengths([h[-args.max_history :] for h in histories])
    result: dict[str, object] = {
        "backbone": backbone_name,
        "layers": backbone.num_layers,
        "mode": args.mode,
        "device": str(device),
        "dtype": str(next(backbone.model.parameters()).dtype).removeprefix("torch."),
        "threads": torch.get_num_threads(),
        "prompt_tokens": round(float(prompt_lengths.mean()), 1),
        "batch_size": args.batch_size,
        "train_samples_per_s": round(done / train_s, 2),
        "eval_users_per_s": round(args.eval_users / eval_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_s": round(load_s, 2),
        "trainable_params": model.parameter_counts()["trainable"],
    }
    if device.type == "cuda":
        result["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return result


def run_all(args: argparse.Namespace) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for setting in args.settings:
        for mode in args.modes:
            command = [sys.executable, __file__, "--one", setting, "--mode", mode]
            flags = (
                "dataset",
                "device",
                "threads",
                "batch_size",
                "train_samples",
                "eval_users",
                "samples_per_user",
                "warmup",
            )
            for flag in flags:
                command += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
            command += ["--max-history", str(args.max_history), "--eval-batch-size", str(args.eval_batch_size)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{setting} {mode}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(
                f"{setting:>16} {mode:>7}: train {row['train_samples_per_s']:7.2f}/s  "
                f"eval {row['eval_users_per_s']:7.2f}/s  {row['prompt_tokens']:6.1f} tokens  "
                f"{row['peak_rss_mb']:7.1f} MB",
                file=sys.stderr,
                flush=True,
            )
    return rows


def markdown(rows: list[dict[str, object]]) -> str:
    if not rows:
        return "(no rows)\n"
    base = rows[0]
    head = (
        "| backbone | layers | prompt | tokens | train samples/s | eval users/s | x train | x eval | peak RSS MB |"
        + (" peak CUDA MB |" if "peak_cuda_mb" in base else "")
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in rows:
        train_ratio = float(row["train_samples_per_s"]) / float(base["train_samples_per_s"])  # type: ignore[arg-type]
        eval_ratio = float(row["eval_users_per_s"]) / float(base["eval_users_per_s"])  # type: ignore[arg-type]
        cells = [
            row["backbone"],
            row["layers"],
            row["mode"],
            row["prompt_tokens"],
            row["train_samples_per_s"],
            row["eval_users_per_s"],
            f"{train_ratio:.3g}",
            f"{eval_ratio:.3g}",
            row["peak_rss_mb"],
        ]
        if "peak_cuda_mb" in base:
            cells.append(row.get("peak_cuda_mb", "-"))
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    first = rows[0]
    note = (
        f"\ndevice {first['device']} ({first['dtype']}, {first['threads']} threads), batch {first['batch_size']}; "
        f"ratios against {first['backbone']} {first['layers']} layers {first['mode']}.\n"
    )
    return "\n".join(lines) + "\n" + note


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", nargs="+", default=DEFAULT_SETTINGS, help="backbone:layers (0 = all)")
    parser.add_argument("--modes", nargs="+", default=MODES, choices=MODES)
    parser.add_argument("--dataset", default="ml-100k", help="a built-in dataset (prompts use its titles)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = torch default)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--train-samples", type=int, default=48, help="timed training samples per setting")
    parser.add_argument("--eval-users", type=int, default=64, help="timed evaluation users per setting")
    parser.add_argument("--eval-batch-size", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=3, help="untimed training batches first")
    parser.add_argument("--max-history", type=int, default=10)
    parser.add_argument("--samples-per-user", type=int, default=5)
    parser.add_argument("--tag", default="", help="suffix of the output files (e.g. 'gpu')")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args)))
        return 0
    rows = run_all(args)
    OUT.mkdir(exist_ok=True)
    stem = "llm_throughput" + (f"_{args.tag}" if args.tag else "")
    (OUT / f"{stem}.json").write_text(json.dumps(rows, indent=2))
    table = markdown(rows)
    (OUT / f"{stem}.md").write_text(table)
    print(table)
    return 0 if len(rows) == len(args.settings) * len(args.modes) else 1


if __name__ == "__main__":
    sys.exit(main())
