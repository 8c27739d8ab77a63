"""A Jupyter kernel with limits, for grading learner notebooks.

``python -m coderl_lessons.kernel --memory-mb N --cpu-seconds S -f CONNECTION_FILE`` sets
resource limits on its own process and, where Landlock is available, confines its writes to its
working directory, then becomes an ordinary IPython kernel. The grading command
starts it through :class:`LimitedKernelManager` in a fresh temporary directory, with an
environment that holds only what a Python process needs, so a submission neither sees the
grader's environment nor outgrows its memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Any

from jupyter_client.manager import AsyncKernelManager


def apply_limits(memory_mb: int, cpu_seconds: int) -> None:
    """Cap this process's address space, CPU time and core files (Unix; a no-op elsewhere)."""
    try:
        import resource
    except ImportError:
        return
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def restrict_writes(directory: str) -> bool:
    """With Landlock (Linux 5.13+): from now on this process and its children may read anywhere but
    write only beneath ``directory`` and /dev, so a submission cannot alter the course, the grader
    or other submissions on disk. Returns whether the restriction is in force."""
    try:
        from coderl_lessons import sandbox

        abi = sandbox.landlock_abi()
        if abi < 1:
            return False
        opened = [(os.open(path, getattr(os, "O_PATH", os.O_RDONLY) | os.O_CLOEXEC), True)
                  for path in ("/", directory, "/dev")]
        ruleset = sandbox.landlock_ruleset(abi, read=opened[:1], write=opened[1:], network=True)
        sandbox.prctl(sandbox.PR_SET_NO_NEW_PRIVS, 1)
        sandbox.landlock_enforcer(ruleset)()
        return True
    except (OSError, ImportError):
        return False


def clean_environment() -> dict[str, str]:
    """The few variables a kernel needs; nothing else of the grader's environment is passed on."""
    return {"PATH": os.defpath, "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "MPLBACKEND": "agg",
            "OMP_NUM_THREADS": "1"}  # HOME and TMPDIR are set by main() to the working directory


class LimitedKernelManager(AsyncKernelManager):
    """Starts ``coderl_lessons.kernel`` with this interpreter, limits and a clean environment.
    The grader subclasses it with the limits of its settings."""

    memory_mb: int = 4096
    cpu_seconds: int = 600

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return [sys.executable, "-m", "coderl_lessons.kernel", "--memory-mb", str(self.memory_mb),
                "--cpu-seconds", str(self.cpu_seconds), "-f", self.connection_file]

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        kw["env"] = clean_environment()
        kw["stderr"] = subprocess.DEVNULL  # the kernel's own start-up chatter is not part of a grade
        await super()._async_launch_kernel(kernel_cmd, **kw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    args, rest = parser.parse_known_args()
    apply_limits(args.memory_mb, args.cpu_seconds)
    workdir = os.getcwd()  # the grader's fresh temporary directory
    for name in ("HOME", "TMPDIR", "MPLCONFIGDIR"):
        os.environ[name] = workdir
    restrict_writes(workdir)
    sys.argv = [sys.argv[0], *rest]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
