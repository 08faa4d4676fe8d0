"""Shared fixtures: small datasets and the devices to test on."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

# The suite's networks are small: one intra-op thread trains them as fast as
# two, and avoids oversubscribing the cores when GridSearchCV runs n_jobs=2.
torch.set_num_threads(1)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    """Every available device: CPU always, CUDA when present."""
    return request.param


@pytest.fixture(scope="session")
def digits_split():
    """Digits (pixel values 0..16) split 75/25, with labels."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


@pytest.fixture
def blobs():
    """A small float64 dataset with structure in 10 dimensions."""
    rng = np.random.RandomState(0)
    latent = rng.normal(size=(120, 2))
    mixing = rng.normal(size=(2, 10))
    return np.tanh(latent @ mixing) + 0.05 * rng.normal(size=(120, 10))


@pytest.fixture
def seeded_torch_rng():
    """Seed torch's global RNG inside a fork, for tests that (or whose
    modules' weight initialisation) draw from it: they neither depend on
    nor leak its state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        yield
