"""Three small kernels the toolchain and shared-TU tests compile (a @wp.func helper, a branch with
printf on a vec3 array, a dynamic loop), and the helpers both suites build their fixtures from."""

from __future__ import annotations

BACKENDS = ("cpu", "cuda")

SOURCES = {
    "k_helper": '''import warp as wp

@wp.func
def helper(x: float):
    return x * 2.0 + 1.0

@wp.kernel
def k_helper(a: wp.array(dtype=float), b: wp.array(dtype=float)):
    i = wp.tid()
    b[i] = helper(wp.sin(a[i])) + 3.0
''',
    "k_branch": '''import warp as wp

@wp.kernel
def k_branch(a: wp.array(dtype=wp.vec3), b: wp.array(dtype=float)):
    i = wp.tid()
    v = a[i]
    if v[0] > 0.0:
        b[i] = wp.length(v) * wp.length(v) - 1.0
    else:
        wp.printf("neg %d\\n", i)
''',
    "k_loop": '''import warp as wp

@wp.kernel
def k_loop(a: wp.array(dtype=float), n: int):
    i = wp.tid()
    s = float(0.0)
    for j in range(n):
        s += wp.exp(a[(i + j) % n]) * 0.5
    wp.printf("s=%f\\n", s)
    a[i] = s
''',
}


def module_texts() -> dict[str, list[tuple[str, str]]]:
    """(mangled_name, module_text) of each kernel in SOURCES, per backend."""
    from warp_ir_pairs_generator.toolchain import native

    return {b: [native.module_text(src, name, b) for name, src in SOURCES.items()] for b in BACKENDS}


def compile_alone(backend: str, modules: list[tuple[str, str]]) -> list:
    """The toolchain's own compile: one translation unit per module."""
    from warp_ir_pairs_generator.toolchain import native

    return native.compile_cpu(modules) if backend == "cpu" else native.compile_cuda(modules)


def each_alone(modules: dict[str, list[tuple[str, str]]]) -> dict[str, list]:
    """Each kernel compiled in a call of its own: the reference every other way must match."""
    return {b: [compile_alone(b, [m])[0] for m in modules[b]] for b in BACKENDS}


def broken(module: tuple[str, str]) -> tuple[str, str]:
    """The module with a C++ error Warp's codegen cannot catch (a call to a missing function)."""
    name, text = module
    bad = text.replace("wp::exp(", "wp::expx(", 1)
    assert bad != text
    return name, bad


def check_broken_result(bad, name: str, backend: str) -> None:
    """A kernel that fails to compile fails alone, with its own normalized one-kernel diagnostic."""
    import os

    from warp_ir_pairs_generator.toolchain import normalize

    assert not bad.ok and bad.mangled_name == name
    assert bad.ptx == bad.ir_llvm == bad.asm == ""
    program = "module.cpp:" if backend == "cpu" else "module.cu("
    assert program in bad.error and "expx" in bad.error, bad.error
    assert "/tmp" not in bad.error and str(os.getpid()) not in bad.error
    assert len(bad.error.splitlines()) <= normalize.ERROR_LINES
