"""Normalizations of native outputs on fixed text: renumbering by first appearance, clean diagnostics."""

from __future__ import annotations

from warp_ir_pairs_generator.toolchain import normalize


def test_normalizers_renumber_by_first_appearance():
    ptx = ("\t.local .align 4 .b8 \t__local_depot7[8];\n\tmov.u64 %SPL, __local_depot7;\n"
           "\t@%p1 bra \t$L__BB7_3;\n$L__BB7_3:\n\tmov.u64 %rd1, $str$4;\n\tmov.u64 %rd2, $str$2;\n")
    assert normalize.normalize_ptx(ptx) == (
        "\t.local .align 4 .b8 \t__local_depot0[8];\n\tmov.u64 %SPL, __local_depot0;\n"
        "\t@%p1 bra \t$L__BB0_3;\n$L__BB0_3:\n\tmov.u64 %rd1, $str;\n\tmov.u64 %rd2, $str$1;\n")
    ir = "define void @f() #4 {\n  %0 = load i32, ptr @.str.3, !tbaa !12\n  store i32 %0, ptr @7, !tbaa !9, !x !12\n}\n"
    assert normalize.normalize_llvm_ir(ir) == (
        "define void @f() #0 {\n  %0 = load i32, ptr @.str, !tbaa !0\n  store i32 %0, ptr @0, !tbaa !1, !x !0\n}\n")
    asm = "<f>:\n\tpush   %rbp\n\tret\n\tcs nopw 0x0(%rax,%rax,1)\n\tnopl   0x0(%rax)\n\txchg   %ax,%ax\n"
    assert normalize.normalize_asm(asm) == "<f>:\n\tpush   %rbp\n\tret\n"


def test_normalize_error_keeps_only_the_kernels_own_diagnostic():
    call_dir = "/tmp/warp_ir_pairs_native_abc/call_xyz"
    log = ("warning: stale PCH\n"
           "Warp: Compilation with PCH failed, retrying without precompiled headers\n"
           f"{call_dir}/module.cpp:12:5: error: use of undeclared identifier 'expx'\n"
           "   12 |     expx(x);\n\n"
           "/tmp/warp_ir_pairs_native_abc/clang_pch/x.pch: note\n")
    out = normalize.normalize_error(log, call_dir, "cpu", "build failed", "/tmp/warp_ir_pairs_native_abc")
    assert out == ("module.cpp:12:5: error: use of undeclared identifier 'expx'\n   12 |     expx(x);\n"
                   "<tmp>/clang_pch/x.pch: note")


def test_normalize_error_drops_nvrtcs_pch_chatter_and_warps_build_path_suffix():
    log = ("nvrtc: automatic precompiled header created for pid 4242\n"
           "Remark: The warnings can be suppressed with -diag-suppress\n"
           "module.cu(710): error: identifier \"expx\" is undefined (/home/u/warp/native/builtin.cu:3)\n")
    assert normalize.normalize_error(log, "/c", "cuda", "failed", None) == \
        'module.cu(710): error: identifier "expx" is undefined'
    # the same lines on CPU are not NVRTC's: kept
    assert "precompiled header" in normalize.normalize_error(log, "/c", "cpu", "failed", None)


def test_normalize_error_falls_back_to_warps_words_and_keeps_the_first_lines():
    assert normalize.normalize_error("\n  \n", "/c", "cpu", "cpu build failed with error code 1", None) == \
        "cpu build failed with error code 1"
    long = "".join(f"module.cpp:{n}:1: error: e{n}\n" for n in range(50))
    out = normalize.normalize_error(long, "/c", "cpu", "x", None).splitlines()
    assert len(out) == normalize.ERROR_LINES and out[0].endswith("e0")
