"""Deterministic inputs for one launch: values from the seed, arrays inside guarded buffers, handles.

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
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..synth.types import SCALAR_TYPES
from .example_io import Arr
from .source_info import SourceInfo

# Array dimension sizes: small, and >= 4 so ids of the fixed mesh/BVH (< 4) index any array.
DIM_MIN, DIM_MAX = 4, 8
GUARD_BYTES = 64 * 1024
# Regular tetrahedron: outward-wound faces, so sign/winding-number queries are meaningful.
TET_POINTS = ((0.5, 0.5, 0.5), (0.5, -0.5, -0.5), (-0.5, 0.5, -0.5), (-0.5, -0.5, 0.5))
TET_FACES = ((0, 1, 2), (0, 3, 1), (0, 2, 3), (1, 3, 2))
BVH_HALF_EXTENT = 0.3
HASH_GRID_CELL = 0.5
HASH_GRID_DIM = 8


class Unsupported(Exception):
    """An argument type the inputs cannot be built for (``unsupported: <type>``)."""


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

    def snapshot(self) -> Arr:
        return Arr(self.logical().copy(), self.elem_ndim)


class Inputs:
    """Arguments for one launch, in declaration order, all drawn from one seeded generator."""

    def __init__(self, wp: Any, seed: int, info: SourceInfo) -> None:
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
        raise Unsupported(_type_name(wp, wtype))

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
            raise Unsupported(f"array of {_type_name(wp, dtype)}")
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
                record["hash_grid"] = {"points": Arr(vals, 1)}
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


# Warp scalar types with a numpy twin, by name: the vocabulary's scalars (bfloat16 has no twin,
# and is not in it: unsupported).
_SCALARS = tuple(t.removeprefix("wp.") for t in SCALAR_TYPES)


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


def input_seed(backend: str, seed: int, index: int) -> int:
    """Seed of the deterministic inputs record ``index`` of (``backend``, ``seed``) is launched on.

    A hash of the three, so a record's ``example_io`` can be rebuilt from the record alone (eval's
    ``behaves`` rung does).
    """
    key = f"warp-ir-pairs-io|{backend}|{seed}|{index}"
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")
