"""Sandboxed CPU execution: correct outputs, crashes and hangs contained, deterministic records."""

from __future__ import annotations

import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
from warp_ir_pairs_generator import synth
from warp_ir_pairs_generator.launch import MAX_NUMBERS, ExecResult, execute
from warp_ir_pairs_generator.options import GenerationOptions

SAXPY = """import warp as wp

@wp.kernel
def saxpy(a: wp.array(dtype=float), b: wp.array(dtype=float), out: wp.array(dtype=float)):
    i = wp.tid()
    out[i] = a[i] * 2.0 + b[i]
"""

# Far out of bounds: past the guard bytes and any mapping, so the worker gets SIGSEGV.
SEGFAULT = """import warp as wp

@wp.kernel
def smash(a: wp.array(dtype=float)):
    i = wp.tid()
    a[i + 100000000] = 1.0
"""

# One past the end: lands in the guard bytes around the array.
OFF_BY_ONE = """import warp as wp

@wp.kernel
def shift(a: wp.array(dtype=float), out: wp.array(dtype=float)):
    i = wp.tid()
    out[i + 1] = a[i]
"""

# The store keeps clang from deleting the loop (a side-effect-free infinite loop is UB in C++).
HANG = """import warp as wp

@wp.kernel
def spin(a: wp.array(dtype=float)):
    i = wp.tid()
    while a[i] > -1.0e30:
        a[i] = a[i] + 1.0
"""

STRUCT = """import warp as wp

@wp.struct
class Params:
    scale: float
    offset: wp.vec3
    count: int


@wp.kernel
def apply_params(p: Params, x: wp.array(dtype=wp.vec3), out: wp.array(dtype=wp.vec3)):
    i = wp.tid()
    out[i] = x[i] * p.scale + p.offset * float(p.count)
"""

# Rays from the centre of the (convex) tetrahedron always hit it, within a vertex's distance.
MESH_RAYS = """import warp as wp

@wp.kernel
def ray_hits(mesh: wp.uint64, dirs: wp.array(dtype=wp.vec3), t: wp.array(dtype=float)):
    i = wp.tid()
    q = wp.mesh_query_ray(mesh, wp.vec3(0.0), wp.normalize(dirs[i]), 100.0)
    if q.result:
        t[i] = q.t
    else:
        t[i] = -1.0
"""

GRID_COUNT = """import warp as wp

@wp.kernel
def count_neighbours(points: wp.array(dtype=wp.vec3), grid: wp.uint64, counts: wp.array(dtype=int)):
    i = wp.tid()
    p = points[i]
    c = int(0)
    for j in wp.hash_grid_query(grid, p, 0.5):
        if wp.length(points[j] - p) <= 0.5:
            c += 1
    counts[i] = c
"""

INDEXED = """import warp as wp

@wp.kernel
def gather_double(src: wp.indexedarray(dtype=float), out: wp.array(dtype=float)):
    i = wp.tid()
    out[i] = src[i] * 2.0
"""

# 4-D array of mat33: up to 8**4 * 9 numbers, far over the JSON budget.
BIG = """import warp as wp

@wp.kernel
def fill_big(m: wp.array4d(dtype=wp.mat33), s: wp.array4d(dtype=float)):
    i, j, k, l = wp.tid()
    s[i, j, k, l] = wp.trace(m[i, j, k, l])
"""

ARRAY_OF_STRUCTS = """import warp as wp

@wp.struct
class Particle:
    x: float


@wp.kernel
def read_particles(ps: wp.array(dtype=Particle), out: wp.array(dtype=float)):
    i = wp.tid()
    out[i] = ps[i].x
"""


def _family_kernel(family: str, needle: str) -> tuple[str, str]:
    """The first kernel of a simulation family (complexity 2) whose source contains ``needle``."""
    from warp_ir_pairs_generator.synth.families import SIM_FAMILIES

    for seed in range(64):
        k = SIM_FAMILIES[family](random.Random(seed), 2)
        if needle in k.python_source:
            return k.python_source, k.kernel_name
    raise AssertionError(f"no {family} kernel with {needle} in 64 draws")


BASIC = {
    "saxpy": (SAXPY, "saxpy", 1),
    "segfault": (SEGFAULT, "smash", 2),
    "after_segfault": (SAXPY, "saxpy", 3),
    "off_by_one": (OFF_BY_ONE, "shift", 4),
    "struct": (STRUCT, "apply_params", 5),
    "mesh_rays": (MESH_RAYS, "ray_hits", 6),
    "grid_count": (GRID_COUNT, "count_neighbours", 7),
    "indexed": (INDEXED, "gather_double", 8),
    "big": (BIG, "fill_big", 9),
    "array_of_structs": (ARRAY_OF_STRUCTS, "read_particles", 10),
    "syntax_error": ("def broken(:\n", "broken", 11),
}


@pytest.fixture(scope="module")
def sim_items() -> dict[str, tuple[str, str, int]]:
    mesh = _family_kernel("mesh_query", "wp.mesh_")
    grid = _family_kernel("sph", "wp.hash_grid_query")
    bvh = _family_kernel("bvh_query", "wp.bvh_query")
    return {"sim_mesh": (*mesh, 12), "sim_grid": (*grid, 13), "sim_bvh": (*bvh, 14)}


@pytest.fixture(scope="module")
def basic(tmp_path_factory, sim_items) -> dict[str, ExecResult]:
    """One call with every hand-written case; the call's temp dir lives under a private dir."""
    items = {**BASIC, **sim_items}
    tmp = tmp_path_factory.mktemp("exec-tmp")
    saved = tempfile.tempdir
    tempfile.tempdir = str(tmp)
    try:
        results = execute(list(items.values()), timeout_s=5.0)
    finally:
        tempfile.tempdir = saved
    assert os.listdir(tmp) == [], "execute left files in the temp dir"
    return dict(zip(items, results, strict=True))


def _io(result: ExecResult) -> dict:
    assert result.ok, result.reason
    assert result.reason == ""
    return json.loads(result.example_io)


def test_correct_kernel_matches_numpy(basic):
    io = _io(basic["saxpy"])
    a, b = np.array(io["inputs"]["a"]), np.array(io["inputs"]["b"])
    assert io["dim"] == [len(a)] and 4 <= len(a) <= 8
    np.testing.assert_allclose(io["outputs"]["out"], a * 2.0 + b, rtol=1e-5, atol=1e-6)
    assert io["outputs"]["a"] == io["inputs"]["a"]


def test_segfault_is_contained_and_the_next_item_runs(basic):
    assert not basic["segfault"].ok
    assert basic["segfault"].reason.startswith("crash"), basic["segfault"].reason
    assert basic["segfault"].example_io == ""
    io = _io(basic["after_segfault"])
    np.testing.assert_allclose(io["outputs"]["out"],
                               np.array(io["inputs"]["a"]) * 2.0 + np.array(io["inputs"]["b"]), rtol=1e-5, atol=1e-6)


def test_small_out_of_bounds_write_is_caught_by_the_guard(basic):
    assert basic["off_by_one"].reason == "oob_write: out"


def test_struct_argument(basic):
    io = _io(basic["struct"])
    p = io["inputs"]["p"]
    assert set(p) == {"scale", "offset", "count"} and p["count"] >= 1
    want = np.array(io["inputs"]["x"]) * p["scale"] + np.array(p["offset"]) * p["count"]
    np.testing.assert_allclose(io["outputs"]["out"], want, rtol=1e-5, atol=1e-5)


def test_mesh_handle_is_a_real_mesh(basic):
    io = _io(basic["mesh_rays"])
    assert io["inputs"]["mesh"] == {"mesh": "tetrahedron"}
    t = np.array(io["outputs"]["t"])
    assert np.all(t > 0.0) and np.all(t <= np.sqrt(3) / 2 + 1e-5), t


def test_hash_grid_matches_brute_force(basic):
    io = _io(basic["grid_count"])
    assert io["inputs"]["grid"] == {"hash_grid": "points"}
    p = np.array(io["inputs"]["points"])
    brute = (np.linalg.norm(p[:, None, :] - p[None, :, :], axis=-1) <= 0.5).sum(axis=1)
    assert io["outputs"]["counts"] == brute.tolist()


def test_indexedarray_reads_through_its_indices(basic):
    io = _io(basic["indexed"])
    np.testing.assert_allclose(io["outputs"]["out"], np.array(io["inputs"]["src"]) * 2.0, rtol=1e-5, atol=1e-6)


def test_simulation_handle_kernels_run(basic):
    for name, kind in (("sim_mesh", "mesh"), ("sim_grid", "hash_grid"), ("sim_bvh", "bvh")):
        io = _io(basic[name])
        assert any(isinstance(v, dict) and kind in v for v in io["inputs"].values()), (name, io["inputs"])


def _numbers(node) -> int:
    if isinstance(node, dict):
        return sum(_numbers(v) for v in node.values())
    if isinstance(node, list):
        return sum(_numbers(v) for v in node)
    return int(isinstance(node, (int, float)) and not isinstance(node, bool))


def test_json_is_capped_compact_and_sorted(basic):
    io = _io(basic["big"])
    n = io["dim"][0]
    assert io["dim"] == [n] * 4
    assert io["inputs"]["m"]["shape"] == [n] * 4 and io["inputs"]["m"]["head"]
    for result in basic.values():
        if result.ok:
            doc = json.loads(result.example_io)
            assert _numbers(doc) <= MAX_NUMBERS
            assert result.example_io == json.dumps(doc, sort_keys=True, separators=(",", ":"))


def test_unbuildable_items_fail_with_a_reason(basic):
    assert basic["array_of_structs"].reason == "unsupported: array of Particle"
    assert basic["syntax_error"].reason.startswith("compile_error: SyntaxError")


def test_infinite_loop_times_out_within_the_limit():
    start = time.monotonic()
    hang, after = execute([(HANG, "spin", 1), (SAXPY, "saxpy", 2)], timeout_s=1.0)
    elapsed = time.monotonic() - start
    assert hang == ExecResult(False, "timeout", "")
    assert after.ok, after.reason
    # worker start + precompiled header + two compiles + the 1 s limit; never the loop itself
    assert elapsed < 15.0, elapsed


def test_records_are_deterministic_across_calls_and_processes(basic, sim_items, tmp_path):
    names = ["saxpy", "struct", "grid_count", "sim_mesh", "sim_bvh"]
    items = {**BASIC, **sim_items}
    batch = [items[n] for n in names]
    again = execute(batch)
    assert [r.example_io for r in again] == [basic[n].example_io for n in names]
    script = ("import json, sys\n"
              "from warp_ir_pairs_generator.launch import execute\n"
              "items = [tuple(i) for i in json.load(sys.stdin)]\n"
              "print(json.dumps([r.example_io for r in execute(items)]))\n")
    env = dict(os.environ, TMPDIR=str(tmp_path), PYTHONHASHSEED="123")
    out = subprocess.run([sys.executable, "-c", script], input=json.dumps(batch), capture_output=True,
                         text=True, env=env, timeout=120, check=True)
    assert json.loads(out.stdout) == [basic[n].example_io for n in names]
    assert os.listdir(tmp_path) == []


def test_empty_batch():
    assert execute([]) == []


def test_synthesized_kernels_mostly_run(capsys):
    options = GenerationOptions.from_config("cpu-tiny")
    kernels = [synth.synthesize(options, i) for i in range(30)]
    results = execute([(k.python_source, k.kernel_name, i) for i, k in enumerate(kernels)], timeout_s=5.0)
    reasons = collections.Counter(r.reason.split(":")[0] for r in results if not r.ok)
    ok = sum(r.ok for r in results)
    summary = f"{ok}/{len(results)} synthesized kernels ran ok; failures: {dict(reasons) or 'none'}"
    with capsys.disabled():
        print(f"\n{summary}")
    assert ok >= 0.9 * len(results), summary
