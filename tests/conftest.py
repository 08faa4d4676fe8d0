"""Shared fixtures of the skae tests."""

import pytest
import torch


@pytest.fixture
def seeded_torch_rng():
    """Seed torch's global RNG inside a fork, for tests that (or whose
    modules' weight initialisation) draw from it: they neither depend on
    nor leak its state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        yield
