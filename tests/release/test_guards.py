"""A release folder misuse cannot corrupt: lock, resume identity, exact contents, umask, workers, push timeouts."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warp_ir_pairs_generator import cli
from warp_ir_pairs_generator.release import contents, export, lock
from warp_ir_pairs_generator.release import manifest as manifests
from warp_ir_pairs_generator.release.push import ReleaseError, push_release

N, PER_SHARD = 12, 4


def _generate(out: Path, *extra: str, card: bool = True) -> int:
    return cli.main(["generate", "cpu-tiny", "--out", str(out), "--num-examples", str(N),
                     "--records-per-shard", str(PER_SHARD), *extra, *([] if card else ["--no-card"])])


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _copy(src: Path, dst: Path) -> Path:
    for name, data in _tree(src).items():
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        (dst / name).write_bytes(data)
    return dst


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("guarded") / "release"
    assert _generate(out) == 0
    return out


def _one_error(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("Warp CUDA warning")]
    assert len(err) == 1 and err[0].startswith("warp-ir-pairs: error: "), err
    return err[0]


# --- resume never mixes options -------------------------------------------------------------

@pytest.mark.parametrize(("extra", "held", "asked"), [
    (["--seed", "7"], "seed 42", "seed 7"),
    (["--verify", "compile"], "verify codegen", "verify compile"),
    (["--complexity", "2"], "complexity None", "complexity 2"),
])
def test_resume_with_other_options_is_refused_naming_the_difference(release, extra, held, asked, capsys):
    before = _tree(release)
    assert _generate(release, *extra, card=False) == 2
    line = _one_error(capsys)
    assert f"holds cpu-tiny generated with {held}; this run asks {asked}" in line and "--restart" in line
    assert _tree(release) == before


def test_resume_with_other_records_per_shard_is_refused(release, capsys):
    assert cli.main(["generate", "cpu-tiny", "--out", str(release), "--num-examples", str(N),
                     "--records-per-shard", "5", "--no-card"]) == 2
    assert "records_per_shard 4; this run asks records_per_shard 5" in _one_error(capsys)


def test_an_interrupted_first_unit_still_records_the_options(tmp_path, monkeypatch, capsys):
    out = tmp_path / "interrupted"

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "write_unit", killed)
    assert _generate(out, card=False) == 130   # stopped before any marker
    monkeypatch.undo()
    capsys.readouterr()
    assert _generate(out, "--seed", "7", card=False) == 2
    assert "generated with seed 42; this run asks seed 7" in _one_error(capsys)


def test_resume_under_another_package_version_is_refused(release, monkeypatch, capsys):
    monkeypatch.setattr(export, "package_version", lambda: "9.9.9")
    assert _generate(release, card=False) == 2
    line = _one_error(capsys)
    assert "warp-ir-pairs 0" in line and "this run asks warp-ir-pairs 9.9.9" in line


def test_restart_starts_the_config_over_with_the_new_options(release, tmp_path):
    out = _copy(release, tmp_path / "restarted")
    assert _generate(out, "--seed", "7", "--restart") == 0
    fresh = tmp_path / "fresh"
    assert _generate(fresh, "--seed", "7") == 0
    assert _tree(out) == _tree(fresh)
    assert cli.main(["verify", str(out)]) == 0


# --- one writer at a time -------------------------------------------------------------------

_HOLD = """
import sys
from pathlib import Path
from warp_ir_pairs_generator.release import lock
with lock.writing(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_second_writer_is_refused_and_a_killed_holders_lock_is_recovered(release, tmp_path, capsys):
    out = _copy(release, tmp_path / "locked")
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(out)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        for argv in (["generate", "cpu-tiny", "--out", str(out), "--num-examples", str(N),
                      "--records-per-shard", str(PER_SHARD)], ["card", str(out)], ["verify", str(out)],
                     ["push", str(out), "owner/name"]):
            assert cli.main(argv) == 2, argv
            line = _one_error(capsys)
            assert f"is being written by another warp-ir-pairs process (pid {holder.pid})" in line, line
    finally:
        holder.kill()   # SIGKILL: the holder never unlocks; the kernel drops its lock
        holder.wait()
    assert _generate(out) == 0
    assert cli.main(["verify", str(out)]) == 0


def test_a_reader_blocks_writers_but_not_other_readers(release, tmp_path, capsys):
    out = _copy(release, tmp_path / "read")
    with lock.reading(out):
        reader = subprocess.run([sys.executable, "-m", "warp_ir_pairs", "verify", str(out)], capture_output=True,
                                text=True, timeout=300)
        assert reader.returncode == 0, reader.stderr
        writer = subprocess.run([sys.executable, "-m", "warp_ir_pairs", "card", str(out)], capture_output=True,
                                text=True, timeout=300)
        assert writer.returncode == 2 and "is being read by another warp-ir-pairs process" in writer.stderr


# --- verify checks exactly the release ------------------------------------------------------

def _break(root: Path, how: str) -> str:
    shard = sorted((root / "cpu-tiny").glob("train-*.parquet"))[0]
    if how == "copied shard":
        (root / "cpu-tiny" / "train-00009-of-00003.parquet").write_bytes(shard.read_bytes())
        return "cpu-tiny/train-00009-of-00003.parquet: duplicate of"
    if how == "empty card":
        (root / "README.md").write_text("")
        return "README.md: empty file"
    if how == "no card":
        (root / "README.md").unlink()
        return "README.md: missing"
    if how == "empty plot":
        plot = contents.card_plots((root / "README.md").read_text())[0]
        (root / plot).write_bytes(b"")
        return f"{plot}: empty file"
    if how == "missing plot":
        plot = contents.card_plots((root / "README.md").read_text())[-1]
        (root / plot).unlink()
        return f"{plot}: missing"
    if how == "stray file":
        (root / "notes.txt").write_text("hello")
        return "notes.txt: stray file"
    if how == "temp file":
        (root / "cpu-tiny" / f".{shard.name}.abc123_z.tmp").write_bytes(b"PAR1")
        return f"cpu-tiny/.{shard.name}.abc123_z.tmp: temp file"
    if how == "empty stray":
        (root / "cpu-tiny" / "extra.bin").write_bytes(b"")
        return "cpu-tiny/extra.bin: empty file"
    raise AssertionError(how)


BREAKAGES = ["copied shard", "empty card", "no card", "empty plot", "missing plot", "stray file", "temp file",
             "empty stray"]


@pytest.mark.parametrize("how", BREAKAGES)
def test_verify_and_push_refuse_anything_but_exactly_the_release(release, tmp_path, how, capsys):
    out = _copy(release, tmp_path / "broken")
    assert cli.main(["verify", str(out)]) == 0
    capsys.readouterr()
    needle = _break(out, how)
    assert cli.main(["verify", str(out)]) == 2
    assert needle in _one_error(capsys)
    assert cli.main(["push", str(out), "owner/name"]) == 2   # refused before any request (tests run offline)
    line = _one_error(capsys)
    assert "refusing to push" in line and needle.split(":")[0] in line   # the first problem names the path
    with pytest.raises(ReleaseError, match=r"not exactly a release|has no README\.md"):
        push_release(out, "owner/name", token="hf_unused")


def test_push_uploads_exactly_the_release_never_progress_or_the_lock(release):
    files = contents.upload_files(release, manifests.read(release))
    local = set(_tree(release))
    assert {".lock", ".progress/cpu-tiny/run.json"} <= local
    assert set(files) == {f for f in local if f != ".lock" and not f.startswith(".progress/")}
    assert "README.md" in files and any(f.startswith("plots/") for f in files)


def test_resume_removes_stale_temp_files(release, tmp_path):
    out = _copy(release, tmp_path / "stale")
    for stale in (out / ".README.md.x1aaaaaa.tmp", out / "plots" / ".lengths.png.x2bbbbbb.tmp",
                  out / "cpu-tiny" / ".train-00000-of-00003.parquet.x3cccccc.tmp",
                  out / ".release.json.x4dddddd.tmp", out / ".progress" / "cpu-tiny" / ".00000.json.x5eeeeee.tmp"):
        stale.write_bytes(b"half")
    (out / "notes.tmp").write_text("not ours")   # only files named like our own writes are removed
    assert _generate(out) == 0
    assert (out / "notes.tmp").read_text() == "not ours"
    (out / "notes.tmp").unlink()
    assert _tree(out) == _tree(release)


# --- files follow the umask -----------------------------------------------------------------

def test_release_files_follow_the_umask(tmp_path):
    out = tmp_path / "umask"
    code = ("import os, sys; os.umask(0o027); from warp_ir_pairs_generator import cli; "
            "raise SystemExit(cli.main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", code, "generate", "cpu-tiny", "--out", str(out), "--num-examples", "6",
                           "--records-per-shard", "3"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*") if p.is_file()}
    assert modes and all(mode == 0o640 for mode in modes.values()), modes   # mkstemp alone gives 0600


# --- pool workers die with their parent -----------------------------------------------------

_HANG = """
import os, sys, time
from pathlib import Path
from warp_ir_pairs_generator.release import export
flags = Path(sys.argv[1])
def hang(job):
    (flags / str(os.getpid())).write_text("")
    time.sleep(3600)
export._run_unit = hang
from warp_ir_pairs_generator import cli
raise SystemExit(cli.main(sys.argv[2:]))
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")   # a zombie is dead, only not yet reaped


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_pool_workers_die_with_their_parent(tmp_path, sig):
    flags = tmp_path / "workers"
    flags.mkdir()
    parent = subprocess.Popen([sys.executable, "-c", _HANG, str(flags), "generate", "cpu-tiny", "--out",
                               str(tmp_path / "out"), "--num-examples", "8", "--records-per-shard", "2",
                               "--num-proc", "2", "--no-card"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while len(list(flags.iterdir())) < 2 and time.time() < deadline:   # both workers are inside a unit
        time.sleep(0.05)
    workers = [int(p.name) for p in flags.iterdir()]
    assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    parent.send_signal(sig)
    _, err = parent.communicate(timeout=60)
    if sig == signal.SIGTERM:
        assert parent.returncode == 143 and "generate interrupted" in err
    deadline = time.time() + 30
    while any(_alive(pid) for pid in workers) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


# --- push has timeouts ----------------------------------------------------------------------

_DEAD_PUSH = """
import json, socket, sys, threading, time
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(64)
held = []
def accept():   # accepts every connection and never answers
    while True:
        held.append(server.accept()[0])
threading.Thread(target=accept, daemon=True).start()
import os
os.environ["HF_ENDPOINT"] = f"http://127.0.0.1:{server.getsockname()[1]}"
from warp_ir_pairs_generator.release.push import ReleaseError, push_release
start = time.monotonic()
try:
    push_release(sys.argv[1], "owner/name", token="hf_DeadServerToken0123456789")
    print(json.dumps({"error": None}))
except ReleaseError as err:
    print(json.dumps({"error": str(err), "seconds": time.monotonic() - start, "connections": len(held)}))
"""


def test_push_to_a_server_that_never_answers_fails_in_bounded_time(release, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_") and "proxy" not in k.lower()}
    env.update(HF_HUB_DISABLE_XET="1", HF_HOME=str(tmp_path / "hf"), WARP_IR_PAIRS_PUSH_TIMEOUT="1")
    proc = subprocess.run([sys.executable, "-c", _DEAD_PUSH, str(release)], capture_output=True, text=True,
                          env=env, timeout=120)
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["error"] is not None and result["connections"] >= 1
    assert "did not answer in time" in result["error"] and "\n" not in result["error"]
    assert "hf_DeadServerToken" not in result["error"]
    assert result["seconds"] < 60
