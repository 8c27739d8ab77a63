"""Fixtures shared by the sandbox's test files."""

from __future__ import annotations

import pytest

from coderl_lessons import execution as ex


@pytest.fixture(params=["C", "Python"])
def each_fork_server_loop(request):
    """The test runs once with each loop of the fork server: the C one (where it is built and
    used) and the Python one, which does the same steps. Yields the loop's name."""
    if request.param == "Python":
        with ex.degraded("native"):
            yield "Python"
    elif ex.fork_server_loop() != "C":
        pytest.skip("the fork server's C loop is not in use here")
    else:
        yield "C"
