"""The false-pass report over all 164 HumanEval problems, printed, with where the time goes.

    .venv/bin/python benchmarks/false_pass.py                          # the lesson's settings
    .venv/bin/python benchmarks/false_pass.py --mutants 10 --inputs 100 --rows
    .venv/bin/python benchmarks/false_pass.py --seeds 0 1 2            # spread over seeds

For each seed: ``coderl_lessons.verification.false_pass_report`` with ``--mutants`` mutants of
each canonical solution and ``--inputs`` generated differential inputs per task, run against the
three suites (visible examples, HumanEval's check, differential tests). Prints the summary table,
HumanEval's false passes (task, change, the first differential test the mutant fails), optionally
every task's row, the wall time, and with several seeds the spread of the false-pass rates.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from coderl_lessons import verification


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--mutants", type=int, default=5, help="mutants per task (default 5, as in lesson 07)")
    parser.add_argument("--inputs", type=int, default=30, help="generated inputs per task (default 30, as in lesson 07)")
    parser.add_argument("--rows", action="store_true", help="print every task's row")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; seeds {args.seeds}, {args.mutants} mutants and {args.inputs} inputs per task\n")
    rates: dict[str, list[float]] = {suite: [] for suite in verification.SUITES}
    for seed in args.seeds:
        start = time.perf_counter()
        report = verification.false_pass_report(seed, mutants_per_task=args.mutants, inputs_per_task=args.inputs)
        seconds = time.perf_counter() - start
        print(report.summary())
        print(f"(seed {seed}: {seconds:.1f} s)\n")
        for suite in verification.SUITES:
            rates[suite].append(report.false_pass_rate(suite))
        print("HumanEval's false passes (passes its check, fails the differential tests):")
        for m in report.examples("humaneval"):
            call_args, expected, got = m.first_failure
            call = ", ".join(repr(a) for a in call_args)
            print(f"  {m.task_id:14} {m.description[:50]:50} f({call[:50]}) -> {str(got)[:40]}, expected {str(expected)[:40]}")
        if args.rows:
            print(f"\n{'task':14}{'mutants':>8}{'vis':>5}{'HE':>5}{'diff':>6}{'pass vis':>9}{'pass HE':>8}"
                  f"{'pass diff':>10}{'FP vis':>7}{'FP HE':>6}{'equiv':>6}")
            for r in report.rows:
                print(f"{r.task_id:14}{r.mutants:>8}{r.visible_tests:>5}{r.humaneval_inputs:>5}{r.differential_tests:>6}"
                      f"{r.pass_visible:>9}{r.pass_humaneval:>8}{r.pass_differential:>10}{r.false_pass_visible:>7}"
                      f"{r.false_pass_humaneval:>6}{r.survive_all:>6}")
        print()
    if len(args.seeds) > 1:
        print("false-pass rate over seeds (mean, min, max):")
        for suite, values in rates.items():
            print(f"  {suite:14} {statistics.mean(values):.3f}  {min(values):.3f}  {max(values):.3f}")


if __name__ == "__main__":
    main()
