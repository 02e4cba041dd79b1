"""The E4SRec-style LLM recommender: a frozen decoder with LoRA reads an instruction
prompt whose history slots are a CRM's item embeddings projected by ``W_in``; the last
real token's hidden state goes through the item head ``W_out`` to score every item.

Trainable: the LoRA adapters, ``W_in`` and ``W_out``. The injected item table is a frozen
copy of a CRM's embeddings, replaced between distillation phases.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

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
from engine.prompts import PaddingSide, PromptBatch, PromptBuilder, PromptMode
from engine.runtime import pick_device

#: Training batches are sorted by prompt length inside windows of this many batches, so
#: a batch holds prompts of similar length (less padding) while the order stays random.
BUCKET_WINDOW = 32

ITEM_TABLE = "item_table"


@dataclass(frozen=True)
class LLMBatch:
    keys: np.ndarray  # [B] sample keys
    prompts: PromptBatch
    targets: torch.Tensor  # [B] item ids


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
    ) -> None:
        super().__init__()
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
        self.sample_keys = data.llm_samples(samples_per_user)
        self.to(self.device)
        # LoRA adapters were created in the backbone's dtype; the small trainable heads
        # stay float32 so their optimiser state is exact even with a bfloat16 body.
        self.w_in.float()
        self.w_out.float()

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
        """One epoch of prefix samples, shuffled, in batches of similar prompt length."""
        order = self._bucketed_batches(batch_size, rng)
        return SizedBatches((self.make_batch(keys) for keys in order), len(order))

    def _bucketed_batches(self, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
        keys = self.sample_keys[rng.permutation(len(self.sample_keys))]
        window = batch_size * BUCKET_WINDOW
        batches: list[np.ndarray] = []
        for lo in range(0, len(keys), window):
            chunk = keys[lo : lo + window]
            histories = [self.data.history_and_target(int(k), self.max_history)[0] for k in chunk]
            chunk = chunk[np.argsort(self.prompts.lengths(histories), kind="stable")]
            batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
        return [batches[i] for i in rng.permutation(len(batches))]

    def make_batch(self, keys: np.ndarray) -> LLMBatch:
        pairs = [self.data.history_and_target(int(k), self.max_history) for k in keys]
        prompts = self.prompts.batch([h for h, _ in pairs], self.padding_side)
        targets = torch.tensor([t for _, t in pairs], dtype=torch.int64)
        return LLMBatch(keys=np.asarray(keys, dtype=np.int64), prompts=prompts, targets=targets)

    def train_step(self, batch: object) -> TrainOutput:
        if not isinstance(batch, LLMBatch):
            raise TypeError(f"LLMRecommender.train_step needs an LLMBatch, got {type(batch).__name__}")
        if not self.training:
            self.train()
        logits = self.forward(batch.prompts.to(self.device))
        return TrainOutput(
            logits=logits,
            targets=batch.targets.to(self.device),
            keys=torch.from_numpy(batch.keys).to(self.device),
        )

    def forward(self, prompts: PromptBatch) -> torch.Tensor:
        """Item logits [B, num_items + 1] read at each prompt's last real token."""
        table: torch.Tensor = getattr(self, ITEM_TABLE)
        words = self.decoder.get_input_embeddings()(prompts.input_ids)
        soft = self.w_in(table[prompts.soft_items]).to(words.dtype)
        embeds = torch.where((prompts.soft_items > 0).unsqueeze(-1), soft, words)
        out = self.decoder(
            inputs_embeds=embeds,
            attention_mask=prompts.attention_mask,
            position_ids=prompts.position_ids,
            use_cache=False,
        )
        hidden = out.last_hidden_state
        last = hidden[torch.arange(hidden.shape[0], device=hidden.device), prompts.last_index]
        logits: torch.Tensor = self.w_out(last.float())
        return logits

    @torch.no_grad()
    def score(self, histories: Sequence[np.ndarray]) -> torch.Tensor:
        """Scores of every item after each history; prompts are scored in length order
        (less padding) and returned in the input order."""
        was_training = self.training
        self.eval()
        try:
            cut = [np.asarray(h, dtype=np.int64)[-self.max_history :] for h in histories]
            order = np.argsort(self.prompts.lengths(cut), kind="stable")
            out = torch.empty(len(cut), self.num_items + 1, device=self.device)
            for lo in range(0, len(cut), self.score_batch_size):
                rows = order[lo : lo + self.score_batch_size]
                prompts = self.prompts.batch([cut[i] for i in rows], self.padding_side)
                out[torch.from_numpy(rows).to(self.device)] = self.forward(prompts.to(self.device))
            return out
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
        return {
            "backbone_frozen": frozen,
            "lora": lora,
            "w_in": w_in,
            "w_out": w_out,
            "trainable": lora + w_in + w_out,
            "total": frozen + lora + w_in + w_out,
        }

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
    )
