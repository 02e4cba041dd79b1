"""The E4SRec-style LLM recommender: a frozen decoder with LoRA reads an instruction
prompt whose history slots are a CRM's item embeddings projected by ``W_in``; the last
real token's hidden state goes through the item head ``W_out`` to score every item.

Two readouts (``llm.readout``): ``last`` trains one prompt per prefix sample, read at the
answer cue (E4SRec). ``every_item`` trains one causal sequence per training window (the
CRM's windows, engine.models.crm.TrainingWindows, of ``max_history`` items) without the
answer cue, read at the last token of every item, so one pass covers every prefix of
the window; evaluation and scoring read the last item of the history.

With ``llm.prompt = "title_emb"`` a soft slot also carries ``W_text(title vector)``, the
frozen backbone's pooled reading of the item's title (engine.title_vectors), so items
bring their text at the length of ``ids`` prompts; ``W_text`` starts at zero, so the
model starts as its ``ids`` twin.

Trainable: the LoRA adapters, ``W_in``, ``W_out`` (and ``W_text``). The injected item table is a frozen
copy of a CRM's embeddings, replaced between distillation phases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from torch import nn
from transformers.pytorch_utils import Conv1D

from engine.backbone_catalog import default_cache_dir
from engine.backbones import Backbone, load_backbone, resolve_dtype
from engine.config import Config
from engine.data.dataset import SequenceDataset
from engine.models.base import TrainOutput
from engine.models.crm import TrainingWindows
from engine.prompts import PaddingSide, PromptBatch, PromptBuilder, PromptMode
from engine.runtime import pick_device
from engine.title_vectors import TitleVectors, standardise, title_vectors

#: Training batches are sorted by prompt length inside windows of this many batches, so
#: a batch holds prompts of similar length (less padding) while the order stays random.
BUCKET_WINDOW = 32

ITEM_TABLE = "item_table"
TITLE_VECTORS = "title_vectors"

Readout = Literal["last", "every_item"]


@dataclass(frozen=True)
class LLMBatch:
    keys: np.ndarray  # [N] sample keys, one per trained row
    prompts: PromptBatch
    targets: torch.Tensor  # [N] item ids
    read: torch.Tensor | None = None  # every_item: [B, n] which item ends are trained rows


class SizedBatches(Iterator[LLMBatch]):
    """An epoch's batches that know how many there are (the trainer reports progress)."""

    def __init__(self, batches: Iterator[LLMBatch], count: int) -> None:
        self._batches, self._count = batches, count

    def __next__(self) -> LLMBatch:
        return next(self._batches)

    def __len__(self) -> int:
        return self._count


@dataclass(frozen=True)
class LoRASettings:
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")


class LLMRecommender(nn.Module):
    """Implements engine.models.base.Recommender on prefix samples (history -> next item)."""

    def __init__(
        self,
        backbone: Backbone,
        data: SequenceDataset,
        item_embeddings: torch.Tensor,
        prompt_mode: PromptMode = "ids",
        lora: LoRASettings | None = None,
        max_history: int = 10,
        samples_per_user: int = 0,
        padding_side: PaddingSide = "left",
        max_title_tokens: int = 12,
        score_batch_size: int = 64,
        device: torch.device | None = None,
        readout: Readout = "last",
        title_cache_dir: Path | None = None,
    ) -> None:
        super().__init__()
        if readout not in ("last", "every_item"):
            raise ValueError(f"llm.readout = {readout!r}: expected 'last' or 'every_item'")
        self.readout: Readout = readout
        self.answer = readout == "last"  # every_item prompts end with their last item
        self.num_items = data.num_items
        self.data = data
        self.max_history = max_history
        self.padding_side: PaddingSide = padding_side
        self.score_batch_size = score_batch_size
        self.backbone_name = backbone.name
        self.backbone_layers = backbone.num_layers
        self.device = device if device is not None else torch.device("cpu")
        self.prompts = PromptBuilder(backbone.tokenizer, data.item_text, prompt_mode, max_title_tokens)
        self.tokenizer = backbone.tokenizer
        self.titles: TitleVectors | None = None
        if prompt_mode == "title_emb":  # read by the bare backbone, before LoRA exists
            self.titles = title_vectors(
                backbone.model,
                backbone.name,
                backbone.num_layers,
                self.prompts.titles,
                self.prompts.pad_id,
                title_cache_dir if title_cache_dir is not None else default_cache_dir(),
            )
        settings = lora or LoRASettings()
        peft_config = LoraConfig(
            r=settings.rank,
            lora_alpha=settings.alpha,
            lora_dropout=settings.dropout,
            target_modules=list(settings.target_modules),
            fan_in_fan_out=_targets_conv1d(backbone.model, settings.target_modules),
        )
        self.decoder = get_peft_model(backbone.model, peft_config)
        self.backbone_dtype = next(backbone.model.parameters()).dtype
        hidden = backbone.hidden_size
        self.register_buffer(ITEM_TABLE, torch.zeros(data.num_items + 1, item_embeddings.shape[1]))
        self.set_item_embeddings(item_embeddings)
        self.w_in = nn.Linear(item_embeddings.shape[1], hidden)
        self.w_out = nn.Linear(hidden, data.num_items + 1)
        self.w_text: nn.Linear | None = None
        if self.titles is not None:
            self.register_buffer(TITLE_VECTORS, standardise(self.titles.vectors), persistent=False)
            self.w_text = nn.Linear(self.titles.vectors.shape[1], hidden)
            nn.init.zeros_(self.w_text.weight)
            nn.init.zeros_(self.w_text.bias)
        self.sample_keys = data.llm_samples(samples_per_user)
        if readout == "every_item":
            self.windows = TrainingWindows.build(data, max_history)
            # A sample cap keeps only the capped keys as trained rows of the windows.
            self.window_trained = np.isin(self.windows.keys, self.sample_keys) & (self.windows.targets > 0)
            flat = self.windows.keys.ravel()
            real = np.flatnonzero(self.windows.targets.ravel() > 0)
            order = np.argsort(flat[real])
            self._window_keys, self._window_cells = flat[real][order], real[order]
        self.to(self.device)
        # LoRA adapters were created in the backbone's dtype; the small trainable heads
        # stay float32 so their optimiser state is exact even with a bfloat16 body.
        self.w_in.float()
        self.w_out.float()
        if self.w_text is not None:
            self.w_text.float()

    # --- injected CRM embeddings --------------------------------------------------

    def set_item_embeddings(self, table: torch.Tensor) -> None:
        """Replace the injected item table with a frozen copy of ``table`` [I + 1, d]."""
        current: torch.Tensor = getattr(self, ITEM_TABLE)
        if tuple(table.shape) != tuple(current.shape):
            raise ValueError(
                f"item embeddings of shape {tuple(table.shape)}: expected {tuple(current.shape)} "
                "(num_items + 1 rows, the CRM hidden size the LLM was built with)"
            )
        current.copy_(table.detach().to(current.device, torch.float32))

    # --- the Recommender contract -------------------------------------------------

    def train_batches(self, batch_size: int, rng: np.random.Generator) -> Iterator[LLMBatch]:
        """One epoch, shuffled, in batches of similar prompt length: prefix samples
        (``last``) or training windows (``every_item``)."""
        if self.readout == "every_item":
            rows = np.flatnonzero(self.window_trained.any(axis=1))
            windows = _bucketed(rows, self._window_lengths, batch_size, rng)
            return SizedBatches((self.make_window_batch(w) for w in windows), len(windows))
        order = _bucketed(self.sample_keys, self._prefix_lengths, batch_size, rng)
        return SizedBatches((self.make_batch(keys) for keys in order), len(order))

    def _prefix_lengths(self, keys: np.ndarray) -> np.ndarray:
        return self.prompts.lengths([self.data.history_and_target(int(k), self.max_history)[0] for k in keys])

    def _window_history(self, row: int) -> np.ndarray:
        """The items a window's prompt shows (its inputs, right-padded with 0)."""
        inputs = self.windows.inputs[row]
        return inputs[: int((self.windows.targets[row] > 0).sum())]

    def _window_lengths(self, rows: np.ndarray) -> np.ndarray:
        return self.prompts.lengths([self._window_history(int(r)) for r in rows], answer=False)

    def make_batch(self, keys: np.ndarray) -> LLMBatch:
        pairs = [self.data.history_and_target(int(k), self.max_history) for k in keys]
        prompts = self.prompts.batch([h for h, _ in pairs], self.padding_side)
        targets = torch.tensor([t for _, t in pairs], dtype=torch.int64)
        return LLMBatch(keys=np.asarray(keys, dtype=np.int64), prompts=prompts, targets=targets)

    def make_window_batch(self, rows: np.ndarray) -> LLMBatch:
        """Windows as prompts; trained rows are the (window, item) cells read, row-major."""
        prompts = self.prompts.batch([self._window_history(int(r)) for r in rows], self.padding_side, answer=False)
        width = prompts.item_ends.shape[1]
        read = self.window_trained[rows, :width]
        return LLMBatch(
            keys=self.windows.keys[rows, :width][read],
            prompts=prompts,
            targets=torch.from_numpy(self.windows.targets[rows, :width][read]),
            read=torch.from_numpy(read),
        )

    def train_step(self, batch: object) -> TrainOutput:
        if not isinstance(batch, LLMBatch):
            raise TypeError(f"LLMRecommender.train_step needs an LLMBatch, got {type(batch).__name__}")
        if not self.training:
            self.train()
        prompts = batch.prompts.to(self.device)
        read = None if batch.read is None else batch.read.to(self.device)
        logits = self.forward(prompts) if read is None else self.item_logits(prompts, read)
        return TrainOutput(
            logits=logits,
            targets=batch.targets.to(self.device),
            keys=torch.from_numpy(batch.keys).to(self.device),
        )

    def forward(self, prompts: PromptBatch) -> torch.Tensor:
        """Item logits [B, num_items + 1] read at each prompt's last real token."""
        hidden = self._hidden(prompts)
        last = hidden[torch.arange(hidden.shape[0], device=hidden.device), prompts.last_index]
        logits: torch.Tensor = self.w_out(last.float())
        return logits

    def item_logits(self, prompts: PromptBatch, read: torch.Tensor) -> torch.Tensor:
        """Item logits [N, num_items + 1] at the last token of every history item where
        ``read`` [B, n] is true, in row-major order (one pass, every prefix)."""
        hidden = self._hidden(prompts)
        rows = torch.arange(hidden.shape[0], device=hidden.device)[:, None].expand_as(read)
        states = hidden[rows[read], prompts.item_ends[read]]
        logits: torch.Tensor = self.w_out(states.float())
        return logits

    def _hidden(self, prompts: PromptBatch) -> torch.Tensor:
        """The decoder body's last hidden states [B, L, hidden] (no LM head exists)."""
        table: torch.Tensor = getattr(self, ITEM_TABLE)
        words = self.decoder.get_input_embeddings()(prompts.input_ids)
        soft = self.w_in(table[prompts.soft_items])
        if self.w_text is not None:
            soft = soft + self.w_text(getattr(self, TITLE_VECTORS)[prompts.soft_items])
        soft = soft.to(words.dtype)
        embeds = torch.where((prompts.soft_items > 0).unsqueeze(-1), soft, words)
        out = self.decoder(
            inputs_embeds=embeds,
            attention_mask=prompts.attention_mask,
            position_ids=prompts.position_ids,
            use_cache=False,
        )
        hidden: torch.Tensor = out.last_hidden_state
        return hidden

    @torch.no_grad()
    def score(self, histories: Sequence[np.ndarray]) -> torch.Tensor:
        """Scores of every item after each history; prompts are scored in length order
        (less padding) and returned in the input order."""
        was_training = self.training
        self.eval()
        try:
            cut = [np.asarray(h, dtype=np.int64)[-self.max_history :] for h in histories]
            order = np.argsort(self.prompts.lengths(cut, self.answer), kind="stable")
            out = torch.empty(len(cut), self.num_items + 1, device=self.device)
            for lo in range(0, len(cut), self.score_batch_size):
                rows = order[lo : lo + self.score_batch_size]
                prompts = self.prompts.batch([cut[i] for i in rows], self.padding_side, self.answer)
                out[torch.from_numpy(rows).to(self.device)] = self.forward(prompts.to(self.device))
            return out
        finally:
            self.train(was_training)

    @torch.no_grad()
    def score_keys(self, keys: np.ndarray, batch_size: int) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
        """Teacher logits of training samples, as (indices into ``keys``, logits) chunks.

        ``last``: each key's prompt, ``batch_size`` keys per chunk. ``every_item``: the
        training windows holding the keys, ``batch_size`` windows per pass, each read at
        every wanted item, so every position of a window costs one pass together.
        """
        keys = np.asarray(keys, dtype=np.int64)
        if self.readout == "last":
            for lo in range(0, len(keys), batch_size):
                chunk = keys[lo : lo + batch_size]
                histories = [self.data.history_and_target(int(k), self.max_history)[0] for k in chunk]
                yield np.arange(lo, lo + len(chunk)), self.score(histories)
            return
        pos = np.clip(np.searchsorted(self._window_keys, keys), 0, max(0, len(self._window_keys) - 1))
        if len(keys) and not np.array_equal(self._window_keys[pos], keys):
            raise ValueError("score_keys: some keys are no training sample of this dataset")
        cells = self._window_cells[pos]
        width = self.windows.keys.shape[1]
        window_of, column_of = cells // width, cells % width
        windows = np.unique(window_of)
        windows = windows[np.argsort(self._window_lengths(windows), kind="stable")]
        was_training = self.training
        self.eval()
        try:
            for lo in range(0, len(windows), batch_size):
                rows = windows[lo : lo + batch_size]
                index = np.flatnonzero(np.isin(window_of, rows))
                local = np.searchsorted(np.sort(rows), window_of[index])
                rows = np.sort(rows)
                histories = [self._window_history(int(r)) for r in rows]
                prompts = self.prompts.batch(histories, self.padding_side, answer=False).to(self.device)
                read = torch.zeros(prompts.item_ends.shape, dtype=torch.bool)
                read[torch.from_numpy(local), torch.from_numpy(column_of[index])] = True
                logits = self.item_logits(prompts, read.to(self.device))
                # item_logits returns rows in (window, column) order; match ``index`` to it.
                order = np.lexsort((column_of[index], local))
                yield index[order], logits
        finally:
            self.train(was_training)

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    # --- reporting and checkpoints ------------------------------------------------

    def parameter_counts(self) -> dict[str, int]:
        """Sizes for the run_started event: what is trained and what stays frozen."""
        lora = sum(p.numel() for n, p in self.decoder.named_parameters() if p.requires_grad)
        frozen = sum(p.numel() for p in self.decoder.parameters() if not p.requires_grad)
        w_in = sum(p.numel() for p in self.w_in.parameters())
        w_out = sum(p.numel() for p in self.w_out.parameters())
        w_text = sum(p.numel() for p in self.w_text.parameters()) if self.w_text is not None else 0
        counts = {
            "backbone_frozen": frozen,
            "lora": lora,
            "w_in": w_in,
            "w_out": w_out,
            "trainable": lora + w_in + w_out + w_text,
            "total": frozen + lora + w_in + w_out + w_text,
        }
        if self.w_text is not None:
            counts["w_text"] = w_text
        return counts

    def watched_tensors(self) -> dict[str, torch.Tensor]:
        """The trained tensors for parameter histograms: LoRA A and B pooled over layers."""
        pooled: dict[str, list[torch.Tensor]] = {"lora_A": [], "lora_B": []}
        for name, param in self.decoder.named_parameters():
            for kind, parts in pooled.items():
                if param.requires_grad and f".{kind}." in name:
                    parts.append(param.detach().float().flatten())
        out = {kind: torch.cat(parts) for kind, parts in pooled.items() if parts}
        out["W_in"] = self.w_in.weight.detach().float().flatten()
        out["W_out"] = self.w_out.weight.detach().float().flatten()
        if self.w_text is not None:
            out["W_text"] = self.w_text.weight.detach().float().flatten()
        return out

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """LoRA, W_in and W_out (and the injected item table) as CPU tensors."""
        state = {name: p.detach().cpu().clone() for name, p in self.named_parameters() if p.requires_grad}
        state[ITEM_TABLE] = getattr(self, ITEM_TABLE).detach().cpu().clone()
        return state

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what trainable_state() returned; names and shapes must match exactly."""
        own = dict(self.named_parameters())
        expected = {name for name, p in own.items() if p.requires_grad} | {ITEM_TABLE}
        missing, unknown = expected - set(state), set(state) - expected
        if missing or unknown:
            raise ValueError(
                f"LLM checkpoint state does not fit this model: missing {sorted(missing)[:5]}, "
                f"unexpected {sorted(unknown)[:5]} (was it saved with other llm.* settings?)"
            )
        with torch.no_grad():
            for name, value in state.items():
                target = getattr(self, ITEM_TABLE) if name == ITEM_TABLE else own[name]
                if tuple(value.shape) != tuple(target.shape):
                    raise ValueError(
                        f"LLM checkpoint tensor {name}: shape {tuple(value.shape)}, expected {tuple(target.shape)}"
                    )
                target.copy_(value.to(target.device, target.dtype))


def _bucketed(
    units: np.ndarray, lengths: Callable[[np.ndarray], np.ndarray], batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Shuffled batches of ``units`` sorted by prompt length inside windows of
    BUCKET_WINDOW batches (less padding, order still random)."""
    shuffled = units[rng.permutation(len(units))]
    window = batch_size * BUCKET_WINDOW
    batches: list[np.ndarray] = []
    for lo in range(0, len(shuffled), window):
        chunk = shuffled[lo : lo + window]
        chunk = chunk[np.argsort(lengths(chunk), kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def _targets_conv1d(model: nn.Module, targets: tuple[str, ...]) -> bool:
    """GPT-2 stores its projections as Conv1D (weights transposed); LoRA must know."""
    return any(isinstance(m, Conv1D) and name.rsplit(".", 1)[-1] in targets for name, m in model.named_modules())


def build_llm(
    config: Config, data: SequenceDataset, item_embeddings: torch.Tensor, device: torch.device | None = None
) -> LLMRecommender:
    """The LLM recommender a config describes, with ``item_embeddings`` [I + 1, d] injected;
    ``device`` defaults to train.device."""
    device = device if device is not None else pick_device(config.train.device)
    llm = config.llm
    backbone = load_backbone(
        llm.backbone,
        llm.num_layers,
        resolve_dtype(llm.dtype, device),
        default_cache_dir(config.data.cache_dir),
        seed=config.run.seed,
    )
    return LLMRecommender(
        backbone,
        data,
        item_embeddings,
        prompt_mode=llm.prompt,
        lora=LoRASettings(llm.lora_r, llm.lora_alpha, llm.lora_dropout, tuple(llm.target_modules)),
        max_history=config.data.llm_max_history,
        samples_per_user=config.data.llm_samples_per_user,
        padding_side=llm.padding_side,
        max_title_tokens=llm.max_title_tokens,
        score_batch_size=max(config.train.llm_batch_size * 4, 32),
        device=device,
        readout=llm.readout,
        title_cache_dir=default_cache_dir(config.data.cache_dir),
    )
