"""Sandboxed CPU execution of generated kernels: run each once on small inputs, record its I/O.

``execute(items)`` takes ``(python_source, kernel_name, input_seed)`` triples and returns one
``ExecResult`` per item, in order. A kernel that crashes, hangs or cannot be fed is a result
with ``ok=False`` and a one-line ``reason``, never an exception and never a stalled caller.

Inputs (a pure function of the source and ``input_seed``)
---------------------------------------------------------
``rng = numpy.random.default_rng(input_seed)``; ``n = rng.integers(4, 9)`` is the size of every
array dimension, so every array of a kernel has shape ``(n,) * ndim`` and tid-indexed reads
stay in bounds. The launch ``dim`` is ``(n,) * k`` where ``k`` is the number of names the
kernel unpacks from ``wp.tid()``. Then, per kernel argument in declaration order:

* float scalars and float components (vectors, matrices, quaternions, transforms) are uniform
  in [-1, 1]; quaternions (and a transform's rotation) are normalized;
* integer *array* values and integer vector components are uniform in [0, n), so index arrays
  (CSR offsets/columns, edges, neighbours, triangles) stay in bounds; integer *scalars* are
  uniform in [1, n) (loop counts and strides must be small and nonzero); bools are 0/1;
* ``@wp.struct`` arguments are instances of the module's struct class, every field filled the
  same way (nested structs and array fields included);
* ``wp.indexedarray`` is a view over a base array of shape ``(n,) * ndim`` through one
  permutation of ``range(n)`` per dimension;
* ``wp.uint64`` arguments that the source passes to ``wp.mesh_*`` / ``wp.hash_grid_*`` /
  ``wp.bvh_*`` (directly or through a ``@wp.func``) get the ``.id`` of a fixed ``wp.Mesh``
  (a regular tetrahedron, 4 vertices and 4 outward faces, so face/vertex ids < 4 <= n), a
  ``wp.HashGrid`` (cell width 0.5) over the kernel's first 1-D vec3 array (else over n random
  points), or a ``wp.Bvh`` over 4 fixed boxes (item ids < 4 <= n); other ``uint64`` arguments
  are integer scalars.

Anything else (generic ``Any`` kernels, fabric arrays, arrays of structs, bfloat16, ...) gives
``ok=False, reason="unsupported: <type>"``.

Every array is a view into a larger zero-filled numpy buffer with ``GUARD_BYTES`` on each side:
off-by-a-few reads (``offsets[tid + 1]`` at the last row) read zeros, deterministically, and a
write that lands in a guard is reported as ``oob_write: <arg>`` instead of corrupting the
worker's heap (which could crash a later, innocent kernel).

``example_io`` (JSON, ``sort_keys``, compact, byte-identical across runs and processes)
-------------------------------------------------------------------------------------
``{"dim": [n, ...], "inputs": {arg: value}, "outputs": {arg: value}}``. ``inputs`` holds every
argument before the launch, ``outputs`` every array argument after it (structs: their array
fields). Arrays are nested lists (vectors/matrices as inner lists); floats are rounded to
``SIG_DIGITS`` significant digits; NaN/inf are the strings ``"nan"``, ``"inf"``, ``"-inf"``;
handles are their kind (``{"mesh": "tetrahedron"}``, ``{"bvh": "tetrahedron_boxes"}``,
``{"hash_grid": "<arg>"}``), never a pointer. At most ``MAX_NUMBERS`` numbers are written: when
the arrays hold more, the budget is shared among them (smallest first) and an array that does
not fit becomes ``{"shape": [...], "head": [first elements, C order]}``. Non-finite outputs
are still ``ok`` (the kernel ran); callers can look for ``"nan"`` in the text.

Sandbox
-------
Kernels run in a worker process (``python -c`` + this module, never a fork of the caller, which
may hold an initialized Warp), one at a time with a per-kernel limit of ``timeout_s`` on the
launch. The worker reports each phase (compile of a chunk, run of an item) over a pipe before
entering it, so when it dies (SIGSEGV, SIGILL, abort) or overruns, the supervisor knows the
culprit: that item gets ``crash:SIG...`` or ``timeout``, the worker is killed, and a fresh one
resumes with the remaining items. A worker that dies while compiling a chunk has the chunk
compiled kernel by kernel in the next worker.

Speed: Warp compiles a whole module with one clang call, so items are grouped into chunks of
``CHUNK_SIZE`` that share one Warp module (sources are exec'd into Python modules of the same
``__name__``); a chunk that fails to compile is compiled kernel by kernel so only the bad
kernel fails. Only the forward pass is compiled (``enable_backward=False``). A replacement
worker finds the chunk's object in the per-call kernel cache (same module name and content, so
same hash) and the clang precompiled header in a per-call seed directory, so a crash costs
about one process start (~0.3 s), not a rebuild.

Nothing leaks: each call works in its own temp dir (kernel cache, ``TMPDIR`` of the workers,
where Warp puts its PCH dirs, including those of workers that crashed), removed on return.
On x86-64, CPU code is compiled for ``x86-64-v3`` like the project's native records, not
``-march=native``, so FMA contraction and vector code (hence the last bits of results) do not
depend on which x86-64 machine runs the check (other architectures keep Warp's default).
"""

from __future__ import annotations

import ast
import contextlib
import json
import math
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .. import toolchain
from ..toolchain.constants import CPU_FLAGS

# Array dimension sizes: small, and >= 4 so ids of the fixed mesh/BVH (< 4) index any array.
DIM_MIN, DIM_MAX = 4, 8
MAX_NUMBERS = 512
SIG_DIGITS = 6
GUARD_BYTES = 64 * 1024
CHUNK_SIZE = 16
# A worker that does not get through its start (import + wp.init) in this long is broken.
STARTUP_TIMEOUT_S = 120.0
# A worker that reported its last result but does not exit in this long is killed.
EXIT_TIMEOUT_S = 30.0
# Compile limits: clang takes 0.1-1 s per kernel (1.3 s more for the first PCH); never hangs
# in practice, but a limit keeps the caller from ever stalling.
COMPILE_TIMEOUT_BASE_S = 60.0
COMPILE_TIMEOUT_PER_KERNEL_S = 15.0
# Consecutive worker deaths outside any item before the call gives up on the remaining items.
MAX_WORKER_FAILURES = 2
REASON_CHARS = 200

HANDLE_PREFIXES = {"mesh_": "mesh", "hash_grid_": "hash_grid", "bvh_": "bvh"}
# Regular tetrahedron: outward-wound faces, so sign/winding-number queries are meaningful.
TET_POINTS = ((0.5, 0.5, 0.5), (0.5, -0.5, -0.5), (-0.5, 0.5, -0.5), (-0.5, -0.5, 0.5))
TET_FACES = ((0, 1, 2), (0, 3, 1), (0, 2, 3), (1, 3, 2))
BVH_HALF_EXTENT = 0.3
HASH_GRID_CELL = 0.5
HASH_GRID_DIM = 8


def read_json_line(fd: int, buffer: bytes, deadline: float) -> tuple[dict | str | None, bytes]:
    """(next JSON object from a worker's pipe, remaining buffer): None at EOF or on a garbled
    line (the worker is gone), "timeout" past ``deadline``. Shared with ``evaluate``'s sandbox."""
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout", buffer
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return "timeout", buffer
        data = os.read(fd, 1 << 16)
        if not data:
            return None, buffer
        buffer += data
    line, buffer = buffer.split(b"\n", 1)
    try:
        return json.loads(line), buffer
    except ValueError:
        return None, buffer


@dataclass(frozen=True)
class ExecResult:
    """The outcome of one kernel: ``example_io`` JSON when ``ok``, else a one-line ``reason``."""

    ok: bool
    reason: str
    example_io: str


def _fail(reason: str) -> ExecResult:
    return ExecResult(False, _one_line(reason), "")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:REASON_CHARS]


# ---------------------------------------------------------------------------------------------
# Supervisor (the caller's process): chunks, worker rounds, crash and timeout attribution.
# ---------------------------------------------------------------------------------------------

def execute(items: list[tuple[str, str, int]], timeout_s: float = 10.0) -> list[ExecResult]:
    """Run each ``(python_source, kernel_name, input_seed)`` on the CPU in a sandbox worker.

    ``timeout_s`` limits each kernel's run (input building + launch + recording); compiling is
    limited separately and generously. Results come back in input order.
    """
    results: list[ExecResult | None] = [None] * len(items)
    if not items:
        return []
    chunks = [list(range(s, min(s + CHUNK_SIZE, len(items)))) for s in range(0, len(items), CHUNK_SIZE)]
    solo: set[int] = set()          # chunks to compile kernel by kernel (one crashed the compiler)
    failures = 0                    # consecutive worker deaths not attributable to an item
    job = os.path.abspath(tempfile.mkdtemp(prefix="warp-ir-exec-"))
    try:
        for sub in ("tmp", "cache", "pch"):
            os.mkdir(os.path.join(job, sub))
        round_no = 0
        while any(r is None for r in results):
            plan = [{"id": cid, "solo": cid in solo,
                     "items": [[i, str(items[i][0]), str(items[i][1]), int(items[i][2])] for i in members],
                     "run": [i for i in members if results[i] is None]}
                    for cid, members in enumerate(chunks) if any(results[i] is None for i in members)]
            progress = _Round(job, round_no, plan, timeout_s).run(results, solo)
            round_no += 1
            failures = 0 if progress.made else failures + 1
            if failures >= MAX_WORKER_FAILURES:
                for i, r in enumerate(results):
                    if r is None:
                        results[i] = _fail(progress.error or "worker_error: no result")
    finally:
        shutil.rmtree(job, ignore_errors=True)
    return [r if r is not None else _fail("worker_error: no result") for r in results]


@dataclass
class _Progress:
    made: bool = False
    error: str = ""


_WORKER_COMMAND = "from warp_ir_pairs_generator.launch import _worker_main; _worker_main()"


@dataclass
class _Round:
    """One worker process working through the plan until it finishes, crashes or overruns."""

    job: str
    number: int
    plan: list[dict]
    timeout_s: float
    _buffer: bytes = field(default=b"", init=False)

    def run(self, results: list[ExecResult | None], solo: set[int]) -> _Progress:
        request = os.path.join(self.job, f"request-{self.number}.json")
        with open(request, "w", encoding="utf-8") as f:
            json.dump({"chunks": self.plan}, f)
        log_path = os.path.join(self.job, f"worker-{self.number}.log")
        read_fd, write_fd = os.pipe()
        env = dict(os.environ, TMPDIR=os.path.join(self.job, "tmp"), PYTHONHASHSEED="0")
        env.pop("WARP_CACHE_PATH", None)
        progress = _Progress()
        with open(log_path, "wb") as log:
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-c", _WORKER_COMMAND, self.job, str(write_fd), request],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                    pass_fds=(write_fd,), env=env, cwd=self.job)
            except OSError as e:
                os.close(read_fd)
                progress.error = f"worker_error: cannot start a worker: {e}"
                return progress
            finally:
                os.close(write_fd)   # the worker holds the only write end: EOF means it is gone
        phase: dict = {"kind": "start"}
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        try:
            while True:
                msg = self._next_message(read_fd, deadline)
                if msg is None or msg == "timeout":
                    timed_out = msg == "timeout"
                    why = self._why(reap(proc, kill=timed_out), timed_out, phase, log_path)
                    return self._blame(phase, why, results, solo, progress)
                if "done" in msg:
                    results[msg["done"]] = ExecResult(msg["ok"], msg["reason"], msg["io"])
                    progress.made = True
                    phase, deadline = {"kind": "between"}, time.monotonic() + STARTUP_TIMEOUT_S
                elif "run" in msg:
                    phase, deadline = {"kind": "run", "item": msg["run"]}, time.monotonic() + self.timeout_s
                elif "compile" in msg:
                    count = len(msg["compile"])
                    phase = {"kind": "compile", "items": msg["compile"], "chunk": msg["chunk"]}
                    deadline = time.monotonic() + COMPILE_TIMEOUT_BASE_S + COMPILE_TIMEOUT_PER_KERNEL_S * count
                elif "ready" in msg:
                    phase, deadline = {"kind": "between"}, time.monotonic() + STARTUP_TIMEOUT_S
                elif "end" in msg:
                    # Every result is in; a worker stuck in teardown is killed in `finally`.
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=EXIT_TIMEOUT_S)
                    for chunk in self.plan:
                        for i in chunk["run"]:
                            if results[i] is None:   # cannot happen; never loop on it
                                results[i] = _fail("worker_error: no result")
                    progress.made = True
                    return progress
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(read_fd)

    def _next_message(self, fd: int, deadline: float) -> dict | str | None:
        """The next JSON line from the worker; None at EOF, "timeout" past ``deadline``."""
        message, self._buffer = read_json_line(fd, self._buffer, deadline)
        return message

    @staticmethod
    def _why(rc: int, timed_out: bool, phase: dict, log_path: str) -> str:
        if timed_out:
            return "timeout" if phase["kind"] == "run" else f"timeout: {phase['kind']}"
        if rc < 0:
            return f"crash:{signal_name(-rc)}"
        tail = log_tail(log_path)
        return f"worker_error: exit {rc}" + (f": {tail}" if tail else "")

    @staticmethod
    def _blame(phase: dict, why: str, results: list[ExecResult | None], solo: set[int],
               progress: _Progress) -> _Progress:
        if phase["kind"] == "run":
            results[phase["item"]] = _fail(why)
            progress.made = True
        elif phase["kind"] == "compile" and len(phase["items"]) == 1:
            results[phase["items"][0]] = _fail(f"{why} (compile)")
            progress.made = True
        elif phase["kind"] == "compile" and phase["chunk"] not in solo:
            solo.add(phase["chunk"])   # next worker compiles it kernel by kernel to find the culprit
            progress.made = True
        else:
            progress.error = why
        return progress


def reap(proc: subprocess.Popen, kill: bool) -> int:
    """Kill the worker when asked, wait for it, return its exit status (shared with ``evaluate``).

    A worker that closed its channel yet lives on past ``EXIT_TIMEOUT_S`` is killed.
    """
    if kill:
        proc.kill()
    try:
        return proc.wait(timeout=EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def signal_name(signum: int) -> str:
    """``SIGSEGV`` for 11, ``signal 77`` for a number with no name (shared with ``evaluate``)."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def log_tail(path: str) -> str:
    """The last non-blank line a worker wrote to its log (shared with ``evaluate``)."""
    try:
        with open(path, "rb") as f:
            lines = [ln for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


# ---------------------------------------------------------------------------------------------
# Worker (a fresh process): compile chunks, launch items, report each phase before entering it.
# ---------------------------------------------------------------------------------------------

class WorkerChannel:
    """A sandbox worker's side of its supervisor (shared with ``evaluate``).

    The worker is started as ``python -c ... JOB FD REQUEST``: it reports JSON lines on the
    inherited pipe FD, reads its work from the REQUEST file and keeps scratch files under JOB.
    """

    def __init__(self, argv: list[str]) -> None:
        self.job, fd, self.request = argv[1], int(argv[2]), argv[3]
        self._channel = os.fdopen(fd, "w", encoding="utf-8")
        tempfile.tempdir = None          # honour the TMPDIR the supervisor set

    def send(self, **msg: Any) -> None:
        self._channel.write(json.dumps(msg) + "\n")
        self._channel.flush()

    def work(self) -> Any:
        with open(self.request, encoding="utf-8") as f:
            return json.load(f)

    def close(self) -> None:
        self.send(end=True)
        self._channel.close()


def _worker_main() -> None:
    channel = WorkerChannel(sys.argv)
    job, send = channel.job, channel.send
    import warp as wp

    wp.config.kernel_cache_dir = os.path.join(job, "cache")   # before init: Warp reads it there
    wp.config.mode = "release"
    wp.config.enable_backward = False
    if platform.machine().lower() in ("x86_64", "amd64"):
        wp.config.cpu_compiler_flags = CPU_FLAGS
    toolchain.warp()
    pch = PchSeed(os.path.join(job, "pch"), toolchain.warp_pch_dir())
    send(ready=os.getpid())
    for chunk in channel.work()["chunks"]:
        _Chunk(wp, chunk, send, pch).work()
    channel.close()


class PchSeed:
    """Share a clang precompiled header (1.3 s to build) with later workers of the call.

    The PCH lives in a per-process directory ``pch_dir``; a hard link in the call's
    ``seed_dir`` outlives the worker, and the next worker links it into its own directory.
    Shared with ``evaluate`` (whose PCH is ``native``'s).
    """

    def __init__(self, seed_dir: str, pch_dir: str | None) -> None:
        self.seed_dir = seed_dir
        self.dir = pch_dir
        self.saved = False
        if self.dir:
            for name in os.listdir(seed_dir):
                with contextlib.suppress(OSError):
                    os.link(os.path.join(seed_dir, name), os.path.join(self.dir, name))
            self.saved = bool(os.listdir(seed_dir))

    def save(self) -> None:
        if self.saved or not self.dir:
            return
        for name in os.listdir(self.dir):
            if name.endswith(".pch"):
                with contextlib.suppress(OSError):
                    os.link(os.path.join(self.dir, name), os.path.join(self.seed_dir, name))
                    self.saved = True


class _Chunk:
    def __init__(self, wp: Any, chunk: dict, send: Callable[..., None], pch: PchSeed) -> None:
        self.wp = wp
        self.chunk = chunk
        self.send = send
        self.pch = pch
        self.loaded: dict[int, tuple[types.ModuleType, str]] = {}
        self.errors: dict[int, str] = {}

    def work(self) -> None:
        chunk = self.chunk
        todo = [it for it in chunk["items"] if it[0] in chunk["run"]]
        try:
            if chunk["solo"] or len(chunk["items"]) == 1:
                for it in todo:
                    self._compile([it], f"wxs{it[0]}")
            # Every member (also those already done) so the module hash, hence the cache entry
            # an earlier worker left, is the same.
            elif not self._compile(chunk["items"], f"wxc{chunk['id']}"):
                # The shared module failed to build: find the culprit kernel by kernel.
                self._release()
                for it in todo:
                    if it[0] not in self.errors:
                        self._compile([it], f"wxs{it[0]}")
            for index, source, name, seed in todo:
                if index in self.errors:
                    self.send(done=index, ok=False, reason=_one_line(self.errors[index]), io="")
                    continue
                self.send(run=index)
                ok, reason, io = run_item(self.wp, self.loaded[index][0], source, name, seed)
                self.send(done=index, ok=ok, reason=_one_line(reason), io=io)
        finally:
            self._release()

    def _compile(self, members: list, modname: str) -> bool:
        """Load ``members`` into one Warp module and compile it; False when the build failed."""
        self.send(compile=[it[0] for it in members], chunk=self.chunk["id"])
        first = None
        for index, source, _name, _seed in members:
            filename = f"<wx{index}>"
            try:
                module = toolchain.load_module(source, filename, modname)
            except Exception as e:   # SyntaxError, Warp definition-time errors: this source only
                self.errors[index] = f"compile_error: {type(e).__name__}: {toolchain.first_line(e)}"
                continue
            self.loaded[index] = (module, filename)
            first = first or module
        if first is None:
            return True
        try:
            self.wp.load_module(first, device="cpu", block_dim=1)
        except Exception as e:
            if len(members) == 1:
                self.errors[members[0][0]] = f"compile_error: {toolchain.first_line(e)}"
            return False
        self.pch.save()
        return True

    def _release(self) -> None:
        for module, filename in self.loaded.values():
            toolchain.release_module(module, filename)
        self.loaded = {}


class _Unsupported(Exception):
    pass


def run_item(wp: Any, module: types.ModuleType, source: str, name: str, seed: int) -> tuple[bool, str, str]:
    """Build inputs, launch once on the CPU, record: (ok, reason, example_io)."""
    kernel = module.__dict__.get(name)
    if not toolchain.is_kernel(kernel):
        return False, f"unsupported: no @wp.kernel named {name}", ""
    try:
        info = _SourceInfo(source, name)
        inputs = _Inputs(wp, seed, info)
        args = [inputs.build(arg.label, arg.type) for arg in kernel.adj.args]
        inputs.finish()
        before = dict(inputs.records)
    except _Unsupported as e:
        return False, f"unsupported: {e}", ""
    except Exception as e:
        return False, f"input_error: {type(e).__name__}: {e}", ""
    dim = (inputs.n,) * info.tid_ndim
    try:
        wp.launch(kernel, dim=dim, inputs=args, device="cpu")
        wp.synchronize_device("cpu")
    except Exception as e:
        return False, f"launch_error: {type(e).__name__}: {toolchain.first_line(e)}", ""
    try:
        oob = inputs.guard_violations()
        if oob:
            return False, f"oob_write: {', '.join(oob)}", ""
        return True, "", encode({"dim": list(dim), "inputs": before, "outputs": inputs.outputs()})
    except Exception as e:
        return False, f"record_error: {type(e).__name__}: {e}", ""


# ---------------------------------------------------------------------------------------------
# Source analysis: tid dimensionality and which uint64 arguments are which handles.
# ---------------------------------------------------------------------------------------------

class _SourceInfo:
    def __init__(self, source: str, kernel_name: str) -> None:
        tree = ast.parse(source)
        funcs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
        kernel = funcs.get(kernel_name)
        self.tid_ndim = 1
        if kernel is not None:
            for node in ast.walk(kernel):
                if isinstance(node, ast.Assign) and _is_wp_call(node.value, "tid"):
                    target = node.targets[0]
                    self.tid_ndim = len(target.elts) if isinstance(target, ast.Tuple) else 1
                    break
        self.handles, self.field_handles = _handle_kinds(funcs)
        self.kernel_name = kernel_name
        used = {kind for (_, _), kind in self.handles.items()} | set(self.field_handles.values())
        # A handle that reaches the builtins in a way we do not trace (e.g. through a local
        # alias): when the source uses one kind only, a uint64 argument is that kind.
        self.only_kind = next(iter(used)) if len(used) == 1 else None

    def handle_of(self, label: str, *, field: bool = False) -> str | None:
        if field:
            return self.field_handles.get(label, self.only_kind)
        return self.handles.get((self.kernel_name, label), self.only_kind)


def _is_wp_call(node: ast.AST, attr: str | None = None) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "wp"
            and (attr is None or node.func.attr == attr))


def _handle_kinds(funcs: dict[str, ast.FunctionDef]) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """(function, parameter) -> handle kind, and struct field name -> kind, from builtin calls."""
    kinds: dict[tuple[str, str], str] = {}
    fields: dict[str, str] = {}
    params = {name: [a.arg for a in f.args.args] for name, f in funcs.items()}
    for _ in range(len(funcs) + 1):           # propagate through @wp.func calls to a fixpoint
        changed = False
        for fname, func in funcs.items():
            for node in ast.walk(func):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                if _is_wp_call(node):
                    kind = next((k for p, k in HANDLE_PREFIXES.items() if node.func.attr.startswith(p)), None)
                    pairs = [(node.args[0], kind)] if kind else []
                elif isinstance(node.func, ast.Name) and node.func.id in params:
                    callee = node.func.id
                    pairs = [(arg, kinds.get((callee, p))) for arg, p in zip(node.args, params[callee], strict=False)]
                else:
                    continue
                for arg, kind in pairs:
                    if kind is None:
                        continue
                    if isinstance(arg, ast.Name) and (fname, arg.id) not in kinds:
                        kinds[(fname, arg.id)] = kind
                        changed = True
                    elif isinstance(arg, ast.Attribute) and arg.attr not in fields:
                        fields[arg.attr] = kind
                        changed = True
        if not changed:
            break
    return kinds, fields


# ---------------------------------------------------------------------------------------------
# Inputs: deterministic values from the seed, arrays inside guarded buffers.
# ---------------------------------------------------------------------------------------------

@dataclass
class _Arr:
    """An array value to encode later (the JSON budget is shared among all arrays)."""

    data: Any            # numpy array, shape = array shape + element shape
    elem_ndim: int


@dataclass
class _Guarded:
    label: str
    buffer: Any          # numpy uint8, guard + data + guard
    view: Any            # numpy view of the data, shape = array shape + element shape
    elem_ndim: int
    indices: tuple | None = None    # indexedarray: one index vector per dimension

    def logical(self) -> Any:
        import numpy as np

        return self.view[np.ix_(*self.indices)] if self.indices is not None else self.view

    def snapshot(self) -> _Arr:
        return _Arr(self.logical().copy(), self.elem_ndim)


class _Inputs:
    """Arguments for one launch, in declaration order, all drawn from one seeded generator."""

    def __init__(self, wp: Any, seed: int, info: _SourceInfo) -> None:
        import numpy as np

        self.wp = wp
        self.np = np
        self.info = info
        self.rng = np.random.default_rng(seed)
        self.n = int(self.rng.integers(DIM_MIN, DIM_MAX + 1))
        self.records: dict[str, Any] = {}
        self.guarded: list[_Guarded] = []
        self.keep: list[Any] = []              # meshes, grids, BVHs, buffers: alive until launch ends
        self.outputs_of: dict[str, Callable[[], Any]] = {}
        self.first_vec3: Any = None             # (wp array, label) for a hash grid's points
        self.pending_grids: list[Any] = []

    # -- dispatch ---------------------------------------------------------------------------

    def build(self, label: str, wtype: Any) -> Any:
        value, record, output = self._value(label, wtype, self.info.handle_of(label))
        self.records[label] = record
        if output is not None:
            self.outputs_of[label] = output
        return value

    def _value(self, label: str, wtype: Any, handle: str | None) -> tuple[Any, Any, Callable[[], Any] | None]:
        """(argument value, input record, output recorder or None); ``handle``: kind if uint64 is one."""
        wp = self.wp
        if isinstance(wtype, wp.indexedarray):
            g, arr = self._indexed(label, wtype)
            return arr, g.snapshot(), g.snapshot
        if isinstance(wtype, wp.array):
            g, arr = self._array(label, wtype.dtype, wtype.ndim)
            return arr, g.snapshot(), g.snapshot
        if wp.types.type_is_struct(wtype):
            return self._struct(label, wtype)
        if wtype is wp.uint64 and handle is not None:
            return self._handle(handle)
        if _is_value_type(wp, wtype):
            vals = self._components(wtype, 1, index=False)[0]
            return _to_warp_value(wtype, vals), _plain(vals), None
        raise _Unsupported(_type_name(wp, wtype))

    # -- values -----------------------------------------------------------------------------

    def _components(self, wtype: Any, count: int, *, index: bool) -> Any:
        """``count`` values of ``wtype`` as a numpy array of shape (count, *element_shape)."""
        np, wp = self.np, self.wp
        scalar = getattr(wtype, "_wp_scalar_type_", wtype)
        shape = tuple(getattr(wtype, "_shape_", ()))
        np_dtype = _np_dtype(wp, scalar)
        size = count * math.prod(shape)
        if scalar in (wp.float16, wp.float32, wp.float64):
            raw = self.rng.uniform(-1.0, 1.0, size)
        elif scalar is wp.bool:
            raw = self.rng.integers(0, 2, size)
        else:
            # Array entries and vector components may be indices (0 is valid); scalars may be
            # counts or strides (must not be 0).
            composite = bool(shape)
            low = 0 if (index or composite) else 1
            raw = self.rng.integers(low, max(self.n, low + 1), size)
        vals = raw.reshape((count, *shape))
        if wp.types.type_is_quaternion(wtype):
            vals = _normalized(np, vals, slice(0, 4))
        elif wp.types.type_is_transformation(wtype):
            vals = _normalized(np, vals, slice(3, 7))
        return vals.astype(np_dtype)

    def _array(self, label: str, dtype: Any, ndim: int) -> tuple[_Guarded, Any]:
        """A Warp array aliasing the middle of a zero-filled numpy buffer (guards either side)."""
        np, wp = self.np, self.wp
        if not _is_value_type(wp, dtype):
            raise _Unsupported(f"array of {_type_name(wp, dtype)}")
        shape = (self.n,) * ndim
        count = math.prod(shape)
        vals = self._components(dtype, count, index=True)
        elem_shape = vals.shape[1:]
        nbytes = vals.nbytes
        buffer = np.zeros(GUARD_BYTES * 2 + nbytes, dtype=np.uint8)
        view = buffer[GUARD_BYTES:GUARD_BYTES + nbytes].view(vals.dtype).reshape(shape + elem_shape)
        view[...] = vals.reshape(shape + elem_shape)
        arr = wp.array(ptr=view.ctypes.data, dtype=dtype, shape=shape, device="cpu")
        g = _Guarded(label, buffer, view, len(elem_shape))
        self.guarded.append(g)
        self.keep.append(buffer)
        if self.first_vec3 is None and dtype is wp.vec3 and ndim == 1:
            self.first_vec3 = (arr, label)
        return g, arr

    def _indexed(self, label: str, wtype: Any) -> tuple[_Guarded, Any]:
        np, wp = self.np, self.wp
        g, base = self._array(label, wtype.dtype, wtype.ndim)
        perms = tuple(self.rng.permutation(self.n).astype(np.int32) for _ in range(wtype.ndim))
        index_arrays = [wp.array(p, dtype=wp.int32, device="cpu") for p in perms]
        self.keep.extend(index_arrays)
        g.indices = perms
        return g, wp.indexedarray(base, index_arrays)

    def _struct(self, label: str, wtype: Any) -> tuple[Any, Any, Callable[[], Any] | None]:
        instance = wtype()
        record: dict[str, Any] = {}
        outputs: dict[str, Callable[[], Any]] = {}
        for fname, var in wtype.vars.items():
            value, rec, out = self._value(f"{label}.{fname}", var.type, self.info.handle_of(fname, field=True))
            setattr(instance, fname, value)
            record[fname] = rec
            if out is not None:
                outputs[fname] = out
        output = (lambda: {k: f() for k, f in outputs.items()}) if outputs else None
        return instance, record, output

    def _handle(self, kind: str) -> tuple[Any, Any, None]:
        np, wp = self.np, self.wp
        if kind == "mesh":
            points = wp.array(np.array(TET_POINTS, dtype=np.float32), dtype=wp.vec3, device="cpu")
            indices = wp.array(np.array(TET_FACES, dtype=np.int32).reshape(-1), dtype=wp.int32, device="cpu")
            velocities = wp.zeros(len(TET_POINTS), dtype=wp.vec3, device="cpu")
            obj = wp.Mesh(points=points, indices=indices, velocities=velocities, support_winding_number=True)
            self.keep.extend((points, indices, velocities))
            record = {"mesh": "tetrahedron"}
        elif kind == "bvh":
            centers = np.array(TET_POINTS, dtype=np.float32)
            lowers = wp.array(centers - BVH_HALF_EXTENT, dtype=wp.vec3, device="cpu")
            uppers = wp.array(centers + BVH_HALF_EXTENT, dtype=wp.vec3, device="cpu")
            obj = wp.Bvh(lowers, uppers)
            self.keep.extend((lowers, uppers))
            record = {"bvh": "tetrahedron_boxes"}
        else:
            obj = wp.HashGrid(HASH_GRID_DIM, HASH_GRID_DIM, HASH_GRID_DIM, device="cpu")
            # Built once all arguments exist: the points are the kernel's first vec3 array,
            # which may come after the handle in the signature.
            record = {"hash_grid": None}
            self.pending_grids.append((obj, record))
        self.keep.append(obj)
        return obj.id, record, None

    def finish(self) -> None:
        """Build hash grids over the kernel's first vec3 array (else over n random points)."""
        for grid, record in self.pending_grids:
            if self.first_vec3 is not None:
                points, label = self.first_vec3
                record["hash_grid"] = label
            else:
                vals = self._components(self.wp.vec3, self.n, index=False)
                points = self.wp.array(vals, dtype=self.wp.vec3, device="cpu")
                self.keep.append(points)
                record["hash_grid"] = {"points": _Arr(vals, 1)}
            grid.build(points, HASH_GRID_CELL)

    # -- after the launch -------------------------------------------------------------------

    def guard_violations(self) -> list[str]:
        return [g.label for g in self.guarded
                if self.np.any(g.buffer[:GUARD_BYTES]) or self.np.any(g.buffer[GUARD_BYTES + g.view.nbytes:])]

    def outputs(self) -> dict[str, Any]:
        return {label: f() for label, f in self.outputs_of.items()}


def _normalized(np: Any, vals: Any, part: slice) -> Any:
    vals = vals.copy()
    q = vals[:, part]
    norm = np.linalg.norm(q, axis=1, keepdims=True)
    q = np.where(norm > 1e-6, q / np.maximum(norm, 1e-6), np.array([0.0, 0.0, 0.0, 1.0]))
    vals[:, part] = q
    return vals


# Warp scalar types with a numpy twin, by name (bfloat16 has none: unsupported).
_SCALARS = ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
            "float16", "float32", "float64")


def _np_dtype(wp: Any, scalar: Any) -> Any:
    """The numpy dtype of a Warp scalar type, or None."""
    import numpy as np

    name = next((n for n in _SCALARS if getattr(wp, n) is scalar), None)
    return np.dtype(name) if name else None


def _is_value_type(wp: Any, wtype: Any) -> bool:
    """A scalar, vector, matrix, quaternion or transform of a supported scalar type."""
    scalar = getattr(wtype, "_wp_scalar_type_", wtype)
    return _np_dtype(wp, scalar) is not None and (scalar is wtype or hasattr(wtype, "_shape_"))


def _to_warp_value(wtype: Any, vals: Any) -> Any:
    """A kernel argument from one element's numpy values."""
    if vals.ndim == 0 or vals.shape == ():
        return vals.item()
    return wtype(*vals.reshape(-1).tolist())


def _plain(vals: Any) -> Any:
    return vals.item() if vals.ndim == 0 else vals.tolist()


def _type_name(wp: Any, wtype: Any) -> str:
    if wp.types.type_is_struct(wtype):
        return wtype.cls.__name__     # type_repr would add our per-chunk module name
    try:
        return wp.types.type_repr(wtype)
    except Exception:
        return getattr(wtype, "__name__", type(wtype).__name__)


# ---------------------------------------------------------------------------------------------
# JSON: rounding, non-finite strings, a shared budget of numbers.
# ---------------------------------------------------------------------------------------------

def encode(doc: dict) -> str:
    """Deterministic compact JSON of ``doc`` (``_Arr`` leaves become nested lists or heads)."""
    arrays = list(_arrays(doc))
    # Reserve room for a "shape" list per array, in case it has to be cut to a head.
    budget = MAX_NUMBERS - _count_scalars(doc) - sum(a.data.ndim - a.elem_ndim for a in arrays)
    limits: dict[int, int] = {}
    for k, a in enumerate(sorted(arrays, key=lambda a: a.data.size)):
        share = max(budget, 0) // (len(arrays) - k)
        limits[id(a)] = min(a.data.size, share)
        budget -= limits[id(a)]
    return json.dumps(_render(doc, limits), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _arrays(node: Any) -> Iterator[_Arr]:
    if isinstance(node, _Arr):
        yield node
    elif isinstance(node, dict):
        for key in sorted(node):
            yield from _arrays(node[key])
    elif isinstance(node, list):
        for v in node:
            yield from _arrays(v)


def _count_scalars(node: Any) -> int:
    if isinstance(node, _Arr):
        return 0
    if isinstance(node, dict):
        return sum(_count_scalars(v) for v in node.values())
    if isinstance(node, list):
        return sum(_count_scalars(v) for v in node)
    return int(isinstance(node, (int, float)) and not isinstance(node, bool))


def _render(node: Any, limits: dict[int, int]) -> Any:
    if isinstance(node, _Arr):
        data = node.data
        if data.size <= limits[id(node)]:
            return _num_tree(data.tolist())
        elem_shape = data.shape[data.ndim - node.elem_ndim:]
        per_elem = math.prod(elem_shape)
        keep = limits[id(node)] // per_elem
        flat = data.reshape((-1, *elem_shape))[:keep]
        return {"shape": list(data.shape[:data.ndim - node.elem_ndim]), "head": _num_tree(flat.tolist())}
    if isinstance(node, dict):
        return {k: _render(v, limits) for k, v in node.items()}
    if isinstance(node, list):
        return [_render(v, limits) for v in node]
    return _num_tree(node)


def _num_tree(node: Any) -> Any:
    if isinstance(node, list):
        return [_num_tree(v) for v in node]
    if isinstance(node, bool) or node is None or isinstance(node, str):
        return node
    if isinstance(node, int):
        return node
    x = float(node)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(f"{x:.{SIG_DIGITS}g}")
