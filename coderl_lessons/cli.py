"""The ``coderl-lessons`` command: grade submissions, regenerate exercises, train a policy."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _grade(args: argparse.Namespace) -> int:
    from coderl_lessons.grade import GradeSettings, format_table, grade_paths

    settings = GradeSettings(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                             memory_mb=args.memory_mb)
    records, ok = grade_paths(args.paths, settings, seed=args.seed, json_path=args.json)
    print(format_table(records))
    if not records:
        print("nothing to grade in " + ", ".join(args.paths) + ": a folder stands for the .ipynb files directly "
              "in it (not in its subfolders)", file=sys.stderr)
    for record in records:
        if record.exercise == "-":
            print(f"could not grade {record.notebook}: {record.detail}", file=sys.stderr)
    return 0 if ok else 1


def _make_exercises(args: argparse.Namespace) -> int:
    from coderl_lessons.notebooks import regenerate

    for path in regenerate(Path(args.solutions), Path(args.exercises)):
        print(f"wrote {path}")
    return 0


def _run_notebooks(args: argparse.Namespace) -> int:
    from coderl_lessons.notebooks import execute_in_place

    for name in args.paths:
        print(f"running {name}", flush=True)
        execute_in_place(Path(name))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coderl-lessons", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    grade = commands.add_parser("grade", help="grade submitted exercise notebooks (files or folders)")
    grade.add_argument("paths", nargs="+", metavar="PATH")
    grade.add_argument("--json", metavar="FILE", help="also write the records as JSON")
    grade.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell (default 60)")
    grade.add_argument("--notebook-timeout", type=float, default=600.0, help="seconds per notebook (default 600)")
    grade.add_argument("--memory-mb", type=int, default=4096, help="memory limit of each kernel (default 4096)")
    grade.add_argument("--seed", type=int, help="seed of the hidden checks (default: fresh each run)")
    grade.set_defaults(func=_grade)

    make = commands.add_parser("make-exercises", help="regenerate exercises/ from solutions/")
    make.add_argument("--solutions", default="solutions")
    make.add_argument("--exercises", default="exercises")
    make.set_defaults(func=_make_exercises)

    run = commands.add_parser("run-notebooks", help="execute lesson/solution notebooks and store their outputs")
    run.add_argument("paths", nargs="+", metavar="NOTEBOOK")
    run.set_defaults(func=_run_notebooks)

    train = commands.add_parser("train", help="train a code policy with a GRPO preset", add_help=False)
    train.set_defaults(func=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:
        from coderl_lessons.train import cli as train_cli

        return train_cli(argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
