"""The compositional synthesizer: random typed programs built from Warp's language.

Where a family fixes what a kernel does, ``composed`` kernels are assembled statement by
statement from a grammar of Warp constructs, tracking the Warp type of every value so Warp never
rejects them for a type mismatch or an undefined name. Weights (probability of each choice):

* **value types** of a kernel: 1–3 working types drawn from ``TYPE_WEIGHTS`` (float32 most
  often; float16/64, int8…int64, uint*, bool, vec2/3/4 (f32/f64/i32), mat22/33/44 (f32/f64),
  quat, transform, spatial_vector (f32/f64));
* **launch**: ``wp.tid()`` 1-D 60%, 2-D 25%, 3-D 15%; arrays of 1–4 dimensions; a ``@wp.struct``
  parameter 25%; ``wp.constant`` values 30%; an ``indexedarray`` input 10%; random numbers
  (``wp.rand_init``/``randf``/``randn``) 20%; 0–3 ``@wp.func`` helpers (later ones may call earlier
  ones; a generic ``typing.Any`` helper 15%);
* **statements** (``STATEMENT_WEIGHTS``): new locals, reassignments and ``+=``, ``if/elif/else``,
  ``for`` over constant or dynamic ``range`` (nested), ``while`` with a counter, ``break`` /
  ``continue`` inside loops, early ``return``, atomics (add/min/max/sub), stores, random draws;
  expressions add ternaries, comparisons, boolean logic and ~165 builtins (``builtin_catalog``).

The complexity level (1–5) sets the statement budget and the nesting depth.
"""

from __future__ import annotations

import random

from .. import naming
from ..builder import KernelBuilder, KernelSource, Var, _short
from ..expressions import ExprGen
from ..helpers import add_helper
from ..types import F32, I32, literal, wtype

TYPE_WEIGHTS: dict[str, float] = {
    "wp.float32": 10, "wp.float64": 2, "wp.float16": 1, "wp.int32": 3, "wp.int64": 1, "wp.int8": 0.5,
    "wp.int16": 0.5, "wp.uint8": 0.5, "wp.uint16": 0.5, "wp.uint32": 1, "wp.uint64": 0.5, "bool": 0.5,
    "wp.vec3": 5, "wp.vec2": 2, "wp.vec4": 2, "wp.vec3d": 1, "wp.vec2d": 0.5, "wp.vec4d": 0.5, "wp.vec3i": 0.5,
    "wp.vec2i": 0.3, "wp.mat33": 3, "wp.mat22": 1, "wp.mat44": 1, "wp.mat33d": 0.5, "wp.quat": 2,
    "wp.quatd": 0.5, "wp.transform": 1.5, "wp.transformd": 0.3, "wp.spatial_vector": 1,
    "wp.spatial_vectord": 0.3,
}
# Array element types Warp can store: every working type but bool.
STATEMENT_WEIGHTS: dict[str, float] = {
    "let": 6, "assign": 3, "augment": 2, "if": 3, "for": 2.5, "while": 0.7, "jump": 1, "return": 0.4,
    "atomic": 1.2, "store": 1.5, "random": 0.8, "helper_call": 1,
}
# Statement budget and maximum block nesting per complexity level.
BUDGET = {1: (1, 2), 2: (2, 5), 3: (4, 8), 4: (6, 12), 5: (10, 20)}
MAX_NEST = {1: 1, 2: 2, 3: 2, 4: 3, 5: 4}
MAX_UNROLLED = 16
_NUMERIC_KINDS = ("scalar", "vector", "matrix", "quat", "spatial")
_ATOMIC_TYPES = (F32, "wp.float64", I32, "wp.int64", "wp.uint32", "wp.vec3", "wp.vec2", "wp.vec4")


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _Composer:
    def __init__(self, rng: random.Random, level: int) -> None:
        self.rng = rng
        self.level = level
        self.kb = KernelBuilder(rng, naming.kernel_name(rng), "composed")
        self.kb.complexity = level
        self.ex = ExprGen(rng, self.kb.scope, leaf_prob={1: 0.6, 2: 0.4, 3: 0.35, 4: 0.3, 5: 0.25}[level])
        self.types: list[str] = []
        self.outputs: list[Var] = []
        self.tids: list[Var] = []
        self.loops = 0
        self.unrolled = 1   # product of the trip counts of enclosing constant (unrolled) loops
        self.rng_state: Var | None = None
        self.helper_sigs: list[tuple[str, list[str], str]] = []
        self.budget = rng.randint(*BUDGET[level])

    # ------------------------------------------------------------------------ declarations
    def declare(self) -> None:
        rng, kb = self.rng, self.kb
        self.types = list(dict.fromkeys(_weighted(rng, TYPE_WEIGHTS) for _ in range(rng.randint(1, 3))))
        if rng.random() < 0.5 and F32 not in self.types:
            self.types.append(F32)
        ndim = rng.choices((1, 2, 3), weights=(60, 25, 15))[0]
        storable = [t for t in self.types if t != "bool"] or [F32]
        for _ in range(rng.randint(1, 3)):
            t = rng.choice(storable)
            arr_ndim = ndim if rng.random() < 0.8 else rng.randint(1, 4)
            kb.array_param(naming.array(rng), t, arr_ndim)
        if rng.random() < 0.1:
            t = rng.choice([t for t in storable if wtype(t).kind == "scalar"] or [F32])
            name = kb.raw_param(rng.choice(("gathered", "subset", "selected")), f"wp.indexedarray(dtype={t})")
            kb.scope.add(Var(name, t, "array", 1, mutable=False))
        if rng.random() < 0.25:
            self._struct()
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 2)):
                t = rng.choice((F32, F32, I32, "wp.vec3"))
                name = kb.fresh(rng.choice(("GAIN", "EPS", "LIMIT", "SCALE", "UP", "OFFSET", "DAMPING")))
                kb.add_preamble(f"{name} = wp.constant({literal(rng, t)})")
                kb.scope.add(Var(name, t, mutable=False, constant=True))
        for _ in range(rng.randint(0, 2)):
            t = rng.choice([t for t in self.types if wtype(t).kind == "scalar"] or [F32])
            kb.scalar_param(rng.choice(("alpha", "beta", "scale", "bias", "n", "dt", "k", "lo", "hi")), t)
        for _ in range(rng.randint(1, 2)):
            t = rng.choice(storable)
            self.outputs.append(kb.array_param(naming.output(rng), t, ndim))
        if rng.random() < 0.2:
            seed = kb.scalar_param("seed", I32)
            self.rng_seed = seed
        else:
            self.rng_seed = None
        for _ in range(rng.choices((0, 1, 2, 3), weights=(45, 30, 15, 10))[0]):
            self._helper()
        if rng.random() < 0.15:
            self._generic_helper()
        self.tids = self.kb.tid(ndim)

    def _struct(self) -> None:
        rng, kb = self.rng, self.kb
        cls = kb.fresh(rng.choice(("SimParams", "Material", "Settings", "Config", "Body")))
        fields = []
        for _ in range(rng.randint(2, 4)):
            t = rng.choice(self.types + [F32, "wp.vec3", I32])
            if t == "bool":
                continue
            fname = kb.fresh(rng.choice(("gain", "offset", "count", "stiffness", "origin", "scale", "mass",
                                         "axis", "limit", "rate")))
            fields.append((fname, t))
        if not fields:
            fields.append((kb.fresh("gain"), F32))
        body = "\n".join(f"    {n}: {_short(t)}" for n, t in fields)
        kb.add_preamble(f"@wp.struct\nclass {cls}:\n{body}\n")
        pname = kb.raw_param(rng.choice(("params", "cfg", "mat", "body")), cls)
        for fname, t in fields:
            kb.scope.add(Var(f"{pname}.{fname}", t, mutable=False))
            kb.taken.add(f"{pname}.{fname}")

    def _helper(self) -> None:
        rng = self.rng
        args = [rng.choice(self.types) for _ in range(rng.randint(1, 3))]
        ret = rng.choice(self.types)
        name = add_helper(self.kb, self.ex, args, ret, depth=min(3, 1 + self.level // 2))
        self.helper_sigs.append((name, args, ret))

    def _generic_helper(self) -> None:
        rng, kb = self.rng, self.kb
        candidates = [t for t in self.types if wtype(t).kind in ("scalar", "vector") and t != "bool"]
        if not candidates:
            return
        name = kb.fresh(rng.choice(("combine", "blend_any", "pick", "merge")))
        body = rng.choice(("a + b", "a - b", "wp.max(a, b)", "wp.min(a, b)", "a + (b - a)", "wp.abs(a - b)"))
        if "from typing import Any" not in kb.preamble:
            kb.preamble.insert(0, "from typing import Any")
        kb.add_helper(f"@wp.func\ndef {name}(a: Any, b: Any):\n    return {body}\n")
        for t in candidates:   # one generic helper, instantiated for each working type
            self.ex.sigs = dict(self.ex.sigs)
            from ..catalog import Signature
            self.ex.sigs[t] = (*self.ex.sigs.get(t, ()), Signature(name, (t, t), t, "", "user"))

    # --------------------------------------------------------------------------- statements
    def index_for(self, arr: Var) -> str:
        """Thread indices for the leading dimensions; extra dimensions get a small constant."""
        names = [v.name for v in self.tids]
        return ", ".join(names[d] if d < len(names) else str(self.rng.randint(0, 1)) for d in range(arr.ndim))

    def block(self, budget: int, nest: int) -> None:
        while budget > 0:
            budget -= self.statement(nest)

    def statement(self, nest: int) -> int:
        rng, kb, ex = self.rng, self.kb, self.ex
        kind = _weighted(rng, STATEMENT_WEIGHTS)
        mutables = [v for v in kb.scope.values() if v.mutable and "." not in v.name]
        if kind == "let" or (kind in ("assign", "augment") and not mutables):
            t = rng.choice(self.types)
            arrays = [a for a in kb.scope.arrays(t)]
            if arrays and rng.random() < 0.4:
                arr = rng.choice(arrays)
                kb.mutable(naming.local(rng, t), f"{arr.name}[{self.index_for(arr)}]", t)
            else:
                kb.mutable(naming.local(rng, t), ex.expr(t, self._depth()), t)
            return 1
        if kind == "assign":
            v = rng.choice(mutables)
            kb.assign(v, ex.expr(v.type, self._depth()))
            return 1
        if kind == "augment":
            v = rng.choice(mutables)
            t = wtype(v.type)
            if t.kind in _NUMERIC_KINDS and t.kind != "quat":
                kb.emit(f"{v.name} {rng.choice(('+=', '-='))} {ex.expr(v.type, self._depth())}")
            else:
                kb.assign(v, ex.expr(v.type, self._depth()))
            return 1
        if kind == "if" and nest < MAX_NEST[self.level]:
            return self._if(nest)
        if kind == "for" and nest < MAX_NEST[self.level]:
            return self._for(nest)
        if kind == "while" and nest < MAX_NEST[self.level]:
            return self._while(nest)
        if kind == "jump" and self.loops > 0:
            with kb.block(f"if {ex.condition(1)}:"):
                kb.emit(rng.choice(("break", "continue")))
            return 1
        if kind == "return" and self.loops == 0 and nest > 0:
            kb.emit("return")
            return 1
        if kind == "atomic":
            return self._atomic()
        if kind == "store":
            return self._store()
        if kind == "random" and self.rng_seed is not None:
            return self._random()
        if kind == "helper_call" and self.helper_sigs:
            name, args, ret = rng.choice(self.helper_sigs)
            call = f"{name}({', '.join(ex.expr(a, self._depth()) for a in args)})"
            kb.mutable(naming.local(rng, ret), call, ret)
            return 1
        return self._let_any()

    def _let_any(self) -> int:
        t = self.rng.choice(self.types)
        self.kb.mutable(naming.local(self.rng, t), self.ex.expr(t, self._depth()), t)
        return 1

    def _depth(self) -> int:
        return self.rng.randint(1, min(4, 1 + self.level // 2 + 1))

    def _if(self, nest: int) -> int:
        rng, kb, ex = self.rng, self.kb, self.ex
        inner = max(1, rng.randint(1, 2 + self.level))
        with kb.block(f"if {ex.condition(2)}:"):
            self.block(inner, nest + 1)
        used = inner + 1
        for _ in range(rng.choices((0, 1, 2), weights=(70, 20, 10))[0]):
            with kb.block(f"elif {ex.condition(1)}:"):
                self.block(1, nest + 1)
            used += 2
        if rng.random() < 0.4:
            with kb.block("else:"):
                self.block(rng.randint(1, 2), nest + 1)
            used += 2
        return used

    def _bound(self) -> str:
        rng, kb = self.rng, self.kb
        r = rng.random()
        ints = [v for v in kb.scope.values(I32) if not v.mutable]
        arrays = [a for a in kb.scope.arrays() if "." not in a.name]
        # Warp unrolls constant loops of up to 16 trips; nested constant loops multiply the code,
        # so once the enclosing constant trips reach MAX_UNROLLED, only dynamic bounds are used.
        if (r < 0.45 or not (ints or arrays)) and self.unrolled * 8 <= MAX_UNROLLED:
            return str(rng.randint(2, 8))
        if (r < 0.7 or not ints) and arrays:
            arr = rng.choice(arrays)
            return f"{arr.name}.shape[{rng.randrange(arr.ndim)}]"
        if ints:
            return f"wp.min({rng.choice(ints).name}, {rng.randint(4, 16)})"
        return str(rng.randint(2, 4))

    def _for(self, nest: int) -> int:
        rng, kb = self.rng, self.kb
        bounds = [self._bound()]
        if rng.random() < 0.15:
            bounds = ["1", bounds[0]] + (["2"] if rng.random() < 0.5 else [])
        inner = max(1, rng.randint(1, 2 + self.level))
        trips = int(bounds[-1]) if len(bounds) == 1 and bounds[0].isdigit() else 1
        with kb.for_range(rng.choice(("j", "k", "m", "step", "it", "s")), *bounds):
            self.loops += 1
            self.unrolled *= trips
            self.block(inner, nest + 1)
            self.unrolled //= trips
            self.loops -= 1
        return inner + 1

    def _while(self, nest: int) -> int:
        rng, kb, ex = self.rng, self.kb, self.ex
        counter = kb.mutable(rng.choice(("iters", "count", "tries")), "0", I32)
        counter.mutable = False   # only the increment below may change it: the loop must end
        limit = rng.randint(2, 10)
        cond = f"{counter.name} < {limit}"
        if rng.random() < 0.4:
            cond += f" and {ex._compare(1)}"
        inner = max(1, rng.randint(1, 1 + self.level))
        with kb.block(f"while {cond}:"):
            # Increment first: a `continue` below can then never spin forever.
            kb.emit(f"{counter.name} += 1")
            self.loops += 1
            self.block(inner, nest + 1)
            self.loops -= 1
        return inner + 2

    def _atomic(self) -> int:
        rng, kb, ex = self.rng, self.kb, self.ex
        outs = [o for o in self.outputs if o.type in _ATOMIC_TYPES]
        if not outs:
            return self._store()
        out = rng.choice(outs)
        ops = ["wp.atomic_add", "wp.atomic_sub"]
        if wtype(out.type).kind == "scalar":
            ops += ["wp.atomic_min", "wp.atomic_max"]
        kb.emit(f"{rng.choice(ops)}({out.name}, {self.index_for(out)}, {ex.expr(out.type, self._depth())})")
        return 1

    def _store(self) -> int:
        out = self.rng.choice(self.outputs)
        self.kb.emit(f"{out.name}[{self.index_for(out)}] = {self.ex.expr_reading(out.type, self._depth())}")
        return 1

    def _random(self) -> int:
        rng, kb = self.rng, self.kb
        if self.rng_state is None:
            self.rng_state = kb.let("state", f"wp.rand_init({self.rng_seed.name}, {self.tids[0].name})", "wp.uint32")
            kb.scope.blocks[0][self.rng_state.name] = self.rng_state  # usable after this block too
        call = rng.choice((f"wp.randf({self.rng_state.name})", f"wp.randn({self.rng_state.name})",
                           f"wp.randf({self.rng_state.name}, {literal(rng, F32, -2, 0)}, {literal(rng, F32, 0.5, 3)})"))
        kb.mutable(rng.choice(("noise", "jitter", "r", "sample")), call, F32)
        if F32 not in self.types:
            self.types.append(F32)
        return 1

    def finish(self) -> None:
        """Every output gets a final store, so each kernel has an observable result."""
        for out in self.outputs:
            self.kb.emit(f"{out.name}[{self.index_for(out)}] = {self.ex.expr_reading(out.type, self._depth())}")


def composed(rng: random.Random, level: int) -> KernelSource:
    c = _Composer(rng, level)
    c.declare()
    # Random state is created at top level so every later block may draw from it.
    if c.rng_seed is not None:
        c._random()
    c.block(c.budget, 0)
    c.finish()
    return c.kb.render()
