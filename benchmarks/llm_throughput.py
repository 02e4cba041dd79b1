"""Throughput of the LLM recommender per backbone, layer count, prompt mode and readout.

For each setting, in its own process (so peak memory is that setting's own): training
samples/s (forward, backward and AdamW step on LoRA + W_in + W_out; a sample is one
trained prefix: a prompt for ``last``, a read item of a window for ``every_item``),
teacher-scoring samples/s (score_keys over every training position of
``--teacher-users`` users, as a CRM phase's cached LLM teacher does), evaluation users/s
(score() over all items for validation histories), the mean prompt length in tokens and
the peak resident memory (plus peak CUDA memory on a GPU). Prompts come from ml-100k
(real titles); ``last`` shows the most recent ``--max-history`` items, ``every_item``
windows of ``--window`` items. The injected item table is random (its values do not
change the cost). Batches hold ``--batch-size`` prompts or windows for both readouts.
Ratios are against the first setting measured in the same run, and every_item against
last for each backbone, layer count and prompt mode.

    python benchmarks/llm_throughput.py                       # the full table (several minutes)
    python benchmarks/llm_throughput.py --settings tiny-random:0 smollm2-135m:4 --modes ids
    python benchmarks/llm_throughput.py --settings smollm2-135m:4 --modes ids title_emb --readouts last every_item

Writes benchmarks/out/llm_throughput.{json,md}.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_SETTINGS = ["tiny-random:0", "smollm2-135m:4", "smollm2-135m:8", "smollm2-135m:30"]
MODES = ["ids", "titles", "hybrid", "title_emb"]
READOUTS = ["last", "every_item"]
OUT = Path(__file__).resolve().parent / "out"


def measure(args: argparse.Namespace) -> dict[str, object]:
    """One setting, in this process."""
    import numpy as np
    import torch

    from engine.backbone_catalog import default_cache_dir
    from engine.backbones import load_backbone, resolve_dtype
    from engine.config import DataSection
    from engine.data.dataset import KEY_STRIDE
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
    history = args.max_history if args.readout == "last" else args.window
    model = LLMRecommender(
        backbone,
        data,
        table,
        prompt_mode=args.mode,
        max_history=history,
        samples_per_user=args.samples_per_user if args.readout == "last" else 0,
        score_batch_size=args.eval_batch_size,
        device=device,
        readout=args.readout,
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
    for _ in range(args.train_batches):
        done += train_one()
    sync()
    train_s = time.perf_counter() - started

    teacher_users = np.random.default_rng(2).choice(data.num_users, size=args.teacher_users, replace=False)
    all_keys = data.llm_samples(0)
    teacher_keys = all_keys[np.isin(all_keys // KEY_STRIDE, teacher_users)]
    started = time.perf_counter()
    scored = sum(len(index) for index, _ in model.score_keys(teacher_keys, 2 * args.batch_size))
    sync()
    teacher_s = time.perf_counter() - started
    assert scored == len(teacher_keys)

    split = data.eval_split("valid")
    users = np.random.default_rng(1).choice(data.num_users, size=args.eval_users + 8, replace=False)
    histories = [split.histories[u] for u in users]
    model.score(histories[:8])  # warm-up
    sync()
    started = time.perf_counter()
    model.score(histories[8:])
    sync()
    eval_s = time.perf_counter() - started

    prompt_lengths = model.prompts.lengths([h[-history:] for h in histories], model.answer)
    result: dict[str, object] = {
        "backbone": backbone_name,
        "layers": backbone.num_layers,
        "mode": args.mode,
        "readout": args.readout,
        "history": history,
        "device": str(device),
        "dtype": str(next(backbone.model.parameters()).dtype).removeprefix("torch."),
        "threads": torch.get_num_threads(),
        "prompt_tokens": round(float(prompt_lengths.mean()), 1),
        "batch_size": args.batch_size,
        "train_samples_per_s": round(done / train_s, 2),
        "teacher_samples_per_s": round(len(teacher_keys) / teacher_s, 2),
        "teacher_samples": len(teacher_keys),
        "eval_users_per_s": round(args.eval_users / eval_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_s": round(load_s, 2),
        "trainable_params": model.parameter_counts()["trainable"],
    }
    if model.titles is not None:  # title_emb: the one-off title vectors (built or read from the cache)
        result["title_vectors_s"] = round(model.titles.seconds, 2)
        result["title_vectors_reused"] = model.titles.reused
    if device.type == "cuda":
        result["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return result


def run_all(args: argparse.Namespace) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for setting, mode, readout in itertools.product(args.settings, args.modes, args.readouts):
        command = [sys.executable, __file__, "--one", setting, "--mode", mode, "--readout", readout]
        flags = (
            "dataset",
            "device",
            "threads",
            "batch_size",
            "train_batches",
            "teacher_users",
            "eval_users",
            "samples_per_user",
            "warmup",
            "window",
        )
        for flag in flags:
            command += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        command += ["--max-history", str(args.max_history), "--eval-batch-size", str(args.eval_batch_size)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{setting} {mode} {readout}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{setting:>16} {mode:>7} {readout:>10}: train {row['train_samples_per_s']:8.2f}/s  "
            f"teacher {row['teacher_samples_per_s']:8.2f}/s  eval {row['eval_users_per_s']:7.2f}/s  "
            f"{row['prompt_tokens']:6.1f} tokens  {row['peak_rss_mb']:7.1f} MB",
            file=sys.stderr,
            flush=True,
        )
    return rows


def markdown(rows: list[dict[str, object]]) -> str:
    if not rows:
        return "(no rows)\n"
    base = rows[0]
    head = (
        "| backbone | layers | prompt | readout | history | tokens | train samples/s | teacher samples/s "
        "| eval users/s | x train | x eval | peak RSS MB |" + (" peak CUDA MB |" if "peak_cuda_mb" in base else "")
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in rows:
        train_ratio = float(row["train_samples_per_s"]) / float(base["train_samples_per_s"])  # type: ignore[arg-type]
        eval_ratio = float(row["eval_users_per_s"]) / float(base["eval_users_per_s"])  # type: ignore[arg-type]
        cells = [
            row["backbone"],
            row["layers"],
            row["mode"],
            row.get("readout", "last"),
            row.get("history", "-"),
            row["prompt_tokens"],
            row["train_samples_per_s"],
            row.get("teacher_samples_per_s", "-"),
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
    return "\n".join(lines) + "\n" + note + readout_ratios(rows)


def readout_ratios(rows: list[dict[str, object]]) -> str:
    """every_item against last at the same backbone, layers and prompt mode."""
    by_key = {(r["backbone"], r["layers"], r["mode"], r.get("readout", "last")): r for r in rows}
    lines = []
    for (backbone, layers, mode, readout), row in by_key.items():
        last = by_key.get((backbone, layers, mode, "last"))
        if readout != "every_item" or last is None:
            continue
        ratios = [
            float(row[k]) / float(last[k])  # type: ignore[arg-type]
            for k in ("train_samples_per_s", "teacher_samples_per_s", "eval_users_per_s")
        ]
        memory = float(row["peak_rss_mb"]) / float(last["peak_rss_mb"])  # type: ignore[arg-type]
        lines.append(
            f"| {backbone} | {layers} | {mode} | {ratios[0]:.3g} | {ratios[1]:.3g} | {ratios[2]:.3g} | {memory:.3g} |"
        )
    if not lines:
        return ""
    head = "\n| backbone | layers | prompt | x train (every_item / last) | x teacher | x eval | x peak RSS |\n"
    return head + "|---|---|---|---|---|---|---|\n" + "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", nargs="+", default=DEFAULT_SETTINGS, help="backbone:layers (0 = all)")
    parser.add_argument("--modes", nargs="+", default=MODES, choices=MODES)
    parser.add_argument("--dataset", default="ml-100k", help="a built-in dataset (prompts use its titles)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = torch default)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--readouts", nargs="+", default=["last"], choices=READOUTS)
    parser.add_argument("--train-batches", type=int, default=3, help="timed training batches per setting")
    parser.add_argument("--teacher-users", type=int, default=4, help="users whose every training position is scored")
    parser.add_argument("--eval-users", type=int, default=64, help="timed evaluation users per setting")
    parser.add_argument("--eval-batch-size", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=3, help="untimed training batches first")
    parser.add_argument("--max-history", type=int, default=10, help="history items of a 'last' prompt")
    parser.add_argument("--window", type=int, default=50, help="items per 'every_item' training window")
    parser.add_argument("--samples-per-user", type=int, default=5)
    parser.add_argument("--tag", default="", help="suffix of the output files (e.g. 'gpu')")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--readout", choices=READOUTS, default="last", help=argparse.SUPPRESS)
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
    return 0 if len(rows) == len(args.settings) * len(args.modes) * len(args.readouts) else 1


if __name__ == "__main__":
    sys.exit(main())
