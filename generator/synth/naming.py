"""Readable, varied identifiers for generated kernels, helpers and locals."""

from __future__ import annotations

import random

VERBS = ("compute", "update", "apply", "scale", "accumulate", "integrate", "blend", "filter", "transform",
         "evaluate", "project", "normalize", "advect", "relax", "smooth", "gather", "scatter", "mix",
         "reduce", "clamp", "shade", "solve", "step", "warp", "sample", "resolve", "predict", "correct")
NOUNS = ("values", "field", "particles", "forces", "weights", "signal", "grid", "points", "velocity",
         "density", "pressure", "energy", "samples", "colors", "heights", "charges", "errors", "state",
         "buffer", "positions", "normals", "flux", "mass", "temperature", "lattice", "nodes", "cells")
FLOAT_LOCALS = ("x", "y", "z", "v", "u", "w", "s", "t", "r", "h", "val", "tmp", "acc", "res", "f", "g",
                "alpha", "beta", "gain", "phase", "dist", "mag", "term", "delta", "ratio")
VEC_LOCALS = ("p", "q", "d", "n", "vel", "pos", "heading", "axis", "offset", "force", "normal", "e")
INT_LOCALS = ("idx", "m", "c", "cnt", "bucket", "lane", "slot", "bin_id", "cell", "key")
ARRAY_NAMES = ("a", "b", "c", "src", "dst", "data", "inp", "xs", "ys", "vals", "weights", "field",
               "values", "signal", "grid", "buf", "arr", "coeffs", "lhs", "rhs")
OUT_NAMES = ("out", "result", "dest", "output", "res", "y_out", "target")


def kernel_name(rng: random.Random, hint: str = "") -> str:
    verb = rng.choice(VERBS)
    noun = rng.choice(NOUNS)
    return f"{verb}_{hint or noun}" if rng.random() < 0.5 or not hint else f"{hint}_{noun}"


def helper_name(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)}_{rng.choice(('term', 'kernel', 'weight', 'response', 'value', 'op', 'fn'))}"


def local(rng: random.Random, type_name: str) -> str:
    if type_name.startswith(("wp.vec", "wp.quat", "wp.spatial", "wp.transform", "wp.mat")):
        return rng.choice(VEC_LOCALS)
    if "int" in type_name:
        return rng.choice(INT_LOCALS)
    return rng.choice(FLOAT_LOCALS)


def array(rng: random.Random) -> str:
    return rng.choice(ARRAY_NAMES)


def output(rng: random.Random) -> str:
    return rng.choice(OUT_NAMES)
