"""One call that makes a notebook's randomness repeatable, so strict nbval compares real outputs."""

from __future__ import annotations

import os
import random


def seed_everything(seed: int = 0, threads: int | None = 1) -> int:
    """Seed Python's, NumPy's and torch's generators and fix torch's CPU thread count.

    A fixed thread count matters because floating-point reductions split across a different
    number of threads add in a different order and can change the last digits of a result.
    ``threads=None`` leaves torch's thread count alone. Returns the seed.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an int in [0, 2**63), got {seed!r}")  # torch's seed is 64-bit
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses; this interpreter's is already set
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:
        pass
    try:
        import torch

        torch.manual_seed(seed)
        if threads is not None:
            torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(True, warn_only=True)
    except ImportError:
        pass
    return seed
