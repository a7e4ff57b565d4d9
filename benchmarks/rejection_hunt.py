"""Hunt for kernels Warp refuses among first draws of the ``composed`` family (a script).

Usage: ``python benchmarks/rejection_hunt.py CONFIG START STOP``, e.g. ``cpu-large 60000 85000``

Synthesizes the first draw of every index in ``[START, STOP)`` of CONFIG, runs Warp's code
generator on the ``composed`` ones (the typed synthesizer, where a typing gap would show) and
prints each refused kernel as one JSON line (index, Warp's reason, source), then the counts.
The dataset itself counts and replaces such kernels; this finds them for fixing.
"""

from __future__ import annotations

import argparse
import json

from warp_ir_pairs_generator import synth
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.toolchain import codegen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("start", type=int)
    parser.add_argument("stop", type=int)
    args = parser.parse_args()
    options = GenerationOptions.from_config(args.config)
    checked = refused = 0
    for index in range(args.start, args.stop):
        ks = synth.synthesize(options, index, 0)
        if ks.category != "composed":
            continue
        checked += 1
        try:
            codegen.emit_all(ks.python_source, ks.kernel_name, options.targets)
        except codegen.KernelRejected as e:
            refused += 1
            print(json.dumps({"index": index, "reason": f"{e.reason}: {e.message}", "source": ks.python_source}),
                  flush=True)
    print(f"{args.config} indices {args.start}..{args.stop}: {checked} composed kernels, {refused} refused by Warp")


if __name__ == "__main__":
    main()
