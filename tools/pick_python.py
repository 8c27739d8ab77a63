"""Print the Python interpreter that ``make setup`` makes the course's virtual environment from.

Run by ``python3`` when ``PYTHON`` is not given. It prints ``python3`` itself, or another build of
the same version (major.minor) on this machine that is clearly faster, and says on standard error
what it chose and why. Why choose at all: the code sandbox spends much of its CPU interpreting the
programs it checks, so the interpreter's build sets its speed. On Debian 12 with pyenv, for example,
``python3`` is pyenv's 3.11.7, built without ``--enable-optimizations`` and with a shared libpython,
while ``/usr/bin/python3.11`` is Debian's build with profile-guided and link-time optimization: the
runner's HumanEval passes run about 14% faster on it (``benchmarks/README.md``).

The rules (``choose``): only interpreters of ``python3``'s version (``constraints.txt`` pins wheels
for it) that have ``venv`` and ``ensurepip`` (the setup needs both); if ``python3`` has Python's
headers, only others that have them too (without them the sandbox's C loop is not built, which
costs more than any build saves). Another one is taken where ``python3`` cannot make a venv, where
it alone lacks the headers, or where it runs a loop of plain Python at least ``MARGIN`` faster (best
of five, in each interpreter), so that noise never changes the choice.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

MARGIN = 0.05  # another build must be at least 5% faster than python3

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
for _ in range(5):
    start = time.perf_counter()
    work(200_000)
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
    """What ``command`` is (see PROBE) and the command itself, or None if it does not run as a Python 3."""
    try:
        done = subprocess.run([command, "-I", "-c", PROBE], capture_output=True, text=True, timeout=15,
                              stdin=subprocess.DEVNULL)
        return {**json.loads(done.stdout), "command": command} if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def candidates(version: tuple[int, int]) -> list[str]:
    """Commands that may be a Python of ``version``, on PATH and in the usual system places, each
    file once (``/bin`` and ``/usr/bin`` are often one directory)."""
    names = [f"python{version[0]}.{version[1]}", f"python{version[0]}"]
    places = os.environ.get("PATH", "").split(os.pathsep) + ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"]
    found: dict[str, str] = {}
    for place in dict.fromkeys(p for p in places if p):
        for name in names:
            path = shutil.which(name, path=place)
            if path:
                found.setdefault(os.path.realpath(path), path)
    return list(found.values())


def choose(default: dict, others: list[dict], margin: float = MARGIN) -> tuple[dict, str]:
    """The interpreter to use, and why: ``default`` (python3's own report) unless a rule of the
    module's docstring picks one of ``others``."""
    with_venv = [o for o in others
                 if o["version"] == default["version"] and o["venv"] and o["executable"] != default["executable"]]
    fastest = lambda reports: min(reports, key=lambda o: (not o["headers"], o["seconds"]))  # noqa: E731
    if not default["venv"]:
        if with_venv:
            return fastest(with_venv), "python3 has no venv/ensurepip"
        return default, "no build of its version has venv and ensurepip: the setup will say what is missing"
    usable = [o for o in with_venv if o["headers"] or not default["headers"]]
    if not default["headers"] and any(o["headers"] for o in usable):
        return fastest(usable), "python3 has no Python headers (the sandbox's C loop needs them)"
    faster = [o for o in usable if o["seconds"] <= default["seconds"] * (1 - margin)]
    if faster:
        chosen = fastest(faster)
        return chosen, f"{default['seconds'] / chosen['seconds']:.2f}x the speed of python3 on a loop of plain Python"
    if usable:
        return default, "no other build of its version is clearly faster"
    return default, "no other usable build of its version found"


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
    chosen, why = choose(default, others)
    print(f"setup: the virtual environment is made from {chosen['command']} (Python {chosen['full_version']}): "
          f"{why}; python3 is {default['executable']} (Python {default['full_version']}); "
          "choose another with PYTHON=...", file=sys.stderr)
    print(chosen["command"])


if __name__ == "__main__":
    main()
