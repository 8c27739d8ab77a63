"""seed_everything makes Python's, NumPy's and torch's draws repeat, and rejects bad seeds."""

import random

import numpy as np
import pytest
import torch

from coderl_lessons.seeding import seed_everything


def draws():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_same_seed_same_draws_other_seed_other_draws():
    seed_everything(3)
    first = draws()
    seed_everything(3)
    assert draws() == first
    seed_everything(4)
    assert draws() != first
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, None])
def test_bad_seed_is_rejected(bad):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(bad)


def test_bad_thread_count_is_rejected():
    with pytest.raises(ValueError, match="threads"):
        seed_everything(0, threads=0)


def test_a_seed_torch_cannot_take_is_refused_before_anything_is_seeded():
    random.seed(5)
    state = random.getstate()
    with pytest.raises(ValueError, match=r"seed must be an int in \[0, 2\*\*63\)"):
        seed_everything(2**64)
    assert random.getstate() == state  # Python's generator was not reseeded half-way
    with pytest.raises(ValueError, match="threads must be a positive int"):
        seed_everything(0, threads=True)
