"""The card's words for the engine's registries: one sentence per verify level, the kind of each family."""

from __future__ import annotations

from warp_ir_pairs_generator import options as configs
from warp_ir_pairs_generator import synth, verify
from warp_ir_pairs_generator.corpus.config_figures import ConfigFigures
from warp_ir_pairs_generator.synth.families import REGISTRY

# Each verify level's line in the card: the level declares it (verify/).
VERIFY_SENTENCES = {level.name: level.sentence for level in verify.LEVELS}
assert set(VERIFY_SENTENCES) == set(configs.VERIFY_LEVELS)


def _family_kind(name: str) -> str:
    """The card's word for a family's registry kind; a category only the data has reads as seed."""
    kinds = {f.name: f.kind for f in REGISTRY}
    return {"sim": "realistic", "composed": "composed"}.get(kinds.get(name, "seed"), "seed")


def _families(fig: ConfigFigures) -> list[str]:
    """The backend's families in the synthesizer's order, then any other category found in the data."""
    known = synth.categories(fig.backend)
    return known + sorted(set(fig.categories) - set(known))

