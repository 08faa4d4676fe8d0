"""Priors ``p(z)`` over the latent codes, as objects.

A prior gives the log-density of codes, draws codes, and (where a closed
form exists) the KL divergence of a diagonal-Gaussian posterior from it.
:class:`~skae.VAETransformer` uses :class:`StandardNormal`.
"""

import math

import torch
from torch import nn

from .losses import gaussian_kl

_LOG_2PI = math.log(2.0 * math.pi)


class StandardNormal(nn.Module):
    """The standard normal prior ``N(0, I)``.

    Examples
    --------
    >>> import torch
    >>> from skae.priors import StandardNormal
    >>> prior = StandardNormal()
    >>> prior.kl(torch.zeros(2, 3), torch.zeros(2, 3))
    tensor([0., 0.])
    >>> prior.sample(4, 3, torch.Generator().manual_seed(0)).shape
    torch.Size([4, 3])
    """

    def log_prob(self, z):
        """Per-sample ``log p(z)`` in nats, summed over the last dimension."""
        return -0.5 * (_LOG_2PI + z**2).sum(dim=-1)

    def kl(self, mu, logvar):
        """Closed-form ``KL(N(mu, diag(exp(logvar))) || N(0, I))`` per sample."""
        return gaussian_kl(mu, logvar)

    def sample(self, n_samples, n_components, generator=None, dtype=torch.float32,
               device="cpu"):
        """Draw ``n_samples`` codes of ``n_components`` values."""
        return torch.randn(
            (n_samples, n_components), generator=generator, dtype=dtype, device=device
        )
