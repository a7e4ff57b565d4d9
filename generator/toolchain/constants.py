"""The toolchain's fixed choices, one copy each: what every record is generated and compiled with.

Warp-free (``options`` derives its arch list, default arch and variant opt level from here, and
must import without Warp). Changing any value here changes records: a new dataset version.

* ``CPU_TARGET = "x86-64-v3"`` (AVX2, FMA, BMI1/2, F16C, MOVBE: Haswell 2013+ / Zen 1+), handed
  to Warp's cc1-style flags as ``-target-cpu x86-64-v3``. Warp's default ``-march=native`` would
  make asm and IR depend on the machine that generates them; the generic ``x86-64`` baseline
  (SSE2 only) would record code no current machine runs. x86-64-v3 is the baseline current
  distributions and CI machines build for. ``-march=x86-64-v3`` is rejected (Warp passes flags
  to cc1 and expands only ``-march=native``). Warp's backend TargetMachine stays "generic" unless
  ``-march=native``; the per-function ``target-cpu`` attribute is what selects AVX2 code. The
  rest of ``CPU_FLAGS`` is Warp 1.19's default ``cpu_compiler_flags`` (its ``-mllvm`` inlining
  and SLP thresholds).
* A CPU launch compiles its module with ``block_dim=1`` (Warp's CPU launch path); CUDA launches
  use the module default (256), and CUDA text is emitted and compiled for a current datacenter
  arch (``sm_90``) unless a caller passes another of ``PTX_ARCHS``.
"""

from __future__ import annotations

# Records are Warp output: they are only reproducible with this exact Warp (see setup.cfg pin).
WARP_VERSION = "1.19.0"
CPU_TARGET = "x86-64-v3"
# Warp 1.19's default cpu_compiler_flags with "-march=native" replaced by the fixed target.
CPU_FLAGS = (f"-target-cpu {CPU_TARGET} -mllvm=-inline-threshold=9000 "
             "-mllvm=-inline-cold-callsite-threshold=3000 -mllvm=-slp-recursion-max-depth=4")

CPU_BLOCK_DIM = 1        # what a CPU launch compiles with
CUDA_BLOCK_DIM = 256     # Warp's module default, what a CUDA launch compiles with
BLOCK_DIM = {"cpu": CPU_BLOCK_DIM, "cuda": CUDA_BLOCK_DIM}

# CUDA architectures NVRTC 13.4 (bundled with Warp 1.19) compiles PTX for.
PTX_ARCHS = (75, 80, 86, 87, 88, 89, 90, 100, 103, 107, 110, 120, 121)
# The arch CUDA text is emitted for (the module option ``output_arch``) and PTX is compiled for.
DEFAULT_PTX_ARCH = 90

CPU_OPT_LEVEL = 2        # Warp's CPU default
CUDA_OPT_LEVEL = 3       # Warp's CUDA default
# With ``opt_variants``, native code is also compiled at this level (Warp's defaults: CPU -O2,
# CUDA -O3); -O0 would give no LLVM IR dump on CPU (its pipeline has no CodeGenPrepare pass).
VARIANT_OPT_LEVEL = 1

# Module options recorded with every record: the ones that change the emitted text.
RECORDED_OPTIONS = ("block_dim", "mode", "enable_backward", "fast_math", "fuse_fp", "max_unroll",
                    "lineinfo", "verify_fp", "default_grid_stride", "output_arch")

# The name every translation unit is compiled under. NVRTC hashes the program name into
# internal symbols, and clang prints the file name in IR headers and diagnostics: fixed names
# keep both independent of the kernel and of the temp dir.
PROGRAM = {"cuda": "module.cu", "cpu": "module.cpp"}
