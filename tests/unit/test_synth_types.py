"""One type vocabulary: catalog, families and mistakes name types from synth.types."""

from __future__ import annotations

from warp_ir_pairs_generator.mistakes import analysis
from warp_ir_pairs_generator.synth import catalog, types


def test_every_type_of_the_vocabulary_has_a_shape():
    for name in types.ALL_TYPES:
        t = types.wtype(name)
        assert t.name == name
        if name in types.SCALAR_OF:
            assert t.scalar == types.SCALAR_OF[name]
    assert types.wtype("float") is types.wtype("wp.float32") and types.wtype("int") is types.wtype("wp.int32")


def test_the_catalog_uses_the_vocabulary_not_a_copy():
    for name in ("FLOAT_SCALARS", "INT_SCALARS", "NUMERIC_SCALARS", "VECTOR_TYPES", "MATRIX_TYPES", "ALL_TYPES",
                 "SCALAR_OF", "DIM_OF"):
        assert getattr(catalog, name) is getattr(types, name), name
    assert set(catalog.ALL_TYPES) >= {t for s in catalog.SIGNATURES for t in (*s.args, s.ret) if t in types.ALL_TYPES}


def test_vector_and_matrix_type_names():
    assert types.vector_type(3, types.F64) == "wp.vec3d" and types.vector_type(6, types.F32) == "wp.spatial_vector"
    assert types.vector_type(2, types.I32) == "wp.vec2i"
    assert types.matrix_type(4, types.F32) == "wp.mat44" and types.matrix_type(6, types.F32) == "wp.spatial_matrix"


def test_the_mistakes_read_annotations_through_the_vocabulary():
    for annotation, short in (("float", "float32"), ("int", "int32"), ("bool", "bool"), (" wp.float64 ", "float64"),
                              ("wp.uint8", "uint8"), ("wp.vec3", "wp.vec3")):
        assert analysis._type_name(annotation) == short
    assert analysis._VEC_COMPONENT == {"wp.vec2": "float32", "wp.vec3": "float32", "wp.vec4": "float32"}
