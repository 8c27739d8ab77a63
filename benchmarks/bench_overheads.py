"""Where a check's CPU goes besides the program's own work: the costs behind bench_execution.py.

    python benchmarks/bench_overheads.py [--jobs 200] [--repeats 5]

1. A check that costs nothing: one call of a one-line function. Its CPU in each kind of
   process (caller, judges, fork servers, runs) and the runs' page faults: the fixed price of
   a check on this runner.
2. A call of the candidate, two ways: 101 calls with literal arguments (sent ahead in one
   batch) and 101 calls whose arguments the check computes (each a round trip between judge
   and run), against the one-call check. CPU per extra call, in the judge and in the run.
3. Waking a process on the other core, against one on the same core: the CPU the writer pays
   for one pipe write that wakes a reader blocked in select (the judge's result to the caller
   is such a write). On a VM an inter-processor interrupt can be dear.
4. fork + exit of a process holding 0, 8 and 16 MiB more of written memory: the cost of each
   4 KiB page a fork copies the page-table entry of (the fork server holds about 7.5 MiB).

Linux only (it reads /proc, and parts 3 and 4 fork). See benchmarks/HISTORY.md for results.
"""

from __future__ import annotations

import argparse
import os
import select
import time

import bench_execution
from coderl_lessons import execution

PROGRAM = "def f(x):\n    return [x, str(x)]\n"
ONE_CALL = "def check(candidate):\n    assert candidate(1) == [1, '1']\n"
LITERAL_CALLS = "def check(candidate):\n" + "".join(
    f"    assert candidate({i}) == [{i}, '{i}']\n" for i in range(101))
ROUND_TRIPS = "def check(candidate):\n    for i in range(101):\n        assert candidate(i) == [i, str(i)]\n"


def per_check(check: str, jobs: int, repeats: int) -> dict[str, float]:
    """CPU ms (and page faults) per check of ``jobs`` distinct programs with this check, cache off."""
    problems = [dict(task_id=f"t{i}", prompt="", test=check, entry_point="f") for i in range(jobs)]
    programs = [PROGRAM + f"# {i}\n" for i in range(jobs)]  # distinct, as a batch of samples is
    for _ in range(2):  # warm: judges started, check code compiled
        execution.check_correctness_many(problems, programs, 3.0, cache=False)
    before = bench_execution.cpu_seconds()
    for _ in range(repeats):
        results = execution.check_correctness_many(problems, programs, 3.0, cache=False)
        assert all(r["passed"] for r in results), results[0]
    after = bench_execution.cpu_seconds()
    return {k: (after[k] - before[k]) / (jobs * repeats) * (1 if "faults" in k else 1e3) for k in after}


def wake_cost(reader_cpu: int, writer_cpu: int, writes: int = 2000) -> float:
    """CPU us the writer spends on one pipe write that wakes a reader blocked in select."""
    reads, writes_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {reader_cpu})
        os.close(writes_fd)
        while select.select([reads], [], []) and os.read(reads, 1 << 16):
            pass
        os._exit(0)
    os.close(reads)
    os.sched_setaffinity(0, {writer_cpu})
    spent = 0.0
    for _ in range(writes):
        idle_until = time.perf_counter() + 0.0005  # busy here, so that the reader is asleep again
        while time.perf_counter() < idle_until:
            pass
        began = time.thread_time()
        os.write(writes_fd, b"x" * 200)
        spent += time.thread_time() - began
    os.close(writes_fd)
    os.waitpid(pid, 0)
    return spent / writes * 1e6


def fork_exit_cost(extra_mib: int, forks: int = 1000) -> float:
    """CPU us of one fork + immediate exit + wait, holding ``extra_mib`` more written memory."""
    held = bytearray(b"x" * (extra_mib << 20))
    best = float("inf")
    for _ in range(3):
        before = os.times()
        for _ in range(forks):
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
        after = os.times()
        spent = sum(after[:4]) - sum(before[:4])
        best = min(best, spent / forks * 1e6)
    del held
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200, help="distinct programs per batch")
    parser.add_argument("--repeats", type=int, default=5, help="timed batches")
    args = parser.parse_args()

    one = per_check(ONE_CALL, args.jobs, args.repeats)
    print("1. a check of one call of a one-line function, CPU ms per check: "
          + ", ".join(f"{k} {v:.3f}" for k, v in one.items() if "faults" not in k)
          + f"; total {sum(v for k, v in one.items() if 'faults' not in k):.3f}; run page faults {one['run faults']:.0f}")
    for label, check in (("literal arguments (one batch)", LITERAL_CALLS), ("computed arguments (round trips)", ROUND_TRIPS)):
        many = per_check(check, args.jobs, args.repeats)
        extra = {k: (many[k] - one[k]) / 100 * 1e3 for k in ("judges", "runs")}
        print(f"2. each extra call, {label}: judge {extra['judges']:.1f} us, run {extra['runs']:.1f} us of CPU")
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        other, same = wake_cost(cpus[1], cpus[0]), wake_cost(cpus[0], cpus[0])
        print(f"3. a pipe write that wakes a reader: {other:.1f} us of the writer's CPU with the reader on "
              f"another core, {same:.1f} us on the same core")
    costs = {mib: fork_exit_cost(mib) for mib in (0, 8, 16)}
    slope = (costs[16] - costs[0]) / (16 << 8) * 1e3
    print("4. fork + exit + wait of this process: " + ", ".join(f"{v:.0f} us holding {k} MiB more" for k, v in costs.items())
          + f": {slope:.0f} ns per 4 KiB page held (the base is this process's own: its mappings, Python's at-fork hooks)")


if __name__ == "__main__":
    main()
