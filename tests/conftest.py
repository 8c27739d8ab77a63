"""Fixtures shared by the sandbox's test files."""

from __future__ import annotations

import contextlib
from typing import Iterator

import pytest

from coderl_lessons import execution as ex


@contextlib.contextmanager
def _running(way: str) -> Iterator[str]:
    """Runs the enclosed block with the fork server's C loop, its Python loop, or spawned runs."""
    if way == "C" and ex.fork_server_loop() != "C":
        pytest.skip("the fork server's C loop is not in use here")
    with contextlib.nullcontext() if way == "C" else ex.degraded("native" if way == "Python" else "fork"):
        yield way


@pytest.fixture(params=["C", "Python"])
def each_fork_server_loop(request):
    """The test runs once with each loop of the fork server: the C one (where it is built and
    used) and the Python one, which does the same steps. Yields the loop's name."""
    with _running(request.param) as way:
        yield way


@pytest.fixture(params=["C", "Python", "spawned"])
def each_way_of_running(request):
    """As each_fork_server_loop, and once more with every run a fresh interpreter started with
    subprocess (``degraded("fork")``): how runs go where there is no fork (Windows)."""
    with _running(request.param) as way:
        yield way
