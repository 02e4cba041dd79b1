"""The documented token layout of each prompt mode (engine/prompts.py's docstring)."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import PreTrainedTokenizerFast

from engine.backbones import tiny_tokenizer
from engine.prompts import ANSWER, INSTRUCTION, SEPARATOR, PromptBuilder

TITLES = ["", "The Red City", "Blue Night", "", "One Two Three Four Five Six Seven"]


def tok(text: str) -> list[int]:
    return list(tiny_tokenizer()(text, add_special_tokens=False)["input_ids"])


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerFast:
    return tiny_tokenizer()


def expected_layout(pieces: list[list[int]]) -> list[int]:
    bos = [tiny_tokenizer().bos_token_id]
    return bos + tok(INSTRUCTION) + [t for piece in pieces for t in piece] + tok(ANSWER)


def test_ids_mode_is_one_soft_slot_per_item(tokenizer: PreTrainedTokenizerFast) -> None:
    builder = PromptBuilder(tokenizer, TITLES, "ids")
    tokens, soft = builder.encode(np.array([2, 1, 4]))
    pad = tokenizer.pad_token_id
    assert tokens.tolist() == expected_layout([[pad], [pad], [pad]])
    start = 1 + len(tok(INSTRUCTION))
    assert soft.tolist() == [0] * start + [2, 1, 4] + [0] * len(tok(ANSWER))


def test_titles_mode_is_title_text_then_separator(tokenizer: PreTrainedTokenizerFast) -> None:
    builder = PromptBuilder(tokenizer, TITLES, "titles")
    tokens, soft = builder.encode(np.array([1, 2]))
    pieces = [tok(" The Red City") + tok(SEPARATOR), tok(" Blue Night") + tok(SEPARATOR)]
    assert tokens.tolist() == expected_layout(pieces)
    assert not soft.any()


def test_hybrid_mode_is_title_then_soft_token_then_separator(tokenizer: PreTrainedTokenizerFast) -> None:
    builder = PromptBuilder(tokenizer, TITLES, "hybrid")
    tokens, soft = builder.encode(np.array([1, 2]))
    pad = tokenizer.pad_token_id
    first = [*tok(" The Red City"), pad, *tok(SEPARATOR)]
    second = [*tok(" Blue Night"), pad, *tok(SEPARATOR)]
    assert tokens.tolist() == expected_layout([first, second])
    assert sorted(soft[soft > 0].tolist()) == [1, 2]
    slot = 1 + len(tok(INSTRUCTION)) + len(tok(" The Red City"))
    assert soft[slot] == 1
    text = builder.render(np.array([1, 2]), tokenizer)
    assert text.endswith("history : the red city<item:1>; blue night<item:2>; answer :")


def test_titles_are_cut_and_missing_titles_named_by_id(tokenizer: PreTrainedTokenizerFast) -> None:
    builder = PromptBuilder(tokenizer, TITLES, "titles", max_title_tokens=3)
    assert builder.pieces[4].tolist() == tok(" One Two Three") + tok(SEPARATOR)
    assert builder.pieces[3].tolist() == tok(" item 3") + tok(SEPARATOR)


def test_lengths_match_the_encoded_prompts(tokenizer: PreTrainedTokenizerFast) -> None:
    builder = PromptBuilder(tokenizer, TITLES, "hybrid")
    histories = [np.array([1]), np.array([4, 3, 2]), np.array([], dtype=np.int64)]
    assert builder.lengths(histories).tolist() == [len(builder.encode(h)[0]) for h in histories]


@pytest.mark.parametrize("side", ["left", "right"])
def test_batch_marks_the_last_real_token(tokenizer: PreTrainedTokenizerFast, side: str) -> None:
    builder = PromptBuilder(tokenizer, TITLES, "titles")
    batch = builder.batch([np.array([1]), np.array([4, 2, 1])], side)  # type: ignore[arg-type]
    lengths = builder.lengths([np.array([1]), np.array([4, 2, 1])])
    width = batch.input_ids.shape[1]
    assert width == lengths.max()
    for row, n in enumerate(lengths.tolist()):
        mask = batch.attention_mask[row]
        assert int(mask.sum()) == n
        last = int(batch.last_index[row])
        assert mask[last] == 1 and (last == width - 1 or mask[last + 1 :].sum() == 0)
        assert int(batch.input_ids[row, last]) == tok(ANSWER)[-1]
        real = batch.position_ids[row][mask.bool()]
        assert real.tolist() == list(range(n))


def test_unknown_mode_is_refused(tokenizer: PreTrainedTokenizerFast) -> None:
    with pytest.raises(ValueError, match=r"llm\.prompt = 'words'"):
        PromptBuilder(tokenizer, TITLES, "words")  # type: ignore[arg-type]
