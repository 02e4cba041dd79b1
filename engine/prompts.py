"""The LLM recommender's instruction prompt, assembled from token pieces cached per item.

Exact token layout (``+`` joins token sequences, each piece tokenised on its own so the
layout never depends on how neighbouring text would merge)::

    [BOS] + tok(INSTRUCTION) + item_1 + ... + item_n + tok(ANSWER)

with ``INSTRUCTION = "Instruction: Given the user's history, predict the next item.\\nHistory:"``,
``ANSWER = "\\nAnswer:"``, BOS only when the tokenizer has one, and per history item
(oldest first):

- ``ids``:    ``<soft>``                            one soft token (E4SRec)
- ``titles``: ``tok(" " + title) + tok(";")``       the title as text
- ``hybrid``: ``tok(" " + title) + <soft> + tok(";")``  title text, then its soft token
- ``title_emb``: ``<soft>``                        one soft token carrying the title too

A ``<soft>`` slot holds no word: its input embedding is ``W_in(item embedding)``, plus
``W_text(title vector)`` with ``title_emb`` (engine.title_vectors). Titles
are cut to ``max_title_tokens`` tokens; an item without text is titled ``item <id>``.
The score is read at the last real token (the end of ANSWER) whatever the padding side.

Without the answer cue (``answer=False``, the ``every_item`` readout) a prompt ends with
its last item, and ``item_ends`` marks the last token of every item: a causal decoder's
state there has seen items 1..t only, so one pass reads every prefix of the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

PromptMode = Literal["ids", "titles", "hybrid", "title_emb"]
PaddingSide = Literal["left", "right"]

INSTRUCTION = "Instruction: Given the user's history, predict the next item.\nHistory:"
ANSWER = "\nAnswer:"
SEPARATOR = ";"
#: Marks a soft slot inside a cached piece; replaced by the pad id in input_ids.
SOFT = -1


@dataclass(frozen=True)
class PromptBatch:
    """Padded prompts: token ids, the item behind each soft slot (0 = a text token)."""

    input_ids: torch.Tensor  # [B, L] int64
    soft_items: torch.Tensor  # [B, L] int64
    attention_mask: torch.Tensor  # [B, L] int64
    position_ids: torch.Tensor  # [B, L] int64, counting real tokens only
    last_index: torch.Tensor  # [B] position of each prompt's last real token
    item_ends: torch.Tensor  # [B, n] position of the last token of history item j (0 past the end)

    def to(self, device: torch.device) -> PromptBatch:
        return PromptBatch(*(t.to(device, non_blocking=True) for t in self._fields()))

    def _fields(self) -> tuple[torch.Tensor, ...]:
        return (
            self.input_ids,
            self.soft_items,
            self.attention_mask,
            self.position_ids,
            self.last_index,
            self.item_ends,
        )


class PromptBuilder:
    """Turns item histories into token-id prompts from pieces tokenised once per item."""

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        item_text: Sequence[str],
        mode: PromptMode,
        max_title_tokens: int = 12,
    ) -> None:
        if mode not in ("ids", "titles", "hybrid", "title_emb"):
            raise ValueError(f"llm.prompt = {mode!r}: expected 'ids', 'titles', 'hybrid' or 'title_emb'")
        self.mode = mode
        self.pad_id = _pad_id(tokenizer)
        bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
        self.prefix = np.asarray(bos + _ids(tokenizer, INSTRUCTION), dtype=np.int64)
        self.suffix = np.asarray(_ids(tokenizer, ANSWER), dtype=np.int64)
        separator = _ids(tokenizer, SEPARATOR)
        self.pieces: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]  # item 0 = padding, never shown
        #: Each item's title as token ids (item 0: none); title_emb reads them once.
        self.titles: list[list[int]] = [[]]
        for item in range(1, len(item_text)):
            title = _ids(tokenizer, " " + (item_text[item] or f"item {item}"))[:max_title_tokens]
            self.titles.append(title)
            if mode in ("ids", "title_emb"):
                piece = [SOFT]
            elif mode == "titles":
                piece = title + separator
            else:
                piece = [*title, SOFT, *separator]
            self.pieces.append(np.asarray(piece, dtype=np.int64))
        self.piece_lengths = np.array([len(p) for p in self.pieces], dtype=np.int64)
        self.fixed_length = len(self.prefix) + len(self.suffix)

    def lengths(self, histories: Sequence[np.ndarray], answer: bool = True) -> np.ndarray:
        """Prompt length of each history, without building the prompts (for bucketing)."""
        fixed = self.fixed_length if answer else len(self.prefix)
        return np.array([fixed + int(self.piece_lengths[h].sum()) for h in histories], dtype=np.int64)

    def encode(self, history: np.ndarray, answer: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(token ids with the pad id in soft slots, item id per soft slot else 0)."""
        pieces = [self.pieces[int(i)] for i in history]
        suffix = self.suffix if answer else self.suffix[:0]
        tokens = np.concatenate([self.prefix, *pieces, suffix])
        soft = np.concatenate(
            [np.zeros(len(self.prefix), np.int64)]
            + [np.where(p == SOFT, int(i), 0) for p, i in zip(pieces, history, strict=True)]
            + [np.zeros(len(suffix), np.int64)]
        )
        tokens[soft > 0] = self.pad_id
        return tokens, soft

    def batch(self, histories: Sequence[np.ndarray], padding_side: PaddingSide, answer: bool = True) -> PromptBatch:
        cut = [np.asarray(h, dtype=np.int64) for h in histories]
        encoded = [self.encode(h, answer) for h in cut]
        width = max(len(t) for t, _ in encoded)
        size = len(encoded)
        input_ids = np.full((size, width), self.pad_id, dtype=np.int64)
        soft_items = np.zeros((size, width), dtype=np.int64)
        mask = np.zeros((size, width), dtype=np.int64)
        item_ends = np.zeros((size, max(1, max(len(h) for h in cut))), dtype=np.int64)
        for row, (tokens, soft) in enumerate(encoded):
            n = len(tokens)
            start = width - n if padding_side == "left" else 0
            input_ids[row, start : start + n], soft_items[row, start : start + n] = tokens, soft
            mask[row, start : start + n] = 1
            ends = start + len(self.prefix) + np.cumsum(self.piece_lengths[cut[row]]) - 1
            item_ends[row, : len(ends)] = ends
        positions = np.clip(np.cumsum(mask, axis=1) - 1, 0, None)
        last = width - 1 - np.argmax(mask[:, ::-1], axis=1)
        return PromptBatch(
            torch.from_numpy(input_ids),
            torch.from_numpy(soft_items),
            torch.from_numpy(mask),
            torch.from_numpy(positions),
            torch.from_numpy(last.astype(np.int64)),
            torch.from_numpy(item_ends),
        )

    def render(self, history: np.ndarray, tokenizer: PreTrainedTokenizerBase) -> str:
        """The prompt as readable text, soft slots shown as ``<item:ID>`` (docs, debugging)."""
        tokens, soft = self.encode(np.asarray(history, dtype=np.int64))
        parts: list[str] = []
        run: list[int] = []
        for token, item in zip(tokens.tolist(), soft.tolist(), strict=True):
            if item:
                parts.append(str(tokenizer.decode(run)))
                parts.append(f"<item:{item}>")
                run = []
            else:
                run.append(token)
        parts.append(str(tokenizer.decode(run)))
        return "".join(parts)


def _ids(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _pad_id(tokenizer: PreTrainedTokenizerBase) -> int:
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id):
        if candidate is not None:
            return int(candidate)
    return 0
