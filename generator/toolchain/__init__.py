"""The only door to Warp's private API: define kernels from source, generate code, compile natively.

Everything outside this package uses these public names (``tests/unit`` greps that no other
module imports ``warp._src``). When Warp changes, this folder changes.
"""

from .codegen import (
    KernelIR,
    KernelRejected,
    emit,
    emit_all,
    first_line,
    is_kernel,
    load_cpu_object,
    load_module,
    release_module,
    warp,
    warp_pch_dir,
    warp_version,
)
from .native import NativeResult, NativeToolchainError, clang_pch_dir, compile_cpu, compile_cpu_object, compile_cuda

__all__ = ["KernelIR", "KernelRejected", "NativeResult", "NativeToolchainError", "clang_pch_dir", "compile_cpu",
           "compile_cpu_object", "compile_cuda", "emit", "emit_all", "first_line", "is_kernel", "load_cpu_object",
           "load_module", "release_module", "warp", "warp_pch_dir", "warp_version"]
