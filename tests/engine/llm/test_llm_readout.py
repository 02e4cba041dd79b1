"""The every_item readout: one causal pass over a training window is every prefix of it at
once, its CE is the mean of the per-prefix CEs, it trains the CRM's windows and targets,
and the teacher scores every training position by key in one pass per window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.config import ConfigError, config_from_dict
from engine.data.dataset import SequenceDataset
from engine.distill import kl_teacher_student
from engine.models.crm import TrainingWindows
from engine.models.llm import LLMBatch, LLMRecommender
from engine.prompts import PromptBatch
from engine.teachers import CachedTeacher, LiveTeacher

ModelFactory = Callable[..., LLMRecommender]
MODES = ["ids", "titles", "hybrid", "title_emb"]
HISTORIES = [np.array([4, 9]), np.array([9, 2, 30, 11, 8, 1]), np.array([17]), np.array([5, 6, 7, 8])]


def _one_prefix(model: LLMRecommender, history: np.ndarray, side: str) -> torch.Tensor:
    """A separate pass over the sequence cut after its last item, read at its last token."""
    prompts = model.prompts.batch([history], side, answer=False)  # type: ignore[arg-type]
    return model(prompts)[0]


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("mode", MODES)
def test_every_item_logits_equal_a_separate_pass_over_each_prefix(
    make_model: ModelFactory, mode: str, side: str
) -> None:
    model = make_model(prompt_mode=mode, padding_side=side, readout="every_item")
    model.eval()
    prompts = model.prompts.batch(HISTORIES, side, answer=False)  # type: ignore[arg-type]
    read = torch.zeros(prompts.item_ends.shape, dtype=torch.bool)
    for row, history in enumerate(HISTORIES):
        read[row, : len(history)] = True
    with torch.no_grad():
        together = model.item_logits(prompts, read)
        alone = torch.stack([_one_prefix(model, h[: t + 1], side) for h in HISTORIES for t in range(len(h))])
        scored = model.score([h[: t + 1] for h in HISTORIES for t in range(len(h))])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(scored, alone, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_ce_over_positions_is_the_mean_of_per_prefix_ces(make_model: ModelFactory, mode: str) -> None:
    model = make_model(prompt_mode=mode, readout="every_item")
    batch = next(iter(model.train_batches(4, np.random.default_rng(0))))
    assert isinstance(batch, LLMBatch) and batch.read is not None
    out = model.train_step(batch)
    pooled = F.cross_entropy(out.logits, out.targets)
    per_prefix = []
    with torch.no_grad():
        for key, target in zip(out.keys.tolist(), out.targets.tolist(), strict=True):
            history = _window_history_of(model, key)
            logits = _one_prefix(model, history, model.padding_side)
            per_prefix.append(F.cross_entropy(logits[None], torch.tensor([target])))
    assert pooled.item() == pytest.approx(torch.stack(per_prefix).mean().item(), abs=1e-5)


def _window_history_of(model: LLMRecommender, key: int) -> np.ndarray:
    """The items before ``key`` inside its training window (what every_item shows it)."""
    for row in range(len(model.windows)):
        hit = np.flatnonzero(model.windows.keys[row] == key)
        if len(hit):
            return model.windows.inputs[row, : hit[0] + 1]
    raise AssertionError(f"key {key} is in no window")


def test_every_item_trains_the_crms_windows_each_target_once(make_model: ModelFactory, data: SequenceDataset) -> None:
    model = make_model(readout="every_item", max_history=5)
    crm = TrainingWindows.build(data, 5)
    np.testing.assert_array_equal(model.windows.keys, crm.keys)
    np.testing.assert_array_equal(model.windows.targets, crm.targets)
    keys, targets = [], []
    for batch in model.train_batches(8, np.random.default_rng(2)):
        keys += batch.keys.tolist()
        targets += batch.targets.tolist()
    assert sorted(keys) == sorted(data.llm_samples(0).tolist())
    for key, target in zip(keys, targets, strict=True):
        assert data.history_and_target(key, 5)[1] == target
    capped = make_model(readout="every_item", max_history=5, samples_per_user=2)
    kept = [k for b in capped.train_batches(8, np.random.default_rng(2)) for k in b.keys.tolist()]
    assert sorted(kept) == sorted(data.llm_samples(2).tolist())


def test_every_item_reaches_long_histories(make_model: ModelFactory, data: SequenceDataset) -> None:
    model = make_model(readout="every_item", max_history=60, prompt_mode="hybrid")
    batch = next(iter(model.train_batches(2, np.random.default_rng(0))))
    out = model.train_step(batch)
    assert out.logits.shape == (len(batch.keys), data.num_items + 1)
    assert int(batch.read.sum()) == len(batch.keys)  # type: ignore[union-attr]


@pytest.mark.parametrize("readout", ["last", "every_item"])
def test_score_keys_covers_every_key_as_its_readout_reads_it(
    make_model: ModelFactory, data: SequenceDataset, readout: str
) -> None:
    model = make_model(readout=readout, max_history=4, prompt_mode="hybrid")
    keys = data.llm_samples(0)[::3]
    got = torch.full((len(keys), data.num_items + 1), float("nan"))
    seen: list[int] = []
    for index, logits in model.score_keys(keys, 8):
        got[torch.from_numpy(index)] = logits
        seen += index.tolist()
    assert sorted(seen) == list(range(len(keys)))
    if readout == "last":
        histories = [data.history_and_target(int(k), 4)[0] for k in keys]
    else:
        histories = [_window_history_of(model, int(k)) for k in keys]
    torch.testing.assert_close(got, model.score(histories), atol=1e-5, rtol=1e-5)
    if readout == "every_item":
        with pytest.raises(ValueError, match="no training sample"):
            list(model.score_keys(np.array([data.llm_samples(0).max() + 1]), 8))


def test_the_teacher_scores_every_training_position_in_one_pass_per_window(
    make_model: ModelFactory, data: SequenceDataset, tmp_path: Path
) -> None:
    model = make_model(readout="every_item", max_history=5)
    passes = 0
    inner = model.item_logits

    def counted(prompts: PromptBatch, read: torch.Tensor) -> torch.Tensor:
        nonlocal passes
        passes += 1
        return inner(prompts, read)

    model.item_logits = counted  # type: ignore[method-assign]
    keys = data.llm_samples(0)
    cached = CachedTeacher.build(model, data, keys, 5, batch_size=16, mode="memory", run_dir=tmp_path, dtype="float32")
    assert passes == -(-len(model.windows) // 16)
    live = LiveTeacher(model, data, 5, covered=keys)
    some = torch.from_numpy(keys[::7])
    rows_c, cached_logits = cached.logits_for(some)
    rows_l, live_logits = live.logits_for(some)
    torch.testing.assert_close(rows_c, rows_l)
    torch.testing.assert_close(cached_logits, live_logits, atol=1e-5, rtol=1e-5)


#: float16 keeps 11 significant bits: |error| <= 2^-11 |z| per logit.
FLOAT16_RELATIVE = 2.0**-11


@pytest.mark.parametrize("where", ["memory", "disk"])
def test_float16_teacher_logits_round_trip_and_barely_move_the_kl(
    make_model: ModelFactory, data: SequenceDataset, tmp_path: Path, where: str
) -> None:
    model = make_model(readout="every_item", max_history=5)
    with torch.no_grad():  # a trained-looking head: logits up to about +-18
        model.w_out.weight.mul_(10.0)
    keys = data.llm_samples(0)
    exact = CachedTeacher.build(model, data, keys, 5, 16, where, tmp_path / "a", dtype="float32")  # type: ignore[arg-type]
    half = CachedTeacher.build(model, data, keys, 5, 16, where, tmp_path / "b", dtype="float16")  # type: ignore[arg-type]
    assert half.nbytes * 2 == exact.nbytes
    _, z32 = exact.logits_for(torch.from_numpy(keys))
    _, z16 = half.logits_for(torch.from_numpy(keys))
    assert z16.dtype == torch.float32
    assert float(z32.abs().max()) > 10.0
    assert torch.all((z16 - z32).abs() <= FLOAT16_RELATIVE * z32.abs() + 1e-7)
    generator = torch.Generator().manual_seed(1)
    far = torch.randn(z32.shape, generator=generator) * z32.std()  # KL ~ 19 at T = 2
    near = z32 + 0.3 * torch.randn(z32.shape, generator=generator)  # KL ~ 0.03 at T = 2
    for student, bound in ((far, 0.05), (near, 0.005)):
        kl32, kl16 = kl_teacher_student(z32, student, 2.0), kl_teacher_student(z16, student, 2.0)
        assert float((kl16 - kl32).abs().max()) < bound
        assert abs(float(kl16.mean() - kl32.mean())) < 1e-3 * float(kl32.mean())
    for teacher in (exact, half):
        teacher.close()
    assert not list(tmp_path.rglob("teacher_logits.npy"))


def test_the_decoder_has_no_lm_head(make_model: ModelFactory) -> None:
    """Only the decoder body is loaded: nothing vocabulary-sized runs after it."""
    model = make_model(readout="every_item")
    vocab = model.decoder.get_input_embeddings().num_embeddings
    heads = [n for n, m in model.decoder.named_modules() if isinstance(m, torch.nn.Linear) and m.out_features == vocab]
    assert heads == []


def test_readout_is_a_validated_config_key() -> None:
    assert config_from_dict({}).llm.readout == "last"
    assert config_from_dict({"llm": {"readout": "every_item"}}).llm.readout == "every_item"
    with pytest.raises(ConfigError, match=r"llm\.readout"):
        config_from_dict({"llm": {"readout": "every"}})
