"""benchmarks/shared_tu.py: several kernels in one translation unit, cut apart, renumbered, blamed.

Not the dataset's path (the toolchain compiles one module per TU); these pin what the
benchmark measures and why the toolchain does not share TUs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from warp_ir_pairs_generator import toolchain
from warp_ir_pairs_generator.toolchain import constants, native

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import shared_tu  # benchmarks/ is a folder of scripts, not a package
from sample_kernels import (  # shared with tests/toolchain
    BACKENDS,
    SOURCES,
    broken,
    check_broken_result,
    compile_alone,
    each_alone,
    module_texts,
)


def _compile(backend: str, modules: list[tuple[str, str]], max_batch: int = 1) -> list[native.NativeResult]:
    if max_batch == 1:
        return compile_alone(backend, modules)
    return shared_tu.compile_shared(backend, modules, max_batch)


@pytest.fixture(scope="module")
def modules() -> dict[str, list[tuple[str, str]]]:
    return module_texts()


@pytest.fixture(scope="module")
def alone(modules) -> dict[str, list[native.NativeResult]]:
    return each_alone(modules)


def test_max_batch_one_is_the_toolchains_own_compile(modules, alone):
    for backend in BACKENDS:
        assert shared_tu.compile_shared(backend, modules[backend], max_batch=1) == alone[backend]
        twice = shared_tu.compile_shared(backend, [modules[backend][0]] * 2, max_batch=3)
        assert twice == [alone[backend][0]] * 2
    with pytest.raises(ValueError, match="max_batch must be >= 1, got 0"):
        shared_tu.compile_shared("cpu", modules["cpu"], max_batch=0)


def test_shared_tu_labels_and_metadata_are_renumbered_per_kernel(modules, alone):
    """max_batch > 1: several kernels in ONE NVRTC program / clang TU, cut apart and renumbered.

    These kernels do not change each other's code (on CPU all three keep Warp's
    shared_tile_storage; see the next test for ones that do), so after renumbering each equals
    its own compile.
    """
    cuda = shared_tu.compile_shared("cuda", modules["cuda"], max_batch=3)
    assert cuda == alone["cuda"]
    # NVRTC numbered depots and labels across the program; only renumbering made them equal
    text, _ = shared_tu._join([shared_tu._unit(*m) for m in modules["cuda"]])
    ok, _, raw = toolchain.compile_text("cuda", text, constants.DEFAULT_PTX_ARCH)
    assert ok and "__local_depot5" in raw["ptx"] and "$L__BB5_" in raw["ptx"]
    # NVRTC hashes the program name into internal symbols: it is always module.cu
    assert "_9_module_cu_" in raw["ptx"]

    keepers = [*modules["cpu"][1:], native.module_text(SOURCES["k_branch"].replace("neg", "low"), "k_branch", "cpu")]
    cpu = shared_tu.compile_shared("cpu", keepers, max_batch=3)
    assert cpu == [*alone["cpu"][1:], native.compile_cpu([keepers[2]])[0]]
    assert all(r.ok and "shared_tile_storage" in r.ir_llvm for r in cpu)


def test_a_shared_tu_can_change_a_kernel_so_the_toolchain_compiles_each_alone(modules, alone):
    """Why the toolchain has no shared TUs: whole-TU optimization couples kernels in one TU.

    Alone, k_helper lets GlobalOpt delete tile.h's TU-wide `static shared_tile_storage`; next
    to a kernel that keeps it, k_helper's forward loads and restores it. Records must be a
    function of the kernel alone.
    """
    pair = [modules["cpu"][0], modules["cpu"][1]]
    shared = shared_tu.compile_shared("cpu", pair, max_batch=2)
    assert shared[0].ok and shared[0].ir_llvm != alone["cpu"][0].ir_llvm
    assert "shared_tile_storage" in shared[0].ir_llvm and "shared_tile_storage" not in alone["cpu"][0].ir_llvm
    assert native.compile_cpu(pair) == alone["cpu"][:2]


@pytest.mark.parametrize("max_batch", [1, 3])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_broken_kernel_fails_alone_and_its_batch_mates_succeed(backend, max_batch, modules, alone):
    batch = [*modules[backend][:2], broken(modules[backend][2])]
    results = _compile(backend, batch, max_batch=max_batch)
    # the good kernels get exactly what they get without the bad one (alone, or sharing a TU)
    assert results[:2] == (alone[backend][:2] if max_batch == 1 else _compile(backend, batch[:2], max_batch=2))
    assert all(r.ok for r in results[:2])
    bad = results[2]
    check_broken_result(bad, batch[2][0], backend)
    # the diagnostic is the kernel's own: the same in any batch
    assert _compile(backend, [batch[2]])[0] == bad
    if backend == "cpu":
        # Warp deleted its PCH after the failure; the kept hard link put it back (no 1.3 s rebuild)
        assert any(e.endswith(".pch") for e in os.listdir(toolchain.clang_pch_dir()))
