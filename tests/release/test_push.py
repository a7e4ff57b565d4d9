"""push_release against a local Hub stand-in (tests/release/hub_stand_in.py); nothing here reaches the real Hub.

huggingface_hub reads HF_ENDPOINT, HF_HUB_OFFLINE and HF_HUB_DISABLE_XET when it is imported, and this
test session runs offline (conftest.py), so every push and load runs in a fresh Python process with the
stand-in's environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasets
import pytest
from hub_stand_in import HubStandIn
from warp_ir_pairs_generator.release.push import ReleaseError, push_release

GOOD = "hf_StandInWriteToken0123456789abcdef"
BAD = "hf_StandInRevokedToken9876543210fedcba"
NAMESPACE = "warp-ir"  # the only namespace GOOD may create repos in
REPO = f"{NAMESPACE}/warp-ir-pairs"
TRAIN = {"kernel": ["@wp.kernel\ndef a(): pass", "@wp.kernel\ndef b(): pass", "@wp.kernel\ndef c(): pass"],
         "ir": ["void a() {}", "void b() {}", "void c() {}"], "index": [0, 1, 2]}
TEST = {"kernel": ["@wp.kernel\ndef d(): pass"], "ir": ["void d() {}"], "index": [3]}
CARD = """---
configs:
- config_name: cpu-tiny
  data_files:
  - split: train
    path: cpu-tiny/train-*.parquet
  - split: test
    path: cpu-tiny/test-*.parquet
---
# warp-ir-pairs (test release)
"""

# Runs push_release in a fresh interpreter; arguments arrive on stdin so the token is never on a command line.
_PUSH = """
import json, sys, time
args = json.loads(sys.stdin.read())
if args.pop("fast_retries"):
    # huggingface_hub retries failed LFS uploads 5 times with 1-8 s sleeps; keep the retries, skip the waits.
    import huggingface_hub.utils._http as http
    class _NoWait:
        def __getattr__(self, name):
            return getattr(time, name)
        @staticmethod
        def sleep(seconds):
            pass
    http.time = _NoWait()
from warp_ir_pairs_generator.release.push import ReleaseError, push_release
try:
    result = {"url": push_release(args.pop("release_dir"), args.pop("repo_id"), **args)}
except ReleaseError as err:
    result = {"error": str(err)}
print("RESULT " + json.dumps(result))
"""

_LOAD = """
import json, sys
import datasets
ds = datasets.load_dataset(sys.argv[1], "cpu-tiny")
out = {split: ds[split].to_dict() for split in ds}
try:
    datasets.load_dataset(sys.argv[1] + "-missing", "cpu-tiny")
    out["missing"] = "loaded?!"
except Exception as err:
    out["missing"] = f"{type(err).__name__}: {err}"
print("RESULT " + json.dumps(out))
"""


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubStandIn]:
    with HubStandIn(tmp_path, tokens={GOOD: {NAMESPACE}}) as stand_in:
        yield stand_in


@pytest.fixture
def release(tmp_path: Path) -> Path:
    folder = tmp_path / "release"
    (folder / "cpu-tiny").mkdir(parents=True)
    (folder / "README.md").write_text(CARD)
    datasets.Dataset.from_dict(TRAIN).to_parquet(str(folder / "cpu-tiny" / "train-00000-of-00001.parquet"))
    datasets.Dataset.from_dict(TEST).to_parquet(str(folder / "cpu-tiny" / "test-00000-of-00001.parquet"))
    _write_manifest(folder)
    return folder


def _write_manifest(folder: Path, package_version: str = "0.1.0", *, without: str | None = None) -> None:
    """A release.json naming the folder's shards, in the format `generate` writes (the push reads its versions)."""
    import pyarrow.parquet as pq

    splits: dict[str, dict] = {}
    for path in sorted(folder.glob("*/*.parquet")):
        rows = pq.ParquetFile(path).metadata.num_rows
        split = splits.setdefault(path.name.split("-")[0], {"num_examples": 0, "shards": []})
        split["num_examples"] += rows
        split["shards"].append({"path": path.relative_to(folder).as_posix(), "num_examples": rows,
                                "num_bytes": path.stat().st_size,
                                "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    manifest = {"format": 1, "package": "warp-ir-pairs", "package_version": package_version,
                "dataset_version": "0.1.0", "warp_version": "1.19.0",
                "configs": {"cpu-tiny": {"options": {}, "splits": splits, "rejected": {}}}}
    if without is not None:
        manifest.pop(without)
    (folder / "release.json").write_text(json.dumps(manifest))


def _client_env(hub: HubStandIn, tmp_path: Path) -> dict[str, str]:
    # Drop inherited HF_* settings (conftest's offline mode, any real token) and proxies (127.0.0.1 must be direct).
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_") and "proxy" not in k.lower()}
    env.update(hub.client_env(tmp_path / "hf-home"))
    env["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    return env


def _run(code: str, env: dict[str, str], *argv: str, stdin: str = "") -> tuple[dict[str, Any], str]:
    proc = subprocess.run([sys.executable, "-c", code, *argv], input=stdin, env=env, capture_output=True,
                          text=True, timeout=120)
    output = proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, output
    return json.loads(lines[-1][len("RESULT "):]), output


def _push(hub: HubStandIn, tmp_path: Path, release_dir: Path, repo_id: str = REPO, *, token: str = GOOD,
          fast_retries: bool = False, **kwargs: Any) -> tuple[dict[str, Any], str]:
    args = {"release_dir": str(release_dir), "repo_id": repo_id, "token": token, "fast_retries": fast_retries,
            **kwargs}
    return _run(_PUSH, _client_env(hub, tmp_path), stdin=json.dumps(args))


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``folder`` with its sha256 and mtime: a push must leave both alone."""
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _local_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _assert_no_leak(token: str, hub: HubStandIn, output: str, *folders: Path) -> None:
    assert token not in output
    assert hub.leaks(token) == []
    assert token not in json.dumps([vars(r) for r in hub.requests])
    for folder in folders:
        for path in folder.rglob("*"):
            assert not path.is_file() or token.encode() not in path.read_bytes(), path


def _assert_one_line_error(result: dict[str, Any], *needles: str) -> str:
    assert "url" not in result, result
    message = result["error"]
    assert "\n" not in message and message.startswith("push failed"), message
    for needle in needles:
        assert needle in message, message
    return message


def test_push_is_one_tagged_commit_and_loads_back(hub: HubStandIn, release: Path, tmp_path: Path) -> None:
    before = _snapshot(release)
    result, output = _push(hub, tmp_path, release)

    commits = hub.commits(REPO)
    assert [c["message"] for c in commits] == ["warp-ir-pairs 0.1.0 release (warp-lang 1.19.0)", "initial commit"]
    head = commits[0]["sha"]
    assert result == {"url": f"{hub.endpoint}/datasets/{REPO}/commit/{head}"}
    assert hub.repo_files(REPO) == {**_local_files(release), ".gitattributes": hub.repo_files(REPO)[".gitattributes"]}
    assert hub.tags(REPO) == {"v0.1.0": head}
    assert [r.path.split("/")[-1] for r in hub.requests if "/commit/" in r.path] == ["main"]  # one commit request
    # Shards went through LFS; the upload URLs are pre-authorized, so the token must not travel there.
    puts = [r for r in hub.requests if r.method == "PUT"]
    assert len(puts) == 2 and not any(r.has_authorization for r in puts)
    assert _snapshot(release) == before
    _assert_no_leak(GOOD, hub, output, release, tmp_path / "hf-home")

    loaded, output = _run(_LOAD, _client_env(hub, tmp_path), REPO)
    assert loaded["train"] == TRAIN and loaded["test"] == TEST
    # A missing repo on the read path: the stand-in answers 404 RepoNotFound and datasets says so.
    assert "DatasetNotFoundError" in loaded["missing"] and f"{REPO}-missing" in loaded["missing"]
    assert any(r.status == 404 and f"{REPO}-missing" in r.path for r in hub.requests)
    assert _snapshot(release) == before


def test_bad_token_is_refused_without_echoing_it(hub: HubStandIn, release: Path, tmp_path: Path) -> None:
    before = _snapshot(release)
    result, output = _push(hub, tmp_path, release, token=BAD)
    _assert_one_line_error(result, "authentication refused", hub.endpoint, "401", "check the token")
    assert BAD not in result["error"]
    assert not hub.repo_exists(REPO)
    assert _snapshot(release) == before
    # The bad token was sent (only) as an Authorization header, which the stand-in does not keep.
    assert any(r.has_authorization for r in hub.requests)
    _assert_no_leak(BAD, hub, output, release, tmp_path / "hf-home")


def test_namespace_the_token_cannot_write_is_a_clear_error(hub: HubStandIn, release: Path, tmp_path: Path) -> None:
    before = _snapshot(release)
    result, output = _push(hub, tmp_path, release, "someone-else/warp-ir-pairs")
    _assert_one_line_error(result, "403", "someone-else/warp-ir-pairs", "namespace 'someone-else'")
    assert not hub.repo_exists("someone-else/warp-ir-pairs")
    assert _snapshot(release) == before
    _assert_no_leak(GOOD, hub, output, release)


def test_server_error_on_commit_commits_nothing(hub: HubStandIn, release: Path, tmp_path: Path) -> None:
    hub.create_repo(REPO)
    main_before = hub.branch_sha(REPO)
    before = _snapshot(release)
    hub.fail_next_commit = True
    result, output = _push(hub, tmp_path, release)
    _assert_one_line_error(result, "HTTP 500 during upload", "nothing was committed", "local release is unchanged")
    assert hub.branch_sha(REPO) == main_before and len(hub.commits(REPO)) == 1
    assert hub.tags(REPO) == {}
    assert _snapshot(release) == before
    _assert_no_leak(GOOD, hub, output, release)


def test_server_error_on_lfs_upload_commits_nothing(hub: HubStandIn, release: Path, tmp_path: Path) -> None:
    hub.create_repo(REPO)
    main_before = hub.branch_sha(REPO)
    before = _snapshot(release)
    hub.fail("lfs-upload", times=1000)  # persistent: outlasts the client's retries
    result, output = _push(hub, tmp_path, release, fast_retries=True)
    _assert_one_line_error(result, "HTTP 500 during upload", "nothing was committed")
    assert not any("/commit/" in r.path for r in hub.requests)
    assert sum(r.method == "PUT" for r in hub.requests) >= 6  # the client retried before giving up
    assert hub.branch_sha(REPO) == main_before and hub.tags(REPO) == {}
    assert _snapshot(release) == before
    _assert_no_leak(GOOD, hub, output, release)


def test_next_release_replaces_files_and_tags_are_never_moved(hub: HubStandIn, release: Path,
                                                              tmp_path: Path) -> None:
    first, _ = _push(hub, tmp_path, release)
    assert "url" in first

    # Same version again: the tag exists, so nothing is uploaded.
    n_commits = len(hub.commits(REPO))
    again, _ = _push(hub, tmp_path, release)
    _assert_one_line_error(again, "tag v0.1.0 already exists")
    assert len(hub.commits(REPO)) == n_commits

    # A new version with a re-sharded split: the old shard must not survive next to the new one.
    old = release / "cpu-tiny" / "train-00000-of-00001.parquet"
    old.rename(release / "cpu-tiny" / "train-00000-of-00002.parquet")
    datasets.Dataset.from_dict(TRAIN).to_parquet(str(release / "cpu-tiny" / "train-00001-of-00002.parquet"))
    _write_manifest(release, "0.2.0")
    second, _ = _push(hub, tmp_path, release)
    assert "url" in second
    files = set(hub.repo_files(REPO)) - {".gitattributes"}
    assert files == set(_local_files(release))
    assert hub.repo_files(REPO, revision="v0.1.0").keys() != hub.repo_files(REPO).keys()
    assert set(hub.tags(REPO)) == {"v0.1.0", "v0.2.0"}
    assert hub.commits(REPO)[0]["message"] == "warp-ir-pairs 0.2.0 release (warp-lang 1.19.0)"


def test_push_to_a_new_branch_with_a_custom_tag(hub: HubStandIn, release: Path, tmp_path: Path) -> None:
    hub.create_repo(REPO)
    main_before = hub.branch_sha(REPO)
    result, _ = _push(hub, tmp_path, release, revision="release-0.1", tag="v0.1.0-rc1")
    assert "url" in result
    head = hub.branch_sha(REPO, "release-0.1")
    assert result["url"].endswith(head) and hub.tags(REPO) == {"v0.1.0-rc1": head}
    assert hub.branch_sha(REPO) == main_before  # main untouched


@pytest.mark.parametrize("breakage", ["no-folder", "no-readme", "no-release-json", "no-warp-version"])
def test_release_folder_is_validated_before_any_request(breakage: str, release: Path, tmp_path: Path) -> None:
    target = release
    if breakage == "no-folder":
        target = tmp_path / "nowhere"
    elif breakage == "no-readme":
        (release / "README.md").unlink()
    elif breakage == "no-release-json":
        (release / "release.json").unlink()
    else:
        _write_manifest(release, without="warp_version")
    # In-process and offline (conftest): a push that got past validation would fail on HF_HUB_OFFLINE instead.
    with pytest.raises(ReleaseError) as info:
        push_release(target, REPO, token=GOOD)
    message = str(info.value)
    assert "\n" not in message and GOOD not in message
    expected = {"no-folder": "does not exist", "no-readme": "README.md", "no-release-json": "release.json",
                "no-warp-version": "warp_version"}[breakage]
    assert expected in message


def test_tag_failure_after_commit_is_reported_and_a_rerun_tags(hub: HubStandIn, release: Path,
                                                              tmp_path: Path) -> None:
    hub.fail("tag")
    result, _ = _push(hub, tmp_path, release)
    message = _assert_one_line_error(result, "the release was committed", "HTTP 500", "rerun the push")
    head = hub.branch_sha(REPO)
    assert head in message and hub.tags(REPO) == {}

    rerun, _ = _push(hub, tmp_path, release)
    assert rerun == {"url": f"{hub.endpoint}/datasets/{REPO}/commit/{head}"}  # no second commit
    assert hub.branch_sha(REPO) == head and hub.tags(REPO) == {"v0.1.0": head}


def test_cli_generate_then_push_round_trips_through_the_stand_in(hub: HubStandIn, tmp_path: Path) -> None:
    """The whole workflow as a user runs it: `warp-ir-pairs generate`, then `warp-ir-pairs push`."""
    out = tmp_path / "generated"
    gen = subprocess.run([sys.executable, "-m", "warp_ir_pairs", "generate", "cuda-tiny", "--out", str(out),
                          "--num-examples", "12", "--repo-id", REPO], capture_output=True, text=True, timeout=300)
    assert gen.returncode == 0, gen.stderr[-2000:]
    before = _snapshot(out)
    env = _client_env(hub, tmp_path)
    push = subprocess.run([sys.executable, "-m", "warp_ir_pairs", "push", str(out), REPO, "--token", GOOD],
                          capture_output=True, text=True, env=env, timeout=300)
    assert push.returncode == 0, push.stderr[-2000:]
    assert push.stdout.startswith("pushed: ") and GOOD not in push.stdout + push.stderr
    assert _snapshot(out) == before
    load = ("import json, sys, datasets; ds = datasets.load_dataset(sys.argv[1], 'cuda-tiny'); "
            "print('RESULT ' + json.dumps({s: d.to_list() for s, d in ds.items()}))")
    loaded, _ = _run(load, env, REPO)
    local = subprocess.run([sys.executable, "-c", load, str(out)],
                           capture_output=True, text=True, env={**env, "HF_HUB_OFFLINE": "1"}, timeout=120)
    assert loaded == json.loads(local.stdout.splitlines()[-1][len("RESULT "):])
    bad = subprocess.run([sys.executable, "-m", "warp_ir_pairs", "push", str(out), REPO, "--token", "hf_wrong_secret"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "401" in bad.stderr
    assert "hf_wrong_secret" not in bad.stdout + bad.stderr
