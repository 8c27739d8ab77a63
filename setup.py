"""The one compiled part: the fork server's loop in C (Linux only).

Optional: where it does not build (no compiler, another OS), the runner uses its Python loop,
which does the same thing more slowly (see coderl_lessons/_forkserver.c and sandbox.py).
Everything else is in pyproject.toml.
"""

import sys

from setuptools import Extension, setup

setup(
    ext_modules=[Extension("coderl_lessons._forkserver", ["coderl_lessons/_forkserver.c"], optional=True)]
    if sys.platform.startswith("linux") else [],
)
