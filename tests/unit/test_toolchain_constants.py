"""The toolchain's fixed choices exist once, in toolchain.constants, and load without Warp."""

from __future__ import annotations

import subprocess
import sys

from warp_ir_pairs_generator import options
from warp_ir_pairs_generator.toolchain import constants


def test_the_cpu_target_is_fixed_and_never_the_host():
    assert constants.CPU_TARGET == "x86-64-v3"
    assert constants.CPU_FLAGS.startswith("-target-cpu x86-64-v3 ")
    assert "-march" not in constants.CPU_FLAGS


def test_block_dims_arch_and_opt_levels():
    assert constants.BLOCK_DIM == {"cpu": constants.CPU_BLOCK_DIM, "cuda": constants.CUDA_BLOCK_DIM} == \
        {"cpu": 1, "cuda": 256}
    assert constants.DEFAULT_PTX_ARCH == 90 and constants.DEFAULT_PTX_ARCH in constants.PTX_ARCHS
    assert list(constants.PTX_ARCHS) == sorted(set(constants.PTX_ARCHS))
    assert (constants.CPU_OPT_LEVEL, constants.CUDA_OPT_LEVEL, constants.VARIANT_OPT_LEVEL) == (2, 3, 1)
    assert constants.PROGRAM == {"cuda": "module.cu", "cpu": "module.cpp"}
    assert "block_dim" in constants.RECORDED_OPTIONS and "output_arch" in constants.RECORDED_OPTIONS


def test_options_take_the_toolchains_values_not_copies():
    assert options.PTX_ARCHS is constants.PTX_ARCHS
    assert options.DEFAULT_PTX_ARCH == constants.DEFAULT_PTX_ARCH
    assert options.VARIANT_OPT_LEVEL == constants.VARIANT_OPT_LEVEL
    assert options.GenerationOptions("cuda", 1).ptx_arch == constants.DEFAULT_PTX_ARCH


def test_importing_the_toolchain_options_and_driver_loads_no_warp_in_a_fresh_process():
    code = ("import sys\n"
            "from warp_ir_pairs_generator import toolchain, options, driver, verify\n"
            "from warp_ir_pairs_generator.toolchain import native, normalize, extract, process_state\n"
            "print(sorted(m for m in sys.modules if m == 'warp' or m.startswith('warp.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
