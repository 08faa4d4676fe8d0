"""Likelihood and prior objects, against torch.distributions."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Laplace, Normal, kl_divergence

from skae.likelihoods import LOSSES, VAE_LIKELIHOODS, get_likelihood, standardization_stats
from skae.losses import importance_weighted_terms
from skae.priors import StandardNormal


@pytest.fixture
def raw_and_x():
    g = torch.Generator().manual_seed(0)
    raw = torch.randn(5, 7, generator=g, dtype=torch.float64)
    x = torch.randn(5, 7, generator=g, dtype=torch.float64)
    return raw, x


def test_gaussian_log_prob_is_torch_normal(raw_and_x):
    """Check the Gaussian log-density, with a per-feature log-variance."""
    raw, x = raw_and_x
    logvar = torch.linspace(-1, 1, 7, dtype=torch.float64)
    expected = Normal(raw, torch.exp(0.5 * logvar)).log_prob(x).sum(-1)
    torch.testing.assert_close(LOSSES["mse"].log_prob(raw, x, logvar), expected)


def test_laplace_log_prob_is_torch_laplace(raw_and_x):
    raw, x = raw_and_x
    expected = Laplace(raw, 1.0).log_prob(x).sum(-1)
    torch.testing.assert_close(LOSSES["mae"].log_prob(raw, x), expected)


def test_bernoulli_log_prob_is_torch_bernoulli(raw_and_x):
    raw, _ = raw_and_x
    x = (torch.rand(5, 7, generator=torch.Generator().manual_seed(1)) > 0.5).double()
    expected = Bernoulli(logits=raw).log_prob(x).sum(-1)
    torch.testing.assert_close(LOSSES["bce"].log_prob(raw, x), expected)


@pytest.mark.parametrize("name", ["mse", "mae", "bce"])
def test_loss_is_negative_log_likelihood_up_to_affine_map(name, raw_and_x):
    """Check that each training loss is an affine function of minus the
    per-feature log-likelihood (unit variance, unit scale), so that training
    on the loss maximises the likelihood."""
    raw, x = raw_and_x
    if name == "bce":
        x = torch.sigmoid(x)
    likelihood = LOSSES[name]
    log_p = likelihood.log_prob(raw, x)
    loss = likelihood.loss(raw, x).sum(-1)
    n = x.shape[1]
    expected = {
        "mse": -2 * log_p - n * math.log(2 * math.pi),
        "mae": -log_p - n * math.log(2.0),
        "bce": -log_p,
    }[name]
    torch.testing.assert_close(loss, expected)


def test_likelihood_objects_say_how_to_scale_and_range():
    assert LOSSES["bce"] is VAE_LIKELIHOODS["bernoulli"]
    assert get_likelihood("bernoulli").bounded and not get_likelihood("bernoulli").standardize
    assert get_likelihood("gaussian").standardize and not get_likelihood("mae").bounded
    torch.testing.assert_close(get_likelihood("bce").mean(torch.zeros(2)), torch.full((2,), 0.5))
    with pytest.raises(ValueError, match="Unknown likelihood 'poisson'"):
        get_likelihood("poisson")
    with pytest.raises(ValueError, match="needs data in \\[0, 1\\]"):
        get_likelihood("bce").check_range(np.array([[2.0]]), "AE", "loss='bce'", "loss='mse'")


def test_standardization_stats_do_not_overflow():
    """Check chunked float64 statistics: exact on ordinary data, finite on
    float32 values near the top of its range (X.std overflows there)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 3)).astype(np.float32)
    mean, std = standardization_stats(X, chunk_rows=77)
    np.testing.assert_allclose(mean, X.astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(std, X.astype(np.float64).std(0), rtol=1e-12)
    big = np.array([[3e38], [-3e38]], dtype=np.float32)
    assert np.all(np.isfinite(standardization_stats(big)[1]))


def test_standard_normal_prior_matches_torch_distributions():
    prior = StandardNormal()
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    z = torch.randn(4, 3, generator=g)
    torch.testing.assert_close(prior.log_prob(z), Normal(0.0, 1.0).log_prob(z).sum(-1))
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(prior.kl(mu, logvar), expected)
    draws = prior.sample(20000, 2, torch.Generator().manual_seed(1))
    assert draws.mean().abs() < 0.02 and (draws.var() - 1).abs() < 0.03


def test_importance_weighted_terms_match_direct_computation():
    """Check the IWAE estimate against a direct evaluation with
    torch.distributions, and that chunking the draws changes nothing."""
    g = torch.Generator().manual_seed(0)
    n, d, K = 3, 2, 50
    mu, logvar = torch.randn(n, d, generator=g, dtype=torch.float64), \
        torch.randn(n, d, generator=g, dtype=torch.float64) * 0.3
    eps = torch.randn(K, n, d, generator=g, dtype=torch.float64)
    x = torch.randn(n, 4, generator=g, dtype=torch.float64)
    W = torch.randn(d, 4, generator=g, dtype=torch.float64)

    def log_likelihood(z):
        return Normal(z @ W, 1.0).log_prob(x).sum(-1)

    q = Normal(mu, torch.exp(0.5 * logvar))
    z = mu + torch.exp(0.5 * logvar) * eps
    log_w = log_likelihood(z) + Normal(0.0, 1.0).log_prob(z).sum(-1) - q.log_prob(z).sum(-1)
    expected = torch.logsumexp(log_w, 0) - math.log(K)
    log_px, rec = importance_weighted_terms(log_likelihood, StandardNormal(), mu, logvar, eps)
    torch.testing.assert_close(log_px, expected)
    torch.testing.assert_close(rec, log_likelihood(z).mean(0))
    chunked = importance_weighted_terms(log_likelihood, StandardNormal(), mu, logvar, eps, chunk=7)
    torch.testing.assert_close(chunked[0], log_px)
