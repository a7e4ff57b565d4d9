"""The family registry and the schedule: one signature, a fixed order, and one line to add a family."""

from __future__ import annotations

import inspect
import random

import pytest
from warp_ir_pairs_generator import synth
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.synth import schedule
from warp_ir_pairs_generator.synth.builder import KernelBuilder, KernelSource
from warp_ir_pairs_generator.synth.families import REGISTRY, Family, for_backend, named, of_kind

CPU_SEED = ["arith", "cond", "loop", "math", "vec", "atomic", "nested", "multicond", "combined", "scalar"]
CUDA_SEED = ["cuda_arith", "cuda_reduce", "cuda_stencil", "cuda_vec", "cuda_scan", "cuda_matmul", "cuda_condreduce",
             "cuda_warpmath", "cuda_nested", "cuda_complex"]
SIM = ["particles", "springs", "sph", "mesh_query", "bvh_query", "fem", "rigid", "image_stencil", "csr_spmv",
       "graph_relax", "reduction", "scan"]


def test_each_backend_has_its_families_in_the_order_that_decides_the_records():
    assert synth.categories("cpu") == [*CPU_SEED, *SIM, "composed"]
    assert synth.categories("cuda") == [*CUDA_SEED, *SIM, "composed"]
    for backend in ("paired", "errors"):
        assert synth.categories(backend) == [*CPU_SEED, *CUDA_SEED, *SIM, "composed"]


def test_the_schedule_gives_composed_two_thirds_as_many_slots_as_the_named_families():
    for backend, cycle in synth.SCHEDULES.items():
        named_families = synth.categories(backend)[:-1]
        assert cycle == (*named_families, *["composed"] * (len(named_families) * 2 // 3)), backend


def test_every_family_builds_with_one_signature_and_carries_its_category_and_level():
    for family in REGISTRY:
        params = list(inspect.signature(family.build).parameters.values())
        assert [p.name for p in params] == ["rng", "level"], family.name
        assert all(p.default is inspect.Parameter.empty for p in params), f"{family.name} has a default level"
        ks = family.build(random.Random(family.name), 3)
        assert ks.category == family.name and ks.complexity == 3


def test_kinds_and_names_are_looked_up_in_the_registry():
    assert list(of_kind("sim")) == SIM and list(of_kind("composed")) == ["composed"]
    assert len(of_kind("seed")) == 20
    assert named("fem").kind == "sim"
    with pytest.raises(KeyError, match="no family named 'nope'"):
        named("nope")
    with pytest.raises(ValueError, match="unknown family kind 'real'; valid kinds: seed, sim, composed"):
        of_kind("real")
    with pytest.raises(ValueError, match="unknown backend 'tpu'"):
        for_backend("tpu")


def test_a_family_with_a_bad_kind_or_backend_is_refused_when_declared():
    with pytest.raises(ValueError, match="family 'toy': unknown kind 'fancy'"):
        Family("toy", "fancy", _toy)
    with pytest.raises(ValueError, match=r"family 'toy': unknown backends \['tpu'\]"):
        Family("toy", "sim", _toy, ("cpu", "tpu"))


def _toy(rng: random.Random, level: int) -> KernelSource:
    kb = KernelBuilder(rng, "toy_kernel", "toy")
    kb.complexity = level
    out = kb.array_param("out", "wp.float32")
    (i,) = kb.tid()
    kb.emit(f"{out.name}[{i.name}] = {rng.randint(1, 9)}.0")
    return kb.render()


def test_a_family_added_to_a_copy_of_the_registry_is_scheduled_on_its_backends():
    toy = Family("toy", "sim", _toy, ("cpu", "paired"))
    registry = (*REGISTRY[:-1], toy, REGISTRY[-1])      # one line, before composed
    by_backend = schedule.families_by_backend(registry)
    cycles = schedule.schedules(registry)
    for backend in ("cpu", "paired"):
        assert list(by_backend[backend]) == [*synth.categories(backend)[:-1], "toy", "composed"]
        assert cycles[backend].count("toy") == 1
        named_families = len(synth.categories(backend))      # the old named families + toy
        assert len(cycles[backend]) == named_families + named_families * 2 // 3
    for backend in ("cuda", "errors"):
        assert cycles[backend] == synth.SCHEDULES[backend]
    slot = cycles["cpu"].index("toy")
    ks = by_backend["cpu"][cycles["cpu"][slot]].build(random.Random(0), 2)
    assert ks.category == "toy" and "def toy_kernel(" in ks.python_source
    assert synth.categories("cpu") == [*CPU_SEED, *SIM, "composed"], "the real registry is untouched"


def test_draw_returns_the_kernel_and_the_rng_it_was_drawn_from():
    options = GenerationOptions.from_config("cpu-tiny")
    for index in range(12):
        ks, rng = synth.draw(options, index, 1)
        assert ks == synth.synthesize(options, index, 1)
        fresh = synth.record_rng(options, index, 1)
        family = synth.FAMILIES["cpu"][synth.SCHEDULES["cpu"][index % len(synth.SCHEDULES["cpu"])]]
        replay = schedule._ensure_entropy(family.build(fresh, synth.level_of(options, index)), fresh)
        assert replay == ks
        assert rng.getstate() == fresh.getstate(), "the RNG is handed back where the draw left it"
