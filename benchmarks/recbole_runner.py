"""RecBole 1.2.1's SASRec on ml-100k, run inside the RecBole virtual environment.

Started by benchmarks/recbole_sasrec.py (never imported by the project). Prints one JSON
line: per-epoch training seconds, cumulative seconds and validation NDCG@10, and the
test metrics of the best validation epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import types
from pathlib import Path

import numpy as np

# RecBole 1.2.1 predates NumPy 2: restore the removed aliases before it is imported.
for alias, target in {"float_": np.float64, "complex_": np.complex128, "unicode_": np.str_}.items():
    if not hasattr(np, alias):
        setattr(np, alias, target)
# Its quick-start module imports ray (hyper-parameter tuning only); nothing here uses it.
ray = types.ModuleType("ray")
ray.tune = types.ModuleType("ray.tune")  # type: ignore[attr-defined]
sys.modules.setdefault("ray", ray)
sys.modules.setdefault("ray.tune", ray.tune)
os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")

import recbole  # noqa: E402
import torch  # noqa: E402
from recbole.config import Config  # noqa: E402
from recbole.data import create_dataset, data_preparation  # noqa: E402
from recbole.model.sequential_recommender import SASRec  # noqa: E402
from recbole.trainer import Trainer  # noqa: E402
from recbole.utils import init_seed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-len", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data_path = Path(recbole.__file__).parent / "dataset_example"
    settings = {
        "data_path": str(data_path),
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full", "group_by": "user"},
        "MAX_ITEM_LIST_LENGTH": args.max_len,
        "loss_type": "CE",
        "train_neg_sample_args": None,
        "n_layers": args.layers,
        "n_heads": args.heads,
        "hidden_size": args.hidden,
        "inner_size": 4 * args.hidden,
        "hidden_dropout_prob": args.dropout,
        "attn_dropout_prob": args.dropout,
        "hidden_act": "gelu",
        "epochs": args.epochs,
        "train_batch_size": args.batch_size,
        "eval_batch_size": 4096,
        "learning_rate": args.lr,
        "stopping_step": args.patience,
        "metrics": ["Hit", "NDCG", "MRR"],
        "topk": [10],
        "valid_metric": "NDCG@10",
        "seed": args.seed,
        "reproducibility": True,
        "device": "cpu",
        "use_gpu": False,
        "show_progress": False,
        "checkpoint_dir": "saved",
    }
    config = Config(model="SASRec", dataset="ml-100k", config_dict=settings)
    init_seed(config["seed"], config["reproducibility"])
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    model = SASRec(config, train_data.dataset).to(config["device"])
    trainer = Trainer(config, model)

    epochs: list[dict[str, float]] = []
    started = time.perf_counter()
    original_train_epoch = trainer._train_epoch

    def timed_train_epoch(*a: object, **kw: object) -> object:
        t0 = time.perf_counter()
        out = original_train_epoch(*a, **kw)
        epochs.append({"train_seconds": time.perf_counter() - t0})
        return out

    trainer._train_epoch = timed_train_epoch

    def on_epoch_end(epoch: int, valid_score: float) -> None:
        epochs[-1].update({"epoch": epoch + 1, "elapsed": time.perf_counter() - started, "valid_ndcg@10": valid_score})

    best_valid, _ = trainer.fit(train_data, valid_data, saved=True, show_progress=False, callback_fn=on_epoch_end)
    test = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
    print(
        "RESULT "
        + json.dumps(
            {
                "best_valid_ndcg@10": float(best_valid),
                "test": {k: float(v) for k, v in test.items()},
                "epochs": epochs,
                "users": int(dataset.user_num - 1),
                "items": int(dataset.item_num - 1),
            }
        )
    )


if __name__ == "__main__":
    main()
