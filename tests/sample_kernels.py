"""Three small kernels the toolchain and shared-TU tests compile: a @wp.func helper, a branch with
printf on a vec3 array, a dynamic loop."""

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
