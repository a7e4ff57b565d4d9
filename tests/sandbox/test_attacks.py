"""Hostile predictions against the evaluation harness: each test passes only when its attack fails.

Every attack is a real record's true forward function with one statement put first: the attack,
then ``if (!(attack succeeded)) return;``. So where an attack works, the prediction computes the
true outputs and ``behaves`` passes; where the sandbox stops it, the function returns before
writing anything and ``behaves`` fails. ``test_the_attacks_work_without_the_sandbox`` shows
each test could fail: the harmless ones succeed with ``sandbox=False``.

All predictions are scored in one ``evaluate.score`` call, run by a harness process of its own
(``HARNESS``) with a fake ``HF_TOKEN`` in its environment, so an attack on the harness kills
that process, not pytest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from waiting import eventually, sleepers  # tests/waiting.py
from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.options import GenerationOptions

FAKE_TOKEN = "hf_FAKEfakeFAKEfake0123456789"
TIMEOUT_S = 5.0
HARNESS_LIMIT_S = 300
HARNESS = r"""
import dataclasses, json, sys
from warp_ir_pairs_generator import evaluate
job = json.load(sys.stdin)
scores = evaluate.score(job["records"], job["predictions"], timeout_s=job["timeout_s"], sandbox=job["sandbox"])
print(json.dumps([dataclasses.asdict(s) for s in scores]))
"""
# libc, declared by hand: a prediction may not #include (score refuses directives).
LIBC = """extern "C" {
int system(const char*);
char* getenv(const char*);
int strcmp(const char*, const char*);
int strncmp(const char*, const char*, unsigned long);
int open(const char*, int, ...);
long read(int, void*, unsigned long);
int close(int);
int pipe2(int*, int);
int fork(void);
int setsid(void);
int kill(int, int);
int getppid(void);
int execl(const char*, const char*, ...);
void _exit(int);
}
"""
O_CLOEXEC = 0o2000000


def _attacks(home_file: str, tmp_file: str, marker: str) -> dict[str, tuple[str, str]]:
    """name -> (helpers before the function, the condition tested first in its body)."""
    return {
        # (Constant-initialized statics only: a dynamic one needs __cxa_guard_*, which Warp's JIT lacks.)
        "system": ("static bool wrote() {\n    static int status = -1;\n"
                   f'    if (status == -1) status = system("id > {tmp_file}; id > {home_file}");\n'
                   "    return status == 0;\n}\n", "wrote()"),
        "passwd": ("static bool leaked() {\n    char b[8] = {0};\n"
                   '    int fd = open("/etc/passwd", 0);\n'
                   '    return fd >= 0 && read(fd, b, 5) == 5 && strncmp(b, "root:", 5) == 0;\n}\n', "leaked()"),
        "token": ("", f'getenv("HF_TOKEN") && strcmp(getenv("HF_TOKEN"), "{FAKE_TOKEN}") == 0'),
        "incbin": ('asm(".pushsection .rodata\\n.globl wx_leak\\nwx_leak:\\n.incbin \\"/etc/passwd\\"\\n'
                   '.byte 0\\n.popsection\\n");\nextern "C" const char wx_leak[];\n',
                   'strncmp(wx_leak, "root:", 5) == 0'),
        "daemon": ("static bool spawned() {\n    static int done = 0;\n    if (done++) return true;\n"
                   f"    int fds[2];\n    if (pipe2(fds, {O_CLOEXEC}) != 0) return false;\n"
                   "    if (fork() == 0) {\n        setsid();\n"
                   f'        execl("/bin/sleep", "sleep", "{marker}", (char*)0);\n        _exit(1);\n    }}\n'
                   "    close(fds[1]);\n    char c;\n    read(fds[0], &c, 1);   // EOF once sleep runs\n"
                   "    return true;\n}\n", "spawned()"),
        "killparent": ("", "kill(getppid(), 9) != 0 && false"),
        "forkbomb": ("static bool bomb() {\n    for (;;) fork();\n}\n", "bomb()"),
    }


def _predict(record: dict, helpers: str, condition: str) -> str:
    ir = record["ir_code"]
    body = ir.index("_wp_args)\n{\n") + len("_wp_args)\n{\n")
    return LIBC + helpers + ir[:body] + f"    if (!({condition})) return;\n" + ir[body:]


@pytest.fixture(scope="module")
def records() -> list[dict]:
    options = GenerationOptions.from_config("cpu-tiny", verify="execute")
    return list(driver.iter_shard(options, 0, 7))


@pytest.fixture(scope="module")
def targets(tmp_path_factory) -> dict[str, str]:
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    home = os.path.join(os.path.expanduser("~"), f".warp-ir-attack-{tag}")
    out = {"tmp_file": str(tmp_path_factory.mktemp("caller") / "id.txt"), "home_file": home,
           "marker": f"{4000 + os.getpid() % 1000}.{time.monotonic_ns() % 10**6}"}
    yield out
    if os.path.exists(home):
        os.remove(home)
    for pid in sleepers(out["marker"]):
        os.kill(pid, 9)


def _harness(records: list[dict], attacks: dict[str, tuple[str, str]], sandbox: bool) -> tuple[dict, float]:
    """Score each attack on its own record in one harness process: ({attack: score}, seconds)."""
    names = list(attacks)
    chosen = records[:len(names)]
    predictions = {r["id"]: _predict(r, *attacks[name]) for r, name in zip(chosen, names, strict=True)}
    env = dict(os.environ, HF_TOKEN=FAKE_TOKEN)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", HARNESS], input=json.dumps(
        {"records": chosen, "predictions": predictions, "timeout_s": TIMEOUT_S, "sandbox": sandbox}),
        capture_output=True, text=True, env=env, timeout=HARNESS_LIMIT_S, check=False)
    took = time.monotonic() - start
    assert done.returncode == 0, f"the harness died (exit {done.returncode}): {done.stderr[-2000:]}"
    scores = json.loads(done.stdout.strip().splitlines()[-1])
    return {name: s for name, s in zip(names, scores, strict=True)}, took


@pytest.fixture(scope="module")
def confined(records, targets) -> tuple[dict, float]:
    return _harness(records, _attacks(**targets), sandbox=True)


def test_system_cannot_write_into_the_callers_tmp_or_home(confined, targets):
    scores, _ = confined
    assert not os.path.exists(targets["tmp_file"]) and not os.path.exists(targets["home_file"])
    assert scores["system"]["behaves"] is False


def test_etc_passwd_cannot_be_read_into_the_outputs(confined):
    scores, _ = confined
    assert scores["passwd"]["compiles"] is True and scores["passwd"]["behaves"] is False


def test_the_callers_hf_token_is_not_in_the_environment(confined):
    scores, _ = confined
    assert scores["token"]["compiles"] is True and scores["token"]["behaves"] is False


def test_incbin_of_etc_passwd_fails_to_compile_or_embeds_nothing(confined):
    scores, _ = confined
    # Warp 1.19's bundled clang aborts on any asm statement (no assembler parser is registered):
    # the compile fails; had it compiled, /etc/passwd is not in the sandbox to embed.
    assert scores["incbin"]["compiles"] is False or scores["incbin"]["behaves"] is False


def test_a_forked_daemon_neither_outlives_the_run_nor_holds_up_the_harness(confined, targets):
    scores, took = confined
    assert scores["daemon"]["compiles"] is True
    assert eventually(lambda: sleepers(targets["marker"]) == [])
    assert took < HARNESS_LIMIT_S / 3           # the daemon sleeps for over an hour


def test_killing_the_parent_leaves_the_harness_standing_and_is_a_scored_failure(confined):
    scores, _ = confined
    assert scores["killparent"]["behaves"] is False
    assert scores["killparent"]["failed_rung"] == "behaves" and "\n" not in scores["killparent"]["detail"]


def test_a_fork_bomb_is_bounded_and_scored_as_a_timeout(confined):
    scores, _ = confined
    assert scores["forkbomb"]["behaves"] is False
    assert scores["forkbomb"]["detail"].startswith("behaves: recorded trial: timeout")   # the first trial it ran


def test_the_attacks_work_without_the_sandbox(records, targets):
    """The controls: without the sandbox the same attacks succeed, so the tests above can fail."""
    attacks = {k: v for k, v in _attacks(**targets).items() if k in ("system", "passwd", "token", "daemon")}
    scores, _ = _harness(records, attacks, sandbox=False)
    try:
        assert os.path.exists(targets["tmp_file"]) and os.path.exists(targets["home_file"])
        assert {name: s["behaves"] for name, s in scores.items()} == dict.fromkeys(attacks, True)
        assert sleepers(targets["marker"]) != []
    finally:
        for path in (targets["tmp_file"], targets["home_file"]):
            if os.path.exists(path):
                os.remove(path)
        for pid in sleepers(targets["marker"]):
            os.kill(pid, 9)



