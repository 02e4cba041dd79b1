"""How fast the full-ranking evaluator is on ml-1m-sized data, against a per-user loop.

The baseline is the straightforward evaluation: score one user at a time, mask that
user's history item by item in Python, rank by counting. The evaluator batches users,
masks with one scatter and ranks with one comparison per batch. Both use the same
(untrained) SASRec of examples/configs/ml100k-sasrec.toml's shape and must give
identical ranks; the script checks that, then prints users/s of each and the ratio.

    python benchmarks/crm_evaluate_speed.py --dataset ml-1m --baseline-users 300
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch

from engine.config import load_config
from engine.data import load_dataset
from engine.evaluate import evaluate
from engine.models.crm import build_crm


def per_user_ranks(model: torch.nn.Module, histories: list[np.ndarray], targets: np.ndarray) -> np.ndarray:
    ranks = []
    for history, target in zip(histories, targets, strict=True):
        scores = model.score([history])[0].clone()  # type: ignore[operator]
        scores[0] = float("-inf")
        for item in history:
            if item != target:
                scores[int(item)] = float("-inf")
        ranks.append(int((scores > scores[int(target)]).sum()) + 1)
    return np.asarray(ranks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="ml-1m", choices=["ml-100k", "ml-1m", "synthetic"])
    parser.add_argument("--baseline-users", type=int, default=300, help="Users the slow loop scores.")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = load_config("examples/configs/ml100k-sasrec.toml")
    config = dataclasses.replace(config, data=dataclasses.replace(config.data, dataset=args.dataset))
    data = load_dataset(config.data)
    torch.manual_seed(0)
    model = build_crm(config, data)
    model.eval()

    start = time.perf_counter()
    result = evaluate(model, data, "test", batch_size=args.batch_size)
    fast_seconds = time.perf_counter() - start

    split = data.eval_split("test")
    chosen = np.arange(min(args.baseline_users, data.num_users))
    start = time.perf_counter()
    slow = per_user_ranks(model, [split.histories[u] for u in chosen], split.targets[chosen])
    slow_seconds = time.perf_counter() - start
    assert np.array_equal(slow, result.ranks[chosen]), "the per-user loop and the evaluator disagree"

    fast_rate = result.users / fast_seconds
    slow_rate = len(chosen) / slow_seconds
    print(f"dataset {args.dataset}: {data.num_users} users, {data.num_items} items, threads {args.threads}")
    print(
        f"evaluator (batch {args.batch_size}): {result.users} users in {fast_seconds:.2f} s = {fast_rate:.0f} users/s"
    )
    print(f"per-user loop: {len(chosen)} users in {slow_seconds:.2f} s = {slow_rate:.0f} users/s")
    print(f"speed-up: {fast_rate / slow_rate:.1f}x (ranks identical on the {len(chosen)} users both scored)")


if __name__ == "__main__":
    main()
