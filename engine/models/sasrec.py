"""SASRec (Kang & McAuley 2018) as a plain network: item ids in, one hidden state per
position out.

Layout follows RecBole 1.2.1's SASRec so the side-by-side benchmark compares like with
like: item embedding (padding id 0) plus a learned absolute position embedding, LayerNorm
and dropout on the sum, then ``num_layers`` post-LN transformer blocks (multi-head causal
self-attention, residual, LayerNorm; a GELU feed-forward of width 4 x hidden, residual,
LayerNorm). The paper's original code normalises before attention (pre-LN) and uses a
ReLU feed-forward of width hidden; the two reach the same accuracy on MovieLens, and
matching the reference implementation makes the benchmark's comparison exact.

Sequences are right-padded: position 0 holds the oldest kept item. With causal attention
a real position never attends to the padding after it, so no key-padding mask is needed
and every real position's output is independent of how much padding follows.
"""

from __future__ import annotations

import torch
from torch import nn


class SASRecBlock(nn.Module):
    """One transformer block: causal self-attention then a position-wise feed-forward."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(hidden, heads, dropout=dropout, batch_first=True)
        self.attention_dropout = nn.Dropout(dropout)
        self.attention_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.feed_forward = nn.Sequential(
            nn.Linear(hidden, 4 * hidden), nn.GELU(), nn.Linear(4 * hidden, hidden), nn.Dropout(dropout)
        )
        self.feed_forward_norm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x: torch.Tensor, causal_mask: torch.Tensor) -> torch.Tensor:
        attended, _ = self.attention(x, x, x, attn_mask=causal_mask, need_weights=False)
        x = self.attention_norm(x + self.attention_dropout(attended))
        return self.feed_forward_norm(x + self.feed_forward(x))


class SASRecNet(nn.Module):
    """Maps right-padded item sequences [B, L] to hidden states [B, L, hidden]."""

    def __init__(self, num_items: int, max_len: int, hidden: int, layers: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.max_len = max_len
        self.item_embedding = nn.Embedding(num_items + 1, hidden, padding_idx=0)
        self.position_embedding = nn.Embedding(max_len, hidden)
        self.input_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.input_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(SASRecBlock(hidden, heads, dropout) for _ in range(layers))
        self.apply(_init_weights)

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        length = items.shape[1]
        positions = torch.arange(length, device=items.device)
        x = self.item_embedding(items) + self.position_embedding(positions)[None]
        x = self.input_dropout(self.input_norm(x))
        causal = torch.triu(torch.ones(length, length, dtype=torch.bool, device=items.device), diagonal=1)
        for block in self.blocks:
            x = block(x, causal)
        return x


def _init_weights(module: nn.Module) -> None:
    """RecBole's initialisation: N(0, 0.02) for embeddings and linear layers."""
    if isinstance(module, nn.Linear | nn.Embedding):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)
    if isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
