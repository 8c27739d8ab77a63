"""Print the Python interpreter that ``make setup`` makes the course's virtual environment from.

Run by ``python3`` when ``PYTHON`` is not given. It prints the fastest build of ``python3``'s
own version (major.minor) that is on this machine, and says on standard error what it chose
and why. Why choose at all: the code sandbox spends most of its CPU interpreting the programs it
checks, so the interpreter's build sets its speed. On Debian 12 with pyenv, for example,
``python3`` is pyenv's 3.11.7, built without ``--enable-optimizations`` and with a shared
libpython, while ``/usr/bin/python3.11`` is Debian's build with profile-guided and link-time
optimization: the runner's HumanEval passes run about 14% faster on it (``benchmarks/README.md``).

Only interpreters of ``python3``'s version are considered (``constraints.txt`` pins wheels for
it), only those with ``venv`` and ``ensurepip`` (the setup needs both), and one without Python's
headers only where ``python3`` has none either (without them the sandbox's C loop is not built,
which costs more than any build saves). Another interpreter is chosen only when it runs a
pure-Python loop at least ``MARGIN`` faster (best of three), so that noise never changes the
choice.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

MARGIN = 0.05  # an alternative must be at least 5% faster than python3

# Run by each candidate: what it is, and how fast it runs a loop of plain Python.
PROBE = r"""
import importlib.util, json, os, sys, sysconfig, time
def work(n):
    total = 0
    for i in range(n):
        if i % 3:
            total += i * i
    return total
best = float("inf")
for _ in range(3):
    start = time.perf_counter()
    work(300_000)
    best = min(best, time.perf_counter() - start)
include = sysconfig.get_paths().get("include") or ""
print(json.dumps({
    "executable": os.path.realpath(getattr(sys, "_base_executable", sys.executable)),
    "version": list(sys.version_info[:2]),
    "full_version": sys.version.split()[0],
    "venv": all(importlib.util.find_spec(m) is not None for m in ("venv", "ensurepip")),
    "headers": os.path.exists(os.path.join(include, "Python.h")),
    "seconds": best,
}))
"""


def probe(command: str) -> dict | None:
    """What ``command`` is (see PROBE), or None if it does not run as a Python 3."""
    try:
        done = subprocess.run([command, "-I", "-c", PROBE], capture_output=True, text=True, timeout=60)
        return json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def candidates(version: tuple[int, int]) -> list[str]:
    """Commands that may be a Python of ``version``: on PATH, and in the usual system places."""
    names = [f"python{version[0]}.{version[1]}", f"python{version[0]}"]
    places = os.environ.get("PATH", "").split(os.pathsep) + ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"]
    found = []
    for place in dict.fromkeys(p for p in places if p):
        for name in names:
            path = shutil.which(name, path=place)
            if path and path not in found:
                found.append(path)
    return found


def choose(default: dict, others: list[dict], margin: float = MARGIN) -> dict:
    """The interpreter to use: ``default`` (python3's own report) unless another of its version,
    with venv, and with headers if ``default`` has them, is at least ``margin`` faster, or has
    headers where ``default`` has none."""
    usable = [o for o in others
              if o["version"] == default["version"] and o["venv"] and o["executable"] != default["executable"]
              and (o["headers"] or not default["headers"])]
    if not default["venv"] and usable:
        return min(usable, key=lambda o: (not o["headers"], o["seconds"]))
    better = [o for o in usable
              if (o["headers"] and not default["headers"]) or o["seconds"] <= default["seconds"] * (1 - margin)]
    return min(better, key=lambda o: (not o["headers"], o["seconds"])) if better else default


def main() -> None:
    default = probe(sys.executable)
    if default is None:  # cannot happen for a working python3; fall back to it unexamined
        print(sys.executable)
        return
    seen = {default["executable"]}
    others = []
    for command in candidates(sys.version_info[:2]):
        report = probe(command)
        if report is not None and report["executable"] not in seen:
            seen.add(report["executable"])
            others.append(report)
    chosen = choose(default, others)
    if chosen is default:
        why = "no other build of this version is faster" if others else "the only one of its version found"
    else:
        why = (f"{default['seconds'] / chosen['seconds']:.2f}x the speed of python3 "
               f"({default['executable']}, {default['full_version']}) on a pure-Python loop")
    print(f"setup: the virtual environment is made from {chosen['executable']} ({chosen['full_version']}): "
          f"{why}; choose another with PYTHON=...", file=sys.stderr)
    print(chosen["executable"])


if __name__ == "__main__":
    main()
