"""Tests of the corruption processes in skae.noise."""

import numpy as np
import pytest
import torch

from skae.noise import gaussian_noise, masking_noise, salt_and_pepper_noise

# Enough values that a binomial proportion is known to about +-0.002.
SHAPE = (400, 250)
N_VALUES = SHAPE[0] * SHAPE[1]


def _binomial_bound(p, n=N_VALUES, z=5.0):
    """Half-width of a z-sigma confidence interval of a binomial proportion."""
    return z * np.sqrt(p * (1 - p) / n)


def _generator(seed=0):
    return torch.Generator().manual_seed(seed)


def _clean(dtype=torch.float64):
    # Values in [1, 2): none is 0, so that every masked value shows.
    return 1.0 + torch.rand(SHAPE, generator=_generator(123), dtype=dtype)


@pytest.mark.parametrize("level", [0.05, 0.3, 0.75])
def test_masking_fraction_matches_level(level):
    """Check that each value is masked to 0 with probability `level` and
    kept unchanged otherwise."""
    X = _clean()
    out = masking_noise(X, level, _generator())
    masked = out == 0
    assert abs(masked.double().mean().item() - level) < _binomial_bound(level)
    assert torch.equal(out[~masked], X[~masked])


@pytest.mark.parametrize("level", [0.1, 0.6])
def test_salt_and_pepper_fraction_and_values(level):
    """Check that a fraction `level` of the values is replaced, half by the
    feature's `low`, half by its `high`, with exactly those values."""
    X = _clean()
    low = torch.linspace(-3.0, -1.0, SHAPE[1], dtype=torch.float64)
    high = torch.linspace(5.0, 7.0, SHAPE[1], dtype=torch.float64)
    out = salt_and_pepper_noise(X, level, _generator(), low=low, high=high)

    is_low = out == low
    is_high = out == high
    kept = out == X
    # Every value is exactly one of: kept, the feature's low, its high.
    assert torch.all(is_low.int() + is_high.int() + kept.int() == 1)
    assert abs((~kept).double().mean().item() - level) < _binomial_bound(level)
    for part in (is_low, is_high):
        assert abs(part.double().mean().item() - level / 2) < _binomial_bound(level / 2)


def test_salt_and_pepper_defaults_to_column_extremes():
    """Check that without `low`/`high` the values are the per-feature
    minimum and maximum of the batch itself."""
    X = _clean()
    out = salt_and_pepper_noise(X, 0.5, _generator())
    changed = out != X
    lo, hi = X.amin(dim=0).expand_as(X), X.amax(dim=0).expand_as(X)
    assert torch.all((out[changed] == lo[changed]) | (out[changed] == hi[changed]))
    assert changed.any()


@pytest.mark.parametrize("level", [0.01, 0.5, 3.0])
def test_gaussian_noise_has_requested_std(level):
    """Check that the added noise is centred with standard deviation
    `level` (sample std within 5 sigma of its sampling error)."""
    X = _clean()
    eps = gaussian_noise(X, level, _generator()) - X
    # The sample std of N values has relative standard error ~ 1/sqrt(2N).
    assert abs(eps.std().item() / level - 1) < 5 / np.sqrt(2 * N_VALUES)
    assert abs(eps.mean().item()) < 5 * level / np.sqrt(N_VALUES)


@pytest.mark.parametrize(
    "noise, kwargs",
    [
        (gaussian_noise, {}),
        (masking_noise, {}),
        (salt_and_pepper_noise, {}),
        (salt_and_pepper_noise, {"low": np.zeros(SHAPE[1]), "high": np.ones(SHAPE[1])}),
    ],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_noise_is_pure_and_seeded(noise, kwargs, dtype):
    """Check that a corruption leaves its input unchanged, keeps shape and
    dtype, and depends only on the generator's seed."""
    X = _clean(dtype)
    X_before = X.clone()
    a = noise(X, 0.3, _generator(1), **kwargs)
    b = noise(X, 0.3, _generator(1), **kwargs)
    c = noise(X, 0.3, _generator(2), **kwargs)
    assert torch.equal(X, X_before)
    assert a.shape == X.shape and a.dtype == dtype
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("noise", [gaussian_noise, masking_noise, salt_and_pepper_noise])
def test_zero_level_is_identity(noise):
    """Check that a noise level of 0 returns the input's values."""
    X = _clean()
    assert torch.equal(noise(X, 0.0, _generator()), X)


@pytest.mark.parametrize(
    "noise, level, match",
    [
        (gaussian_noise, -0.1, r"standard deviation and must be >= 0 for noise='gaussian', got -0.1"),
        (masking_noise, 1.0, r"must be in \[0, 1\) for noise='masking', got 1.0"),
        (masking_noise, -0.2, r"must be in \[0, 1\) for noise='masking', got -0.2"),
        (salt_and_pepper_noise, 1.5, r"must be in \[0, 1\) for noise='salt_and_pepper'"),
        (gaussian_noise, "high", r"noise_level must be a real number, got 'high'"),
    ],
)
def test_bad_noise_level_raises(noise, level, match):
    """Check that an out-of-range level raises a ValueError naming it."""
    with pytest.raises(ValueError, match=match):
        noise(_clean(), level, _generator())
