"""Warp adapter: define a kernel from source text, run Warp's code generator, release it again.

``ModuleBuilder(...).codegen()`` is private but gives text byte-identical to what
``wp.compile_aot_module`` writes; the test
``tests/toolchain/test_codegen.py::test_in_memory_codegen_equals_public_aot_output`` guards that.
The kernel's functions are cut out of that text by ``extract``; the options it is generated
with (block dims, arch, recorded options) are ``constants``'.
"""

from __future__ import annotations

import functools
import itertools
import json
import linecache
import re
import sys
import types
from dataclasses import dataclass

from .constants import BLOCK_DIM, CPU_BLOCK_DIM, RECORDED_OPTIONS, WARP_VERSION
from .constants import DEFAULT_PTX_ARCH as CUDA_ARCH  # the name benchmarks/throughput.py reads
from .extract import extract_function, helper_functions

_module_counter = itertools.count()


class KernelRejected(Exception):
    """Warp refused the kernel; ``reason`` is a short class of the failure, ``message`` Warp's words."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class KernelIR:
    """The IR Warp emitted for one kernel."""

    mangled_name: str
    forward: str
    backward: str
    functions: str          # forward device functions of the @wp.func helpers, Warp's order
    options: str            # JSON of RECORDED_OPTIONS
    module_text: str        # the whole generated .cpp/.cu of the kernel's one-kernel module
    debug_forward: str = ""  # the forward function under mode="debug" (when asked for)


@functools.lru_cache(maxsize=1)
def warp():
    """Import and initialise Warp once per process, quietly."""
    import warp as wp


    if wp.config.version != WARP_VERSION:
        # A different Warp emits different IR: that is a new dataset version, never a silent change.
        raise RuntimeError(f"warp-ir-pairs needs warp-lang=={WARP_VERSION} (records are its output), "
                           f"but warp-lang {wp.config.version} is installed")
    wp.config.log_level = wp.LOG_WARNING
    wp.init()
    return wp


def warp_version() -> str:
    return warp().config.version


def load_module(source: str, filename: str, modname: str | None = None) -> types.ModuleType:
    """Exec ``source`` as a fresh Python module that Warp can read the source of (no file).

    ``filename`` (a ``<pseudo>`` name) reaches the IR in helper comments, so callers fix it.
    ``modname`` is the module's ``__name__``, which Warp groups kernels by: the default is unique
    per load, which keeps every kernel in its own Warp module (a shared name grows one module
    forever); callers that want several sources in one Warp module pass one name for all.
    On any error the source's traces are removed before the error travels on (for a shared
    ``modname`` only its linecache entry: the Warp module belongs to the other sources too).
    """
    shared = modname is not None
    modname = modname or f"warp_ir_pairs_k{next(_module_counter)}"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(modname)
    module.__file__ = filename
    # dont_inherit: this file's `from __future__ import annotations` must not leak into user code
    # (Warp evaluates struct annotations in the module's globals, which are not in sys.modules).
    try:
        exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
    except BaseException:
        # Definition-time errors (a missing annotation...) leave helpers registered with Warp
        # and their name counters bumped: undo that before the error travels on.
        if shared:
            linecache.cache.pop(filename, None)
        else:
            release_module(module, filename)
        raise
    return module


def is_kernel(obj: object) -> bool:
    """Whether ``obj`` is a ``@wp.kernel``."""
    import warp._src.context as ctx

    return isinstance(obj, ctx.Kernel)


def release_module(module: types.ModuleType | None, filename: str) -> None:
    """Drop every trace of a loaded kernel module so memory and name counters stay flat."""
    linecache.cache.pop(filename, None)
    if module is None:
        return
    import warp._src.context as ctx

    for obj in module.__dict__.values():
        if isinstance(obj, ctx.Function):
            # Native helper names carry a process-global per-name counter (helper_0, helper_1...):
            # reset it so a name's IR never depends on what the process generated before.
            ctx.function_key_counts.pop(obj.key, None)
    wp_module = ctx.user_modules.pop(module.__name__, None)
    if wp_module is not None:
        wp_module.unload()
        # Modules we call into (warp.math's @wp.func builtins, ...) keep us in their `dependents`
        # set, which would keep every kernel, its AST and its adjoint alive (~70 KB a record).
        # Private API; guarded by tests/toolchain/test_codegen.py::test_released_kernels_are_freed.
        wp_module._detach_references()
    sys.modules.pop(module.__name__, None)


def emit(source: str, kernel_name: str, backend: str) -> KernelIR:
    """Run Warp's code generator for ``backend`` on ``source`` and return the kernel's IR.

    Raises ``KernelRejected`` when Python or Warp refuses the source.
    """
    return emit_all(source, kernel_name, (backend,))[backend]


def emit_all(source: str, kernel_name: str, backends: tuple[str, ...], debug: bool = False) -> dict[str, KernelIR]:
    """Define the kernel once and run Warp's code generator for each backend (paired records).

    ``debug`` also generates each backend's forward function under Warp's ``mode="debug"``.
    """
    wp = warp()
    import warp._src.context as ctx

    filename = f"<{kernel_name}>"
    module = None
    try:
        try:
            module = load_module(source, filename)
        except SyntaxError as e:
            raise KernelRejected("SyntaxError", f"line {e.lineno}: {e.msg}") from None
        except Exception as e:   # Warp refuses some kernels while defining them (annotations...)
            raise KernelRejected(type(e).__name__, first_line(e)) from None
        kernel = module.__dict__.get(kernel_name)
        if not isinstance(kernel, ctx.Kernel):
            raise KernelRejected("NoKernel", f"{kernel_name!r} is not a @wp.kernel in the source")
        return {backend: _codegen(wp, module, kernel, backend, debug) for backend in backends}
    finally:
        release_module(module, filename)


def _module_text(wp, kernel, backend: str, mode: str | None = None) -> tuple[dict, str, str, str]:
    """(options, module text, body after the constant header, mangled name) for one build."""
    import warp._src.context as ctx

    wp_module = kernel.module
    # The options a launch on this backend compiles with (Warp's Module._compile does the same).
    options = wp_module.resolve_options(wp.config, block_dim=BLOCK_DIM[backend])
    options["output_arch"] = CUDA_ARCH if backend == "cuda" else None
    if mode is not None:
        options["mode"] = mode
    try:
        hasher = ctx.ModuleHasher(wp_module._get_live_kernels(), options)
        text = ctx.ModuleBuilder(wp_module, options, hasher, target=backend).codegen(backend)
    except Exception as e:  # Warp raises RuntimeError, WarpCodegen*Error, KeyError, ...
        raise KernelRejected(type(e).__name__, first_line(e)) from None
    try:
        mangled = kernel.get_mangled_name()
    except RuntimeError:
        # A generic kernel (``Any`` parameters) has no code of its own until an overload is
        # instantiated; Warp says "Missing hash ... in module <our per-load name>", which would
        # make the counted reason depend on the process, so the reason is ours.
        raise KernelRejected("GenericKernel", f"{kernel.key} has generic parameters and no overload "
                                              "to generate code for") from None
    marker = module_header_end()
    body = text[text.index(marker) + len(marker):]
    _check_no_python_literals(body)
    return options, text, body, mangled


# A Python bool literal in C++ code; comments (which quote the Python source) and string
# literals (printf formats) are cut out first.
_PY_BOOL = re.compile(r"\b(?:True|False)\b")
_CPP_STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def _check_no_python_literals(body: str) -> None:
    """Refuse IR in which Warp wrote a Python literal into the C++ (no compiler accepts it).

    Warp 1.19 emits ``wp.float64(True)`` as ``var_N = True;`` on both backends. The synthesizer
    avoids that form; this catches any other way into the same bug, so such IR is counted and
    replaced instead of recorded.
    """
    for word in ("True", "False"):
        at = body.find(word)
        while at >= 0:                   # rare, mostly in comments: look at those lines only
            start = body.rfind("\n", 0, at) + 1
            end = body.find("\n", at)
            end = len(body) if end < 0 else end
            code = _CPP_STRING.sub('""', body[start:end]).split("//", 1)[0]
            if _PY_BOOL.search(code):
                raise KernelRejected("WarpEmittedPythonLiteral", f"Warp emitted invalid C++: {code.strip()[:120]}")
            at = body.find(word, end)


def _codegen(wp, module: types.ModuleType, kernel, backend: str, debug: bool = False) -> KernelIR:
    debug_forward = ""
    if debug:   # first, so the release build's kernel hash is the one left on the kernel
        _, _, body, mangled = _module_text(wp, kernel, backend, mode="debug")
        debug_forward = extract_function(body, f"{mangled}_{backend}_kernel_forward(")
    options, text, body, mangled = _module_text(wp, kernel, backend)
    forward = extract_function(body, f"{mangled}_{backend}_kernel_forward(")
    backward = extract_function(body, f"{mangled}_{backend}_kernel_backward(") if options["enable_backward"] else ""
    recorded = {k: options.get(k) for k in RECORDED_OPTIONS}
    return KernelIR(mangled, forward, backward, helper_functions(body, module),
                    json.dumps(recorded, sort_keys=True, default=str), text, debug_forward)


def first_line(e: BaseException) -> str:
    """Warp's reason for a codegen error, without the call-chain context it prepends.

    Warp chains "Error while parsing function ... at <file>:line:\n    <line>\n;" for each
    enclosing function; the last ';'-separated segment is the reason itself.
    """
    # KeyError's str() is the repr of its argument; take the argument itself.
    text = (str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)).strip() or type(e).__name__
    reason = text.split("\n;")[-1].strip()
    return " ".join(reason.split())[:300]


def module_header_end() -> str:
    """The constant text that ends the header of every module Warp generates (its cast macros).

    Every module text is this header, then the module's own body. Private API; guarded by
    tests/toolchain/test_codegen.py::test_every_module_text_starts_with_the_constant_header.
    """
    import warp._src.codegen as cg

    return cg.codegen_cast_macros


def warp_pch_dir() -> str | None:
    """The per-process directory Warp's own launches keep their clang PCH in (None: private API gone)."""
    try:
        import warp._src.context as ctx

        return ctx.runtime.get_clang_pch_dir()
    except Exception:   # private API: losing it only costs speed
        return None


def load_cpu_object(kernel, object_path: str, meta_path: str) -> tuple[str, bool]:
    """Load a prebuilt object as the CPU executable of ``kernel``'s module (Warp does no codegen).

    Returns (the mangled name Warp gives the kernel, whether its forward function linked).
    Private API (the loader behind ``wp.load_aot_module``): the object becomes the module's
    ``block_dim=1`` executable, the one a CPU ``wp.launch`` looks up. Guarded by
    tests/evaluate (the true IR passes every rung).
    """
    executable = kernel.module.load("cpu", block_dim=CPU_BLOCK_DIM, binary_path=object_path, meta_path=meta_path)
    mangled = executable.get_kernel_mangled_name(kernel)
    return mangled, bool(executable.get_kernel_hooks(kernel).forward)
