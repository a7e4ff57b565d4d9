"""The only door to Warp's private API: define kernels from source, generate code, compile natively.

Everything outside this package uses these public names (``tests/unit`` greps that no other
module imports ``warp._src``). When Warp changes, this folder changes. By concern:
``constants`` (target, flags, block dims, arch, opt levels: one copy each, Warp-free),
``codegen`` (define from source, emit, release), ``extract`` (cut functions out of text),
``native`` (clang/NVRTC compiles), ``normalize`` (native outputs made call-independent),
``process_state`` (temp dir, PCHs, fd 2, the lock). Nothing here imports Warp until it is used.
"""

from . import constants
from .codegen import (
    KernelIR,
    KernelRejected,
    emit,
    emit_all,
    first_line,
    is_kernel,
    load_cpu_object,
    load_module,
    module_header_end,
    release_module,
    warp,
    warp_pch_dir,
    warp_version,
)
from .native import (
    NativeResult,
    NativeToolchainError,
    clang_pch_dir,
    compile_cpu,
    compile_cpu_object,
    compile_cuda,
    compile_text,
    kernel_result,
)

__all__ = ["KernelIR", "KernelRejected", "NativeResult", "NativeToolchainError", "clang_pch_dir", "compile_cpu",
           "compile_cpu_object", "compile_cuda", "compile_text", "constants", "emit", "emit_all", "first_line",
           "is_kernel", "kernel_result", "load_cpu_object", "load_module", "module_header_end", "release_module",
           "warp", "warp_pch_dir", "warp_version"]
