"""Simulation families: realistic Warp kernels that Warp always accepts, in many structures."""

from __future__ import annotations

import random

import pytest
from warp_ir_pairs_generator.synth.families import SIM_FAMILIES
from warp_ir_pairs_generator.toolchain import codegen

FAMILIES = sorted(SIM_FAMILIES)
LEVELS = (1, 2, 3, 4, 5)
EXPECTED = {"particles", "springs", "sph", "mesh_query", "bvh_query", "fem", "rigid", "image_stencil",
            "csr_spmv", "graph_relax", "reduction", "scan"}


def _draw(family: str, seed: int, level: int):
    return SIM_FAMILIES[family](random.Random(f"{family}|{seed}"), level)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_sim_family_is_accepted_by_warp_on_both_backends(family):
    # 25 kernels per family, every level five times, every kernel through both code generators.
    for seed in range(25):
        kernel = _draw(family, seed, LEVELS[seed % 5])
        for backend in ("cpu", "cuda"):
            try:
                codegen.emit(kernel.python_source, kernel.kernel_name, backend)
            except codegen.KernelRejected as e:
                pytest.fail(f"{family} seed {seed} rejected on {backend}: {e}\n{kernel.python_source}")


