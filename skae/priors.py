"""Priors ``p(z)`` over the latent codes, as objects.

A prior draws codes and gives their log-density, and (where a closed
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

    def __init__(self):
        super().__init__()

    def log_prob(self, z):
        """Per-sample ``log p(z)`` in nats, summed over the last dimension.

        Parameters
        ----------
        z : Tensor of shape (..., n_components)
            Codes.

        Returns
        -------
        Tensor of shape (...)
        """
        return -0.5 * (_LOG_2PI + z**2).sum(dim=-1)

    def kl(self, mu, logvar):
        """Closed-form ``KL(N(mu, diag(exp(logvar))) || N(0, I))`` per sample.

        Parameters
        ----------
        mu, logvar : Tensor of shape (n_samples, n_components)
            Mean and log-variance of the posterior.

        Returns
        -------
        Tensor of shape (n_samples,)
        """
        return gaussian_kl(mu, logvar)

    def sample(self, n_samples, n_components, generator=None, dtype=torch.float32,
               device="cpu"):
        """Draw ``n_samples`` codes of ``n_components`` values.

        Parameters
        ----------
        n_samples, n_components : int
            Number and width of the draws.
        generator : torch.Generator, default=None
            Source of the draws.
        dtype : torch.dtype, default=torch.float32
            Their type.
        device : str or torch.device, default="cpu"
            Their device.

        Returns
        -------
        Tensor of shape (n_samples, n_components)
        """
        return torch.randn(
            (n_samples, n_components), generator=generator, dtype=dtype, device=device
        )


# ----------------------------------------------------------------------
# Priors of the adversarial autoencoders: they only have to be sampled.
# ----------------------------------------------------------------------
class _SampledPrior(nn.Module):
    """A prior of a fixed dimension drawn by ``sample(n, generator)``:
    subclasses give ``_draw(n_samples, generator, device)``."""

    def sample(self, n_samples, generator=None):
        """Draw ``n_samples`` codes with ``generator`` (on its device).

        Parameters
        ----------
        n_samples : int
            Number of draws.
        generator : torch.Generator, default=None
            Source of the draws; None uses torch's global generator.

        Returns
        -------
        Tensor of shape (n_samples, n_components)
        """
        device = generator.device if generator is not None else "cpu"
        return self._draw(n_samples, generator, device)


class GaussianMixture(_SampledPrior):
    """An equal-weight mixture of ``n_modes`` Gaussians, means on a circle.

    In 2-D the means lie evenly on a circle of radius ``radius`` and each
    mode is stretched along the circle (standard deviations
    ``tangential_std`` and ``radial_std``), as in the 10-mode figure of
    Makhzani et al. (2015). In ``n_components > 2`` dimensions the first two
    coordinates are those of the 2-D mixture and the others are standard
    normal, scaled by ``radial_std``.

    Parameters
    ----------
    n_components : int
        Dimension of the codes.
    n_modes : int, default=10
        Number of mixture components.
    radius : float, default=4.0
        Distance of the means from the origin.
    radial_std, tangential_std : float, default=0.5 and 1.0
        Standard deviations of each mode across and along the circle.

    Examples
    --------
    >>> import torch
    >>> from skae.priors import GaussianMixture
    >>> prior = GaussianMixture(2, n_modes=10)
    >>> prior.sample(5, torch.Generator().manual_seed(0)).shape
    torch.Size([5, 2])
    >>> prior.log_prob(torch.zeros(3, 2)).shape
    torch.Size([3])
    """

    def __init__(self, n_components, n_modes=10, radius=4.0, radial_std=0.5,
                 tangential_std=1.0):
        super().__init__()
        self.n_components = n_components
        self.n_modes = n_modes
        self.radius = radius
        self.radial_std = radial_std
        self.tangential_std = tangential_std

    def _components(self, dtype, device):
        angle = 2 * math.pi * torch.arange(self.n_modes, dtype=torch.float64) / self.n_modes
        means = torch.zeros(self.n_modes, self.n_components, dtype=torch.float64)
        radial = torch.zeros_like(means)
        tangential = torch.zeros_like(means)
        if self.n_components == 1:
            means[:, 0] = self.radius * torch.linspace(-1, 1, self.n_modes, dtype=torch.float64)
            radial[:, 0] = 1.0
        else:
            means[:, 0], means[:, 1] = self.radius * angle.cos(), self.radius * angle.sin()
            radial[:, 0], radial[:, 1] = angle.cos(), angle.sin()
            tangential[:, 0], tangential[:, 1] = -angle.sin(), angle.cos()
        # Covariance: radial_std^2 across, tangential_std^2 along the circle,
        # radial_std^2 in the remaining dimensions.
        eye = torch.eye(self.n_components, dtype=torch.float64)
        cov = self.radial_std**2 * eye.expand(self.n_modes, -1, -1).clone()
        cov += (self.tangential_std**2 - self.radial_std**2) * (
            tangential.unsqueeze(2) * tangential.unsqueeze(1)
        )
        scale_tril = torch.linalg.cholesky(cov)
        return means.to(device, dtype), scale_tril.to(device, dtype)

    def _distribution(self, dtype, device):
        means, scale_tril = self._components(dtype, device)
        return torch.distributions.MixtureSameFamily(
            torch.distributions.Categorical(
                logits=torch.zeros(self.n_modes, dtype=dtype, device=device)
            ),
            torch.distributions.MultivariateNormal(means, scale_tril=scale_tril),
        )

    def _draw(self, n_samples, generator, device):
        means, scale_tril = self._components(torch.float32, device)
        mode = torch.randint(self.n_modes, (n_samples,), generator=generator, device=device)
        eps = torch.randn(n_samples, self.n_components, generator=generator, device=device)
        return means[mode] + (scale_tril[mode] @ eps.unsqueeze(2)).squeeze(2)

    def log_prob(self, z):
        """Per-sample ``log p(z)`` in nats.

        Parameters
        ----------
        z : Tensor of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        Tensor of shape (n_samples,)
        """
        return self._distribution(z.dtype, z.device).log_prob(z)


class Uniform(_SampledPrior):
    """Independent uniform coordinates on ``[low, high]``.

    Parameters
    ----------
    n_components : int
        Dimension of the codes.
    low, high : float, default=-2.0 and 2.0
        Bounds of each coordinate.

    Examples
    --------
    >>> import torch
    >>> from skae.priors import Uniform
    >>> z = Uniform(3).sample(100, torch.Generator().manual_seed(0))
    >>> z.shape, bool(z.abs().max() <= 2)
    (torch.Size([100, 3]), True)
    """

    def __init__(self, n_components, low=-2.0, high=2.0):
        super().__init__()
        self.n_components = n_components
        self.low = low
        self.high = high

    def _draw(self, n_samples, generator, device):
        u = torch.rand(n_samples, self.n_components, generator=generator, device=device)
        return self.low + (self.high - self.low) * u


class SwissRoll(_SampledPrior):
    """A 2-D swiss roll: a spiral band, the codes' position along it uniform.

    Parameters
    ----------
    n_turns : float, default=1.5
        Turns of the spiral.
    scale : float, default=4.0
        Radius of its outer end.
    noise : float, default=0.1
        Standard deviation of the Gaussian width of the band.

    Examples
    --------
    >>> import torch
    >>> from skae.priors import SwissRoll
    >>> SwissRoll().sample(5, torch.Generator().manual_seed(0)).shape
    torch.Size([5, 2])
    """

    n_components = 2

    def __init__(self, n_turns=1.5, scale=4.0, noise=0.1):
        super().__init__()
        self.n_turns = n_turns
        self.scale = scale
        self.noise = noise

    def _draw(self, n_samples, generator, device):
        # sqrt of a uniform: uniform density per unit length of the spiral
        # (its length element grows linearly with the radius).
        t = torch.rand(n_samples, generator=generator, device=device).sqrt()
        angle = 2 * math.pi * self.n_turns * t
        eps = torch.randn(n_samples, 2, generator=generator, device=device)
        points = self.scale * t.unsqueeze(1) * torch.stack([angle.cos(), angle.sin()], dim=1)
        return points + self.noise * eps


class Categorical(_SampledPrior):
    """One-hot vectors of ``n_categories`` equally likely categories.

    Parameters
    ----------
    n_categories : int
        Number of categories (clusters).

    Examples
    --------
    >>> import torch
    >>> from skae.priors import Categorical
    >>> Categorical(4).sample(3, torch.Generator().manual_seed(0)).sum(dim=1)
    tensor([1., 1., 1.])
    """

    def __init__(self, n_categories):
        super().__init__()
        self.n_categories = n_categories

    @property
    def n_components(self):
        return self.n_categories

    def _draw(self, n_samples, generator, device):
        k = torch.randint(self.n_categories, (n_samples,), generator=generator, device=device)
        return nn.functional.one_hot(k, self.n_categories).to(torch.float32)


class Gaussian(_SampledPrior, StandardNormal):
    """The standard normal prior of a fixed dimension, drawn by ``sample(n, generator)``.

    Parameters
    ----------
    n_components : int
        Dimension of the codes.

    Examples
    --------
    >>> import torch
    >>> from skae.priors import Gaussian
    >>> Gaussian(3).sample(4, torch.Generator().manual_seed(0)).shape
    torch.Size([4, 3])
    """

    def __init__(self, n_components):
        super().__init__()
        self.n_components = n_components

    def _draw(self, n_samples, generator, device):
        return torch.randn(n_samples, self.n_components, generator=generator, device=device)


class _UserPrior(nn.Module):
    """A user's prior object (anything with ``sample(n, generator)``), its
    draws checked: a float tensor of shape ``(n, n_components)``."""

    def __init__(self, prior, n_components, caller_name):
        super().__init__()
        self.prior = prior
        self.n_components = n_components
        self.caller_name = caller_name
        if hasattr(prior, "log_prob"):
            self.log_prob = prior.log_prob

    def sample(self, n_samples, generator=None):
        device = generator.device if generator is not None else "cpu"
        draws = self.prior.sample(n_samples, generator)
        try:
            draws = torch.as_tensor(draws, dtype=torch.float32, device=device)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(
                f"{self.caller_name}: prior.sample(n, generator) must return an array "
                f"or tensor of floats, got {type(draws).__name__}."
            ) from exc
        if draws.shape != (n_samples, self.n_components):
            raise ValueError(
                f"{self.caller_name}: prior.sample({n_samples}, generator) returned "
                f"shape {tuple(draws.shape)}, expected ({n_samples}, "
                f"{self.n_components}) (n_samples, n_components)."
            )
        if not torch.isfinite(draws).all():
            raise ValueError(f"{self.caller_name}: prior.sample returned NaN or inf values.")
        return draws


def make_prior(prior, n_components, n_modes=10, caller_name="estimator"):
    """The prior object that an adversarial autoencoder's ``prior`` names.

    Parameters
    ----------
    prior : {"gaussian", "mixture", "uniform", "swiss_roll"} or object
        A name, or an object with a ``sample(n, generator)`` method
        returning ``n`` codes (a tensor or array of shape ``(n,
        n_components)``) drawn with the :class:`torch.Generator`
        ``generator``.
    n_components : int
        Dimension of the codes.
    n_modes : int, default=10
        Modes of ``"mixture"``.
    caller_name : str
        Used in error messages.

    Returns
    -------
    prior : nn.Module
        With ``sample(n, generator)`` and, where the density is known,
        ``log_prob(z)``.
    """
    if isinstance(prior, str):
        if prior == "gaussian":
            return Gaussian(n_components)
        if prior == "mixture":
            return GaussianMixture(n_components, n_modes)
        if prior == "uniform":
            return Uniform(n_components)
        if prior == "swiss_roll":
            if n_components != 2:
                raise ValueError(
                    f"{caller_name}: prior='swiss_roll' is 2-D and needs "
                    f"n_components=2, got n_components={n_components}."
                )
            return SwissRoll()
        raise ValueError(
            f"{caller_name}: prior must be 'gaussian', 'mixture', 'uniform', "
            f"'swiss_roll' or an object with a sample(n, generator) method, got {prior!r}."
        )
    return _UserPrior(prior, n_components, caller_name)
