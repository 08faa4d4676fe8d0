"""Tests of the Gaussian encoder, reparameterisation and VAE module, without skorch."""

import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal

from skae.modules import (
    GaussianEncoder,
    MLPDecoder,
    VariationalAutoEncoder,
    reparameterize,
)


pytestmark = pytest.mark.usefixtures("seeded_torch_rng")


@pytest.mark.parametrize("hidden", [(16, 8), ()])
def test_gaussian_encoder_returns_mean_and_logvar(hidden):
    """Check that the encoder maps (n, p) to two (n, d) tensors from separate heads."""
    enc = GaussianEncoder(6, hidden, 3)
    mu, logvar = enc(torch.randn(5, 6))
    assert mu.shape == logvar.shape == (5, 3)
    assert not torch.allclose(mu, logvar)


def test_gaussian_encoder_clamps_the_log_variance_of_far_samples():
    """Check that a sample far from anything seen gets a log-variance within
    LOGVAR_RANGE, so that exp(logvar) and a draw of z stay finite."""
    from skae.modules.gaussian import LOGVAR_RANGE

    enc = GaussianEncoder(6, (8,), 3, activation="elu")
    x = torch.cat([torch.randn(2, 6), 1e5 * torch.randn(2, 6)])
    raw = enc.logvar(enc.trunk(x))
    assert raw.abs().max() > 100  # unclamped, exp would overflow float32
    mu, logvar = enc(x)
    assert torch.all(logvar >= LOGVAR_RANGE[0]) and torch.all(logvar <= LOGVAR_RANGE[1])
    torch.testing.assert_close(logvar[:2], raw[:2])  # ordinary samples untouched
    assert torch.isfinite(reparameterize(mu, logvar)).all()


def test_reparameterize_has_the_asked_mean_and_variance():
    """Check that 10^5 draws have mean mu and variance exp(logvar), within
    4 standard errors."""
    mu = torch.tensor([[1.5, -2.0, 0.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.0, math.log(4.0), math.log(0.01)]], dtype=torch.float64)
    n = 100_000
    g = torch.Generator().manual_seed(0)
    z = reparameterize(mu, logvar, g, n_samples=n)
    assert z.shape == (n, 1, 3)
    var = torch.exp(logvar)
    assert torch.all((z.mean(dim=0) - mu).abs() < 4 * torch.sqrt(var / n))
    # The sample variance of a Normal has standard error var * sqrt(2 / n).
    assert torch.all((z.var(dim=0) - var).abs() < 4 * var * math.sqrt(2 / n))


def test_reparameterize_same_seed_same_draws():
    """Check that equal generator seeds give equal draws, different ones differ."""
    mu, logvar = torch.zeros(4, 2), torch.zeros(4, 2)
    draw = lambda seed: reparameterize(mu, logvar, torch.Generator().manual_seed(seed))
    torch.testing.assert_close(draw(3), draw(3), rtol=0, atol=0)
    assert not torch.allclose(draw(3), draw(4))


def test_reparameterize_is_differentiable_in_mu_and_logvar():
    """Check that the gradients are those of mu + exp(logvar / 2) * eps."""
    mu = torch.zeros(3, 2, requires_grad=True)
    logvar = torch.full((3, 2), 0.4, requires_grad=True)
    z = reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    eps = (z - mu) / torch.exp(0.5 * logvar)
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones(3, 2))
    torch.testing.assert_close(logvar.grad, (0.5 * torch.exp(0.5 * logvar) * eps).detach())


def _vae(likelihood="gaussian", decoder_logvar=0.0):
    output = "sigmoid" if likelihood == "bernoulli" else "identity"
    return VariationalAutoEncoder(
        GaussianEncoder(6, (8,), 2),
        MLPDecoder(2, (8,), 6, output_activation=output),
        likelihood=likelihood,
        decoder_logvar=decoder_logvar,
    )


def test_vae_forward_encode_decode():
    """Check forward's (x_hat_raw, mu, logvar), encode = mu and decode = mean."""
    vae = _vae("bernoulli")
    x = torch.rand(5, 6)
    x_hat, mu, logvar = vae(x, generator=torch.Generator().manual_seed(0))
    assert x_hat.shape == (5, 6) and mu.shape == logvar.shape == (5, 2)
    torch.testing.assert_close(vae.encode(x), mu)
    z = torch.randn(4, 2)
    torch.testing.assert_close(vae.decode(z), torch.sigmoid(vae.decoder(z)))


def test_vae_log_likelihood_matches_the_likelihood():
    """Check that log_likelihood is the Bernoulli or Gaussian log-probability
    of the decoder's output, with the module's variance."""
    x = torch.rand(5, 6)
    raw = torch.randn(5, 6)
    torch.testing.assert_close(
        _vae("bernoulli").log_likelihood(raw, x),
        Bernoulli(logits=raw, validate_args=False).log_prob(x).sum(dim=-1),
    )
    torch.testing.assert_close(
        _vae("gaussian", math.log(0.25)).log_likelihood(raw, x),
        Normal(raw, 0.5).log_prob(x).sum(dim=-1),
    )


def test_vae_learns_a_parameter_variance_and_fixes_a_float_one():
    """Check that an nn.Parameter log-variance is trained, a float one is a buffer."""
    fixed = _vae("gaussian", 0.0)
    assert "decoder_logvar" in dict(fixed.named_buffers())
    assert "decoder_logvar" not in dict(fixed.named_parameters())
    learned = _vae("gaussian", torch.nn.Parameter(torch.zeros(6)))
    assert "decoder_logvar" in dict(learned.named_parameters())


def test_vae_rejects_unknown_likelihood():
    """Check that a bad likelihood name is refused with its name in the message."""
    with pytest.raises(ValueError, match="likelihood must be one of.*'poisson'"):
        _vae("poisson")
