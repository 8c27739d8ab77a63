"""tools/pick_python.py: which interpreter `make setup` makes the venv from."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parent.parent / "tools" / "pick_python.py"
spec = importlib.util.spec_from_file_location("pick_python", TOOL)
pick = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pick)


def report(executable: str, seconds: float, version=(3, 11), venv=True, headers=True) -> dict:
    return {"executable": executable, "command": executable, "version": list(version), "full_version": "3.11.x",
            "venv": venv, "headers": headers, "seconds": seconds}


def chosen(default: dict, others: list[dict]) -> str:
    return pick.choose(default, others)[0]["executable"]


def test_keeps_python3_unless_another_is_clearly_faster():
    default = report("/a/python3.11", 1.0)
    assert chosen(default, []) == "/a/python3.11"
    assert chosen(default, [report("/b/python3.11", 0.97)]) == "/a/python3.11"  # within the margin: noise
    assert chosen(default, [report("/c/python3.11", 0.90), report("/b/python3.11", 0.80)]) == "/b/python3.11"
    assert pick.choose(default, [report("/b/python3.11", 0.80)])[1].startswith("1.25x the speed")


def test_never_picks_another_version_or_one_that_cannot_set_up():
    default = report("/a/python3.11", 1.0)
    others = [report("/b/python3.12", 0.5, version=(3, 12)),  # constraints.txt pins wheels for 3.11
              report("/c/python3.11", 0.5, venv=False),  # no venv/ensurepip: `-m venv` would fail
              report("/d/python3.11", 0.5, headers=False)]  # no C fork server: slower than any build saves
    assert pick.choose(default, others) == (default, "no other usable build of its version found")


def test_what_python3_lacks_decides_before_speed():
    assert chosen(report("/a/python3.11", 1.0, headers=False), [report("/b/python3.11", 1.2)]) == "/b/python3.11"
    no_venv = report("/a/python3.11", 1.0, venv=False)
    assert chosen(no_venv, [report("/b/python3.11", 1.5)]) == "/b/python3.11"
    # no venv in python3, and the only build with one has no headers: a venv without the C loop
    # beats no venv at all
    assert chosen(report("/a/python3.11", 1.0, venv=False), [report("/b/python3.11", 1.5, headers=False)]) == "/b/python3.11"


def test_the_tool_prints_an_interpreter_of_this_version():
    done = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True, timeout=120, check=True,
                          stdin=subprocess.DEVNULL)
    command = done.stdout.strip()
    version = subprocess.run([command, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                             text=True, timeout=60, check=True).stdout.strip()
    assert version == str(sys.version_info[:2])
    assert f"made from {command} " in done.stderr
