"""Tests of the loss terms against independent computations."""

import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from skae.losses import (
    bernoulli_log_likelihood,
    elbo,
    feature_reconstruction_error,
    gaussian_kl,
    gaussian_log_likelihood,
    importance_weighted_log_likelihood,
    reconstruction_error,
)


pytestmark = pytest.mark.usefixtures("seeded_torch_rng")


@pytest.mark.parametrize(
    "loss, reference",
    [
        ("mse", torch.nn.functional.mse_loss),
        ("mae", torch.nn.functional.l1_loss),
        ("bce", torch.nn.functional.binary_cross_entropy_with_logits),
    ],
)
def test_reconstruction_errors_equal_torch_losses(loss, reference):
    """Check each reconstruction loss, per feature and per sample, against
    the torch.nn.functional loss of the same name."""
    output = torch.randn(5, 4, dtype=torch.float64)
    x = torch.rand(5, 4, dtype=torch.float64)
    per_feature = feature_reconstruction_error(output, x, loss)
    torch.testing.assert_close(per_feature, reference(output, x, reduction="none"))
    torch.testing.assert_close(reconstruction_error(output, x, loss), per_feature.mean(1))


def test_unknown_reconstruction_loss_is_named():
    with pytest.raises(ValueError, match="loss must be one of .*'huber'"):
        feature_reconstruction_error(torch.zeros(1, 2), torch.zeros(1, 2), "huber")


def _posterior(seed=0, n=4, d=3):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(n, d, generator=g, dtype=torch.float64)
    logvar = torch.randn(n, d, generator=g, dtype=torch.float64)
    return mu, logvar


def test_gaussian_kl_equals_torch_distributions():
    """Check that the closed-form KL equals torch's kl_divergence of the Normals."""
    mu, logvar = _posterior()
    expected = kl_divergence(
        Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros_like(mu), 1.0)
    ).sum(dim=-1)
    torch.testing.assert_close(gaussian_kl(mu, logvar), expected)


def test_gaussian_kl_equals_monte_carlo_within_standard_error():
    """Check that the closed-form KL agrees with E_q[log q(z) - log p(z)]
    estimated from 10^5 draws, within 4 standard errors."""
    mu, logvar = _posterior(seed=1)
    q = Normal(mu, torch.exp(0.5 * logvar))
    z = q.sample((100_000,))  # global RNG, seeded in a fork by the fixture
    log_ratio = (q.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).sum(dim=-1)
    estimate = log_ratio.mean(dim=0)
    standard_error = log_ratio.std(dim=0) / math.sqrt(len(z))
    assert torch.all((gaussian_kl(mu, logvar) - estimate).abs() < 4 * standard_error)


def test_gaussian_kl_is_zero_only_at_the_prior():
    """Check that the KL is 0 for N(0, I) and positive elsewhere."""
    zeros = torch.zeros(1, 3)
    assert gaussian_kl(zeros, zeros).item() == 0.0
    assert gaussian_kl(zeros + 0.1, zeros).item() > 0.0
    assert gaussian_kl(zeros, zeros - 0.1).item() > 0.0


@pytest.mark.parametrize("binary", [True, False])
def test_bernoulli_log_likelihood_equals_torch_distributions(binary):
    """Check that the Bernoulli term equals Bernoulli(logits).log_prob summed,
    for binary data and for grey levels (the cross-entropy)."""
    g = torch.Generator().manual_seed(0)
    logits = 5 * torch.randn(6, 10, generator=g, dtype=torch.float64)
    x = torch.rand(6, 10, generator=g, dtype=torch.float64)
    if binary:
        x = (x > 0.5).double()
    expected = Bernoulli(logits=logits, validate_args=False).log_prob(x).sum(dim=-1)
    torch.testing.assert_close(bernoulli_log_likelihood(logits, x), expected)


def test_bernoulli_log_likelihood_is_stable_for_large_logits():
    """Check that saturated logits give finite, exact log-likelihoods."""
    logits = torch.tensor([[100.0, -100.0]])
    right = bernoulli_log_likelihood(logits, torch.tensor([[1.0, 0.0]]))
    wrong = bernoulli_log_likelihood(logits, torch.tensor([[0.0, 0.0]]))
    torch.testing.assert_close(right, torch.tensor([0.0]))
    torch.testing.assert_close(wrong, torch.tensor([-100.0]))


@pytest.mark.parametrize("logvar_shape", ["scalar", "per_feature", "per_entry"])
def test_gaussian_log_likelihood_equals_torch_distributions(logvar_shape):
    """Check that the Gaussian term, constants included, equals
    Normal(mean, sigma).log_prob summed over features."""
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(6, 5, generator=g, dtype=torch.float64)
    x = torch.randn(6, 5, generator=g, dtype=torch.float64)
    logvar = {
        "scalar": torch.tensor(-0.7, dtype=torch.float64),
        "per_feature": torch.randn(5, generator=g, dtype=torch.float64),
        "per_entry": torch.randn(6, 5, generator=g, dtype=torch.float64),
    }[logvar_shape]
    expected = Normal(mean, torch.exp(0.5 * logvar)).log_prob(x).sum(dim=-1)
    torch.testing.assert_close(gaussian_log_likelihood(mean, x, logvar), expected)


def test_gaussian_log_likelihood_default_is_unit_variance():
    """Check that the default log-variance 0 is the standard normal density."""
    x = torch.tensor([[0.3, -1.2]], dtype=torch.float64)
    expected = Normal(0.0, 1.0).log_prob(x).sum(dim=-1)
    torch.testing.assert_close(gaussian_log_likelihood(torch.zeros_like(x), x), expected)


def test_elbo_weights_the_kl_by_beta():
    """Check that elbo = log-likelihood - beta * KL."""
    ll, kl = torch.tensor([-10.0, -4.0]), torch.tensor([2.0, 0.5])
    torch.testing.assert_close(elbo(ll, kl), ll - kl)
    torch.testing.assert_close(elbo(ll, kl, beta=4.0), ll - 4 * kl)


def test_importance_weighted_log_likelihood_is_log_mean_weight():
    """Check that the estimate is log(mean(w)) computed stably, and the
    plain mean of log-weights for K = 1."""
    g = torch.Generator().manual_seed(0)
    log_w = torch.randn(7, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(
        importance_weighted_log_likelihood(log_w), torch.log(torch.exp(log_w).mean(dim=0))
    )
    torch.testing.assert_close(importance_weighted_log_likelihood(log_w[:1]), log_w[0])
    # Log-weights of a 784-pixel image are around -100 nats: no underflow.
    shifted = importance_weighted_log_likelihood(log_w - 1000.0)
    torch.testing.assert_close(shifted, importance_weighted_log_likelihood(log_w) - 1000.0)
