"""Release commands: ``generate``, ``card``, ``verify``, ``push``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..release import contents, export, lock
from ..release import manifest as manifests
from .options import add_generation_options, generation_options

GENERATE_INTERRUPTED = "generate interrupted (complete shards are kept; re-run the same command to resume)"
CARD_INTERRUPTED = "card interrupted (the previous card and plots are kept)"
PUSH_INTERRUPTED = ("push interrupted: a push is one commit, so the repo holds the previous release or this one, "
                    "never a part; the local release is unchanged; re-run push to finish")


def folder(value: str) -> str:
    """A release folder argument: ``""`` would mean the current directory, which is never meant."""
    if not value.strip():
        raise argparse.ArgumentTypeError(f"a release folder must be a path, got {value!r}")
    return value


def add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="write configs as a release folder (parquet shards, manifest, card)",
                       description="Generate CONFIG(s) into the release folder DIR: {config}/{split}-NNNNN-of-NNNNN"
                                   ".parquet shards, release.json, README.md card and plots. Re-running resumes.")
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="config name(s), e.g. cpu-small cuda-small")
    p.add_argument("--out", required=True, metavar="DIR", type=folder, help="release folder")
    p.add_argument("--restart", action="store_true",
                   help="start the config(s) over: remove their shards and progress in DIR first (a resume with "
                        "other options or versions is refused without it)")
    p.add_argument("--records-per-shard", type=int, default=export.DEFAULT_RECORDS_PER_SHARD,
                   help=f"indices per shard unit (default {export.DEFAULT_RECORDS_PER_SHARD})")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="where shard units run: here (local) or on the Ray cluster at RAY_ADDRESS")
    p.add_argument("--no-card", action="store_true", help="do not (re)build the card")
    p.add_argument("--repo-id", default=None, help="Hub repo id the card's loading examples name")
    add_generation_options(p)
    p.set_defaults(run=cmd_generate, interrupted=GENERATE_INTERRUPTED)


def add_card(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("card", help="(re)build the dataset card and plots of a release folder",
                       description="Rebuild DIR/README.md and DIR/plots/ from the data in DIR.")
    p.add_argument("dir", metavar="DIR", type=folder)
    p.add_argument("--repo-id", default=None, help="Hub repo id the card's loading examples name")
    p.set_defaults(run=lambda args: build_card(args.dir, args.repo_id), interrupted=CARD_INTERRUPTED)


def add_verify(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a release folder against its manifest",
                       description="Check that DIR holds exactly the release: every shard DIR/release.json names "
                                   "(presence, sha256, rows, schema), a non-empty README.md card and the plots it "
                                   "shows, and nothing else but .progress/ and .lock (stray, duplicate, empty and "
                                   "temp files are errors).")
    p.add_argument("dir", metavar="DIR", type=folder)
    p.set_defaults(run=cmd_verify)


def add_push(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("push", help="upload a release folder to the Hugging Face Hub (one commit, tagged)",
                       description="Upload DIR to the dataset repo REPO_ID in one commit naming the package and "
                                   "Warp versions, then tag it. The token comes from --token, HF_TOKEN or the "
                                   "huggingface_hub login.")
    p.add_argument("dir", metavar="DIR", type=folder)
    p.add_argument("repo_id", metavar="REPO_ID")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--revision", default=None, help="branch to commit to (created when missing)")
    p.add_argument("--token", default=None, help="Hub token (never printed)")
    p.add_argument("--tag", default=None, help="tag name (default v<package_version>)")
    p.set_defaults(run=cmd_push, interrupted=PUSH_INTERRUPTED)


def cmd_generate(args: argparse.Namespace) -> None:
    runner = None
    if args.engine == "ray":
        from ..release import ray_engine

        runner = ray_engine.runner()
    options = [generation_options(config, args) for config in args.configs]   # every bad flag before any work
    export.check_writable(Path(args.out))
    # One hold of the folder's lock for every config and the card: no other writer between them.
    with lock.writing(Path(args.out)):
        for config, config_options in zip(args.configs, options, strict=True):
            manifest = export.generate(config, args.out, config_options, args.records_per_shard, args.num_proc,
                                       runner, progress=sys.stderr.isatty(), restart=args.restart)
            counts = manifest.configs[config].split_counts()
            print(f"{config}: {sum(counts.values())} records {counts} -> {args.out}")
        if not args.no_card:
            build_card(args.out, args.repo_id)


def build_card(root: str, repo_id: str | None) -> None:
    from warp_ir_pairs_card.build import build_card

    manifests.read(root)   # a clear error for a folder that is not a release
    print(f"card: {build_card(root, repo_id)}")


def problems(root: str) -> tuple[manifests.Manifest, list[str]]:
    """The release's manifest and every problem with its shards and its set of files."""
    manifest = manifests.read(root)
    return manifest, manifests.verify(root, manifest) + contents.check(root, manifest)


def cmd_verify(args: argparse.Namespace) -> None:
    with lock.reading(Path(args.dir)):
        manifest, found = problems(args.dir)
    if found:
        raise export.ExportError(f"{len(found)} problem(s) in {args.dir}: " + "; ".join(found[:5])
                                 + ("; ..." if len(found) > 5 else ""))
    print(f"ok: {len(manifest.configs)} config(s), {manifest.shard_count()} shard(s) match {manifests.FILE_NAME}; "
          f"the folder holds exactly the release")


def cmd_push(args: argparse.Namespace) -> None:
    from ..release import push

    # Readers share the lock: a generate or card into DIR cannot start while it is being uploaded.
    with lock.reading(Path(args.dir)):
        _, found = problems(args.dir)
        if found:
            raise export.ExportError(f"refusing to push: {args.dir} does not verify: {found[0]}"
                                     + (f" (and {len(found) - 1} more; run `warp-ir-pairs verify`)"
                                        if len(found) > 1 else ""))
        url = push.push_release(args.dir, args.repo_id, token=args.token, private=args.private,
                                revision=args.revision, tag=args.tag)
    print(f"pushed: {url}")
