"""Full teacher coverage for one ml-100k CRM phase: how long the frozen LLM takes to score
every CRM training position, and how large its logits are on disk.

A CRM phase with ``distill.teacher_samples_per_user = 0`` asks the LLM teacher for the
logits of every training prefix (97,171 on ml-100k). This builds them exactly as the phase
does (``engine.experiment.build_teacher`` -> ``CachedTeacher.build``, memory-mapped on disk,
``distill.teacher_dtype``), with the ``every_item`` readout over all of them (one pass per
window) and, as the baseline measured in the same run, the ``last`` readout (one prompt per
prefix) over the prefixes of ``--last-users`` random users, whose rate gives its time for
all of them. Each readout runs in its own process. The injected item table is random: it
does not change the cost.

    python benchmarks/teacher_coverage.py                   # SmolLM2 cut to 4 layers, 2 threads
    python benchmarks/teacher_coverage.py --layers 2 --last-users 20

Writes benchmarks/out/teacher_coverage.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def measure(args: argparse.Namespace) -> dict[str, object]:
    """One readout, in this process."""
    import numpy as np
    import torch

    from engine.backbone_catalog import default_cache_dir
    from engine.backbones import load_backbone, resolve_dtype
    from engine.config import DataSection
    from engine.data.dataset import KEY_STRIDE
    from engine.data.load import load_dataset
    from engine.models.llm import LLMRecommender
    from engine.runtime import pick_device
    from engine.teachers import CachedTeacher

    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    data = load_dataset(DataSection(dataset=args.dataset))
    torch.manual_seed(0)
    table = torch.randn(data.num_items + 1, 64)
    backbone = load_backbone(args.backbone, args.layers, resolve_dtype(args.model_dtype, device), default_cache_dir())
    history = args.window if args.readout == "every_item" else args.max_history
    model = LLMRecommender(
        backbone, data, table, prompt_mode="ids", max_history=history, samples_per_user=0,
        score_batch_size=64, device=device, readout=args.readout,
    )  # fmt: skip
    model.eval()
    keys = data.llm_samples(0)  # every training position, as teacher_samples_per_user = 0 asks
    total = len(keys)
    if args.readout == "last":
        users = np.random.default_rng(0).choice(data.num_users, size=args.last_users, replace=False)
        keys = keys[np.isin(keys // KEY_STRIDE, users)]
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        teacher = CachedTeacher.build(
            model, data, keys, history, batch_size=2 * args.batch_size, mode="disk",
            run_dir=Path(folder), dtype=args.dtype,
        )  # fmt: skip
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        assert teacher.path is not None
        file_mb = teacher.path.stat().st_size / 1e6
        teacher.close()
    per_s = len(keys) / seconds
    return {
        "backbone": args.backbone,
        "layers": backbone.num_layers,
        "readout": args.readout,
        "history": history,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "dtype": args.dtype,
        "model_dtype": str(backbone.model.dtype).removeprefix("torch."),
        "scored": len(keys),
        "all_positions": total,
        "seconds": round(seconds, 2),
        "samples_per_s": round(per_s, 1),
        "seconds_for_all": round(total / per_s, 1),
        "file_mb_for_all": round(file_mb * total / len(keys), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def markdown(rows: list[dict[str, object]]) -> str:
    head = (
        "| readout | history | scored | of | seconds | samples/s | seconds for all | MB on disk for all | peak RSS MB |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cells = [r["readout"], r["history"], r["scored"], r["all_positions"], r["seconds"], r["samples_per_s"]]
        cells += [r["seconds_for_all"], r["file_mb_for_all"], r["peak_rss_mb"]]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    first = rows[0]
    note = (
        f"\n{first['backbone']} {first['layers']} layers, {first['device']}, "
        f"{first['threads']} threads, a {first['model_dtype']} decoder, {first['dtype']} logits.\n"
    )
    by = {r["readout"]: r for r in rows}
    if "last" in by and "every_item" in by:
        ratio = float(by["last"]["seconds_for_all"]) / float(by["every_item"]["seconds_for_all"])  # type: ignore[arg-type]
        note += f"Full coverage, time of last / time of every_item: {ratio:.2f}x.\n"
    return "\n".join(lines) + "\n" + note


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="smollm2-135m")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16, help="train.llm_batch_size (the phase scores 2x)")
    parser.add_argument("--dtype", default="float16", choices=["float16", "float32"], help="distill.teacher_dtype")
    parser.add_argument(
        "--model-dtype", default="auto", choices=["auto", "float32", "bfloat16"], help="llm.dtype of the decoder"
    )
    parser.add_argument("--window", type=int, default=50, help="data.llm_max_history for every_item")
    parser.add_argument("--max-history", type=int, default=10, help="data.llm_max_history for last")
    parser.add_argument("--last-users", type=int, default=10, help="users whose prefixes the last readout scores")
    parser.add_argument("--readouts", nargs="+", default=["every_item", "last"], choices=["every_item", "last"])
    parser.add_argument("--readout", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.readout:
        print(json.dumps(measure(args)))
        return 0
    rows = []
    for readout in args.readouts:
        command = [sys.executable, __file__, "--readout", readout]
        for flag in (
            "backbone",
            "layers",
            "dataset",
            "device",
            "threads",
            "batch_size",
            "dtype",
            "model_dtype",
            "window",
        ):
            command += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        command += ["--max-history", str(args.max_history), "--last-users", str(args.last_users)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{readout}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            return 1
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "teacher_coverage.json").write_text(json.dumps(rows, indent=2) + "\n")
    text = markdown(rows)
    (OUT / "teacher_coverage.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
