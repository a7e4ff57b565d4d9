"""Simulation-style kernel families: the kinds of kernels Warp is used for in physics and graphics.

One file per family, each a ``build(rng, level) -> KernelSource`` registered in
``families.REGISTRY`` (its category is its registry name); ``_kit`` holds what they share. A
family fixes *what* the kernel does; its structure (which variant of the algorithm, how many
terms, collision shapes, neighbour quantities, helpers, loops vs. unrolled code, where model
constants live) is drawn from the RNG, and ``level`` (1..5) makes it longer.

* ``particles``     – particle integration (semi-implicit/explicit Euler, Verlet, leapfrog, damping,
  gravity) and collisions (ground, planes, sphere obstacles, box bounds, restitution/friction).
* ``springs``       – spring and cloth forces (stretch/shear springs, bending hinges, triangle area)
  scattered with ``wp.atomic_add``.
* ``sph``           – SPH neighbour sums over ``wp.HashGrid`` (density, pressure, viscosity, XSPH).
* ``mesh_query``    – closest points, signed distances, particle–mesh collision and depth-image ray
  casting on a ``wp.Mesh``.
* ``bvh_query``     – AABB and ray queries on a ``wp.Bvh``: counting, collecting, nearest hits.
* ``fem``           – tet/triangle element forces from deformation gradients (Neo-Hookean, StVK,
  corotational), rest-shape precomputation.
* ``rigid``         – rigid bodies with ``wp.quat``/``wp.transform``/spatial vectors: integration,
  shape-to-world transforms, point velocities, forward kinematics.
* ``image_stencil`` – 2-D/3-D stencils: blur, Sobel, Laplacian, Jacobi, bilinear advection.
* ``csr_spmv``      – CSR sparse matrix–vector products (scaled, transposed, block, Jacobi, residual).
* ``graph_relax``   – graph relaxations: Bellman-Ford, BFS levels, label propagation, PageRank, Jacobi.
* ``reduction``     – sums, extrema, norms, dot products, argmax, histograms, per-block partials.
* ``scan``          – naive and Hillis–Steele scans, segmented and blocked scans, compaction.

No Warp import: kernels are text. Every API form used here was checked against Warp 1.19 codegen
on both backends (``tests/synth/test_families_sim.py`` keeps that true).
"""
