"""Call an exercise candidate on test cases, under limits, and turn what it returns into plain data.

This module is the only grading code that runs next to learner code. It is written against the
standard library alone because the grading command sends its *source text* into the learner's
kernel and executes it in a fresh namespace: whatever the learner patched in their kernel
(``coderl_lessons`` modules, the ``check`` function) is not what runs. The verdict itself is never
computed here: the caller compares the plain data this returns with the reference, in its own
process (``coderl_lessons.grading``).

Plain data means JSON values only. A candidate's return value is converted by looking at its exact
type (``type(x) is int``), never by calling its methods, so an object whose ``__eq__`` always
says True is a wrong type here, not a pass.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
from typing import Any, Callable, Iterable

TENSOR_TAG = "__tensor__"
MAX_ITEMS = 1_000_000


class CaseTimeout(BaseException):
    """Raised inside the candidate when its time is up (a BaseException, so `except Exception` in
    learner code does not swallow it)."""


class NotPlainError(TypeError):
    """The candidate returned something that is not plain data (or a tensor/array of numbers)."""


def _tensor_record(dtype: str, shape: list[int], data: Any) -> dict:
    return {TENSOR_TAG: {"dtype": dtype, "shape": shape, "data": data}}


def to_plain(value: Any, _depth: int = 0) -> Any:
    """Convert a value into JSON-compatible plain data, judging by exact types only.

    Tuples become lists; torch tensors and numpy arrays become tagged records with dtype, shape
    and nested-list data; numpy scalars become Python numbers. Anything else raises
    ``NotPlainError`` naming the type, which the report shows as "wrong type".
    """
    if _depth > 50:
        raise NotPlainError("the value is nested more than 50 levels deep")
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value
    if kind in (list, tuple):
        if len(value) > MAX_ITEMS:
            raise NotPlainError(f"a {kind.__name__} of {len(value)} items is too large to grade")
        return [to_plain(item, _depth + 1) for item in value]
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise NotPlainError(f"dict keys must be str, got {type(key).__name__}")
            out[key] = to_plain(item, _depth + 1)
        return out
    torch = sys.modules.get("torch")
    if torch is not None and kind is torch.Tensor:
        tensor = value.detach().to("cpu")
        if tensor.numel() > MAX_ITEMS:
            raise NotPlainError(f"a tensor of {tensor.numel()} elements is too large to grade")
        return _tensor_record(str(tensor.dtype).replace("torch.", ""), list(tensor.shape), tensor.tolist())
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        if kind is numpy.ndarray:
            if value.dtype.kind not in "biuf":
                raise NotPlainError(f"a numpy array of dtype {value.dtype} is not a numeric array")
            if value.size > MAX_ITEMS:
                raise NotPlainError(f"an array of {value.size} elements is too large to grade")
            return _tensor_record(str(value.dtype), list(value.shape), value.tolist())
        if isinstance(value, numpy.generic) and kind.__module__ == "numpy" and value.dtype.kind in "biuf":
            return value.item()
    raise NotPlainError(f"returned an object of type {kind.__module__}.{kind.__qualname__}")


def describe_plain(value: Any, limit: int = 120) -> str:
    """A short human-readable rendering of plain data for reports (cut to ``limit`` characters)."""
    if isinstance(value, dict) and TENSOR_TAG in value:
        record = value[TENSOR_TAG]
        text = f"tensor({record['data']}, dtype={record['dtype']})"
    elif isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        text = str(value)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def calls_reference(func: Any, module: str, qualname: str, _depth: int = 0) -> bool:
    """Does ``func`` call the function ``module.qualname`` (an exercise's reference)?

    Looks at the names ``func``'s code uses (nested functions and lambdas included), as globals,
    closure cells or attributes of a module it names, and follows the notebook's own helper
    functions a few levels deep. A plain wrapper (``def f(x): return ref(x)``, or
    ``m.ref(x)`` with ``m`` the module) is caught; a determined one (``getattr`` with a computed
    name) is not. Identity by module and qualified name: nothing is imported here.
    """
    if _depth > 3:
        return False
    target = getattr(func, "func", func)  # functools.partial
    if getattr(target, "__module__", None) == module and getattr(target, "__qualname__", None) == qualname:
        return True
    code = getattr(target, "__code__", None)
    if code is None:
        return False
    names, stack = set(), [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        names.update(current.co_freevars)
        stack.extend(c for c in current.co_consts if hasattr(c, "co_names"))
    seen = [getattr(target, "__globals__", {}).get(name) for name in names]
    seen += [cell.cell_contents for cell in (getattr(target, "__closure__", None) or ()) if _filled(cell)]
    for obj in seen:
        if type(obj).__name__ == "module":
            seen_in_module = [getattr(obj, name, None) for name in names]
            if any(getattr(o, "__module__", None) == module and getattr(o, "__qualname__", None) == qualname
                   for o in seen_in_module):
                return True
        elif callable(obj) and obj is not target and calls_reference(obj, module, qualname, _depth + 1):
            return True
    return False


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents
        return True
    except ValueError:  # an empty cell
        return False


def _first_line(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()
    return message[0][:300] if message else ""


def call_limited(func: Callable, args: tuple, kwargs: dict, seconds: float, watch_torch_rng: bool = False) -> dict:
    """Call ``func(*args, **kwargs)`` once and describe the outcome as plain data.

    Returns ``{"value": plain}`` or ``{"status": s, "error": type, "message": text}`` with status
    among "not attempted" (NotImplementedError), "time limit", "memory limit", "wrong type",
    "error". The time limit uses SIGALRM where it can (Unix, main thread) and is re-armed every
    half second so that a candidate that catches the first alarm is interrupted again.

    With ``watch_torch_rng``, a candidate that changes torch's global random generator (seeds it,
    or draws from it) gets an error instead of its value, and the generator is put back: an
    exercise that asks for a generator of one's own cannot tell it from the global one by the
    samples alone, since both seeded alike give the same stream.
    """
    torch = sys.modules.get("torch") if watch_torch_rng else None
    rng_before = torch.random.get_rng_state() if torch is not None else None
    outcome = _call_limited(func, args, kwargs, seconds)
    if rng_before is not None and not torch.equal(rng_before, torch.random.get_rng_state()):
        torch.random.set_rng_state(rng_before)
        if "value" in outcome:
            return {"status": "error", "error": "GlobalRandomState",
                    "message": "it changed torch's global random generator (torch.manual_seed, or a draw "
                               "without generator=): draw from a torch.Generator of your own"}
    return outcome


def _call_limited(func: Callable, args: tuple, kwargs: dict, seconds: float) -> dict:
    use_alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    previous = None
    if use_alarm:
        def _on_alarm(signum, frame):  # noqa: ARG001 - signal handler signature
            raise CaseTimeout()

        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)
    try:
        try:
            value = func(*args, **kwargs)
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0, 0)
        return {"value": to_plain(value)}
    except CaseTimeout:
        return {"status": "time limit", "error": "TimeoutError", "message": f"did not finish within {seconds:g} s"}
    except NotImplementedError:
        return {"status": "not attempted", "error": "NotImplementedError", "message": "the stub still raises NotImplementedError"}
    except MemoryError:
        return {"status": "memory limit", "error": "MemoryError", "message": "ran out of its memory limit"}
    except NotPlainError as exc:
        return {"status": "wrong type", "error": "TypeError", "message": str(exc)}
    except RecursionError as exc:
        return {"status": "error", "error": "RecursionError", "message": _first_line(exc)}
    except Exception as exc:  # learner code may raise anything; report it, never re-raise
        text = _first_line(exc)
        if type(exc).__name__ == "OutOfMemoryError" or "can't allocate memory" in text:
            return {"status": "memory limit", "error": type(exc).__name__, "message": text}
        return {"status": "error", "error": type(exc).__name__, "message": text}
    finally:
        if use_alarm and previous is not None:
            signal.signal(signal.SIGALRM, previous)


def _vm_bytes() -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def run_cases(func: Any, cases: Iterable[tuple[tuple, dict]], seconds: float, memory_mb: int,
              watch_torch_rng: bool = False) -> list[dict]:
    """Run every case through :func:`call_limited`, with the address space capped at what the
    process already uses plus ``memory_mb`` while the candidate runs (Linux), restored after."""
    if not callable(func):
        kind = type(func).__name__
        return [{"status": "error", "error": "TypeError", "message": f"expected a function, got {kind}"}
                for _ in cases]
    try:
        import resource
    except ImportError:  # Windows: no rlimits
        resource = None  # type: ignore[assignment]
    used = _vm_bytes()
    saved = None
    if resource is not None and used is not None:
        saved = resource.getrlimit(resource.RLIMIT_AS)
        cap = used + memory_mb * 1024 * 1024
        if saved[1] != resource.RLIM_INFINITY:
            cap = min(cap, saved[1])
        resource.setrlimit(resource.RLIMIT_AS, (cap, saved[1]))
    outcomes: list[dict] = []
    try:
        for args, kwargs in cases:
            if outcomes and outcomes[-1].get("status") == "time limit":
                # One hang is enough evidence; waiting out every remaining case would take minutes.
                outcomes.append({"status": "time limit", "error": "TimeoutError",
                                 "message": "not run: an earlier check hit the time limit"})
            else:
                outcomes.append(call_limited(func, args, kwargs, seconds, watch_torch_rng))
        return outcomes
    finally:
        if saved is not None:
            resource.setrlimit(resource.RLIMIT_AS, saved)
