"""Simulation families without Warp: registered by category, deterministic, varied, complete modules."""

from __future__ import annotations

import ast
import random
import statistics

import pytest
from warp_ir_pairs_generator.record.structure import structure_hash
from warp_ir_pairs_generator.synth.families import SIM_FAMILIES

FAMILIES = sorted(SIM_FAMILIES)
LEVELS = (1, 2, 3, 4, 5)
EXPECTED = {"particles", "springs", "sph", "mesh_query", "bvh_query", "fem", "rigid", "image_stencil",
            "csr_spmv", "graph_relax", "reduction", "scan"}


def _draw(family: str, seed: int, level: int):
    return SIM_FAMILIES[family](random.Random(f"{family}|{seed}"), level)


def test_every_requested_sim_family_is_registered_under_its_category():
    assert set(SIM_FAMILIES) == EXPECTED
    for family in FAMILIES:
        kernel = _draw(family, 0, 3)
        assert kernel.category == family
        assert kernel.complexity == 3


@pytest.mark.parametrize("family", FAMILIES)
def test_sim_family_draws_differ_in_structure_not_only_in_names_and_constants(family):
    hashes = {structure_hash(_draw(family, seed, LEVELS[seed % 5]).python_source) for seed in range(60)}
    assert len(hashes) >= 20, f"{family}: only {len(hashes)} distinct structures in 60 draws"


@pytest.mark.parametrize("family", FAMILIES)
def test_sim_family_output_is_a_deterministic_function_of_rng_and_level(family):
    for seed in range(3):
        assert _draw(family, seed, 4) == _draw(family, seed, 4)


@pytest.mark.parametrize("family", FAMILIES)
def test_sim_kernels_are_complete_modules_with_unique_top_level_names(family):
    for seed in range(10):
        kernel = _draw(family, seed, LEVELS[seed % 5])
        tree = ast.parse(kernel.python_source)
        assert isinstance(tree.body[0], ast.Import) and tree.body[0].names[0].name == "warp"
        defined = []
        for node in tree.body[1:]:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined.append(node.name)
            elif isinstance(node, ast.Assign):  # NAME = wp.constant(...)
                defined += [t.id for t in node.targets if isinstance(t, ast.Name)]
        assert len(defined) == len(set(defined)), kernel.python_source
        last = tree.body[-1]
        assert isinstance(last, ast.FunctionDef) and last.name == kernel.kernel_name
        assert any(ast.unparse(d) == "wp.kernel" for d in last.decorator_list)


def test_higher_levels_make_longer_sim_kernels():
    def mean_lines(level: int) -> float:
        return statistics.mean(_draw(f, seed, level).python_source.count("\n") for f in FAMILIES for seed in range(20))

    assert mean_lines(5) > mean_lines(1) * 1.1


def test_sim_families_use_the_warp_apis_they_model():
    expected = {"sph": ("wp.hash_grid_query(",), "mesh_query": ("wp.mesh_query_",),
                "bvh_query": ("wp.bvh_query_next(",), "fem": ("wp.mat",), "rigid": ("wp.transform",),
                "springs": ("wp.atomic_",), "particles": ("wp.vec3",), "reduction": ("wp.atomic_", "range("),
                "csr_spmv": ("range(", "while ", "wp.atomic_add("), "graph_relax": ("wp.atomic_", "range(")}
    for family, apis in expected.items():
        for seed in range(10):
            source = _draw(family, seed, LEVELS[seed % 5]).python_source
            assert any(api in source for api in apis), f"{family}: none of {apis} in\n{source}"
