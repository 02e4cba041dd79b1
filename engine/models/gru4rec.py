"""GRU4Rec (Hidasi et al. 2016, in RecBole 1.2.1's sequential form) as a plain network.

Item embedding (padding id 0) with dropout, a stacked GRU, and a linear layer back to the
embedding size, so scores are dot products with the same item table as SASRec's. Inputs
are right-padded: a GRU reads left to right, so padding after the last real item never
changes the outputs at real positions.
"""

from __future__ import annotations

import torch
from torch import nn


class GRU4RecNet(nn.Module):
    """Maps right-padded item sequences [B, L] to hidden states [B, L, hidden]."""

    def __init__(self, num_items: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.item_embedding = nn.Embedding(num_items + 1, hidden, padding_idx=0)
        self.embedding_dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(hidden, hidden, num_layers=layers, batch_first=True, bias=False)
        self.output = nn.Linear(hidden, hidden)
        nn.init.xavier_normal_(self.item_embedding.weight)
        for name, weight in self.gru.named_parameters():
            if name.startswith("weight"):
                nn.init.xavier_uniform_(weight)

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        x = self.embedding_dropout(self.item_embedding(items))
        states, _ = self.gru(x)
        out: torch.Tensor = self.output(states)
        return out
