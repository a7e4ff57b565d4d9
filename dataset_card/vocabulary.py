"""The card's words for the engine's registries: one sentence per verify level, the kind of each family."""

from __future__ import annotations

from warp_ir_pairs_generator import options as configs
from warp_ir_pairs_generator import synth
from warp_ir_pairs_generator.corpus.config_figures import ConfigFigures
from warp_ir_pairs_generator.synth.families import REGISTRY

VERIFY_SENTENCES = {
    "codegen": "`codegen`: the IR is Warp's code-generator output for the kernel; it was not compiled or run.",
    "compile": "`compile`: the generated code was also compiled by the toolchains bundled with Warp (NVRTC for "
               "CUDA into `ptx`, clang/LLVM for the CPU into `ir_llvm` and `asm`), with no GPU and no system "
               "compiler; a kernel that failed to compile was replaced.",
    "execute": "`execute`: compiled as at `compile`, and each kernel was also launched on the CPU on small "
               "deterministic inputs in a sandboxed worker; `example_io` holds the launch, inputs and outputs.",
}
assert set(VERIFY_SENTENCES) == set(configs.VERIFY_LEVELS)


def _family_kind(name: str) -> str:
    """The card's word for a family's registry kind; a category only the data has reads as seed."""
    kinds = {f.name: f.kind for f in REGISTRY}
    return {"sim": "realistic", "composed": "composed"}.get(kinds.get(name, "seed"), "seed")


def _families(fig: ConfigFigures) -> list[str]:
    """The backend's families in the synthesizer's order, then any other category found in the data."""
    known = synth.categories(fig.backend)
    return known + sorted(set(fig.categories) - set(known))

