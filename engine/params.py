"""Histograms of the tensors a phase trained, for the TUI's distributions over rounds.

LoRA matrices are pooled into one lora_A and one lora_B histogram across layers; other
trainable tensors (W_in, W_out, the CRM's item embeddings) keep their own name.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import torch

from engine.distill import histogram
from engine.protocol import Params

BINS = 30


def tensor_groups(model: Any) -> dict[str, torch.Tensor]:
    """Name -> flattened values of the tensors worth watching for this model."""
    named: dict[str, list[torch.Tensor]] = defaultdict(list)
    if hasattr(model, "watched_tensors"):
        for name, tensor in model.watched_tensors().items():
            named[name].append(tensor.detach().float().flatten().cpu())
    else:
        for name, param in model.named_parameters():
            if param.requires_grad:
                named[_short_name(name)].append(param.detach().float().flatten().cpu())
    return {name: torch.cat(parts) for name, parts in named.items()}


def _short_name(name: str) -> str:
    match = re.search(r"lora_[AB]", name)
    if match:
        return match.group(0)
    return name.removesuffix(".weight")


def param_histograms(model: Any, round_: int, phase: str) -> list[Params]:
    events = []
    for name, values in tensor_groups(model).items():
        if values.numel() == 0:
            continue
        bound = float(values.abs().max()) or 1.0
        edges = torch.linspace(-bound, bound, BINS + 1).tolist()
        events.append(
            Params(
                round=round_,
                model=phase,
                name=name,
                edges=edges,
                counts=histogram(values, edges),
                mean=float(values.mean()),
                std=float(values.std()) if values.numel() > 1 else 0.0,
                numel=int(values.numel()),
            )
        )
    return events
