"""Corruption processes ``q(x~ | x)`` as pure functions of tensors.

Each function takes a batch ``X``, a noise level and a
:class:`torch.Generator`, and returns a corrupted copy (``X`` itself is
never modified). They know nothing of estimators, so that the tests can
check each process on its own, and users can call them directly.
:class:`skae.DenoisingAE` draws its training corruption from them.
"""

from numbers import Real

import torch

#: Corruptions whose level is a probability (of a feature being corrupted).
_PROBABILITY_NOISES = ("masking", "salt_and_pepper")


def check_noise_level(noise, level, caller_name="noise"):
    """Raise a ``ValueError`` unless ``level`` suits the corruption ``noise``.

    Gaussian noise takes a standard deviation (``level >= 0``); masking and
    salt-and-pepper take the probability that a feature is corrupted,
    ``0 <= level < 1`` (at 1 nothing of the input would be left).

    Parameters
    ----------
    noise : str
        Name of the corruption, a key of :data:`NOISES`.
    level : float
        The noise level to check.
    caller_name : str, default="noise"
        Used in error messages.

    Examples
    --------
    >>> from skae.noise import check_noise_level
    >>> check_noise_level("masking", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: noise: noise_level is the probability that a feature is corrupted and must be in [0, 1) for noise='masking', got 1.0.
    """
    if not isinstance(level, Real) or isinstance(level, bool):
        raise ValueError(
            f"{caller_name}: noise_level must be a real number, got {level!r}."
        )
    if noise in _PROBABILITY_NOISES:
        if not 0 <= level < 1:
            raise ValueError(
                f"{caller_name}: noise_level is the probability that a feature "
                f"is corrupted and must be in [0, 1) for noise={noise!r}, got "
                f"{level}."
            )
    elif not level >= 0:
        raise ValueError(
            f"{caller_name}: noise_level is a standard deviation and must be "
            f">= 0 for noise={noise!r}, got {level}."
        )


def _uniform(X, generator):
    return torch.rand(X.shape, generator=generator, dtype=X.dtype, device=X.device)


def gaussian_noise(X, level, generator=None):
    """Additive isotropic Gaussian noise: ``X + eps``, ``eps ~ N(0, level**2 I)``.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
        Clean batch.
    level : float
        Standard deviation of the noise, in the units of ``X``.
    generator : torch.Generator, default=None
        Source of randomness (on ``X``'s device); None uses torch's global
        generator.

    Returns
    -------
    Tensor of the shape, dtype and device of ``X``

    Examples
    --------
    >>> import torch
    >>> from skae.noise import gaussian_noise
    >>> g = torch.Generator().manual_seed(0)
    >>> gaussian_noise(torch.zeros(4, 3), 0.1, g).shape
    torch.Size([4, 3])
    """
    check_noise_level("gaussian", level)
    eps = torch.randn(X.shape, generator=generator, dtype=X.dtype, device=X.device)
    return X + level * eps


def masking_noise(X, level, generator=None):
    """Zero-masking noise: each value set to 0 with probability ``level``.

    The corruption of the denoising autoencoder of Vincent et al. [1]_:
    independently for every sample and feature.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
        Clean batch.
    level : float in [0, 1)
        Probability that a value is masked.
    generator : torch.Generator, default=None
        Source of randomness (on ``X``'s device).

    Returns
    -------
    Tensor of the shape, dtype and device of ``X``

    References
    ----------
    .. [1] P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol,
       "Extracting and composing robust features with denoising
       autoencoders", ICML 2008.

    Examples
    --------
    >>> import torch
    >>> from skae.noise import masking_noise
    >>> g = torch.Generator().manual_seed(0)
    >>> masking_noise(torch.ones(4, 3), 0.5, g).shape
    torch.Size([4, 3])
    """
    check_noise_level("masking", level)
    return X.masked_fill(_uniform(X, generator) < level, 0.0)


def salt_and_pepper_noise(X, level, generator=None, *, low=None, high=None):
    """Salt-and-pepper noise: values replaced by their feature's extremes.

    Each value is, with probability ``level``, replaced by its feature's
    minimum or maximum (each with probability ``level / 2``), and kept
    otherwise [1]_.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
        Clean batch.
    level : float in [0, 1)
        Probability that a value is replaced.
    generator : torch.Generator, default=None
        Source of randomness (on ``X``'s device).
    low, high : array-like of shape (n_features,), default=None
        Per-feature "pepper" and "salt" values, typically the minimum and
        maximum of each feature over the training data. None uses the
        minimum or maximum of each column of ``X`` itself.

    Returns
    -------
    Tensor of the shape, dtype and device of ``X``

    References
    ----------
    .. [1] P. Vincent, H. Larochelle, I. Lajoie, Y. Bengio and
       P.-A. Manzagol, "Stacked denoising autoencoders", JMLR 11, 2010.

    Examples
    --------
    >>> import torch
    >>> from skae.noise import salt_and_pepper_noise
    >>> g = torch.Generator().manual_seed(0)
    >>> X = torch.rand(4, 3, generator=g)
    >>> salt_and_pepper_noise(X, 0.5, g, low=torch.zeros(3), high=torch.ones(3)).shape
    torch.Size([4, 3])
    """
    check_noise_level("salt_and_pepper", level)
    low = X.amin(dim=0) if low is None else torch.as_tensor(low, dtype=X.dtype, device=X.device)
    high = X.amax(dim=0) if high is None else torch.as_tensor(high, dtype=X.dtype, device=X.device)
    # One uniform draw decides both whether and how a value is replaced:
    # [0, level/2) -> low, [level/2, level) -> high, the rest -> kept.
    u = _uniform(X, generator)
    return torch.where(u < level / 2, low, torch.where(u < level, high, X))


#: The built-in corruptions, by the name :class:`skae.DenoisingAE` takes.
NOISES = {
    "gaussian": gaussian_noise,
    "masking": masking_noise,
    "salt_and_pepper": salt_and_pepper_noise,
}


class Corruption:
    """The denoising autoencoder's corruption, as a per-batch transform of
    the data path.

    Called on a clean training batch ``X`` (in the data's units, on the
    device), it returns the keyword arguments of the model:
    ``{"X": X~, "target": X}`` with ``X~ ~ q(x~ | x)`` drawn in the
    network's units (standardised, when ``center`` and ``scale`` are
    given) and returned in the data's units, and the batch repeated
    ``n_noise_samples`` times. It holds its own seeded generator, which
    pickles with the fitted net and continues its stream.

    Parameters
    ----------
    noise : str or callable
        A key of :data:`NOISES`, or ``noise(X, generator) -> X~``.
    level : float
        The noise level (ignored for a callable).
    n_noise_samples : int, default=1
        Corruptions of each sample per batch.
    center, scale : ndarray of shape (n_features,), default=None
        The standardisation of the network's first layer.
    low, high : ndarray of shape (n_features,), default=None
        The salt-and-pepper values, in the network's units.
    seed : int, default=0
        Seed of the draws.
    caller_name : str, default="DenoisingAE"
        Used in error messages.

    Examples
    --------
    >>> import torch
    >>> from skae.noise import Corruption
    >>> batch = Corruption("masking", 0.5, n_noise_samples=2, seed=0)(torch.ones(4, 3))
    >>> batch["X"].shape, batch["target"].shape
    (torch.Size([8, 3]), torch.Size([8, 3]))
    """

    def __init__(self, noise, level, n_noise_samples=1, center=None, scale=None, low=None,
                 high=None, seed=0, caller_name="DenoisingAE"):
        from .utils.random import TorchGenerator

        self.noise = noise
        self.level = level
        self.n_noise_samples = n_noise_samples
        self.center = center
        self.scale = scale
        self.low = low
        self.high = high
        self.caller_name = caller_name
        self.generator = TorchGenerator(seed)
        self._tensors = {}

    def _as(self, name, X):
        # The attribute ``name`` on the batch's device and in its dtype, made
        # once, not at every batch.
        key = (name, X.dtype, X.device)
        if key not in self._tensors:
            self._tensors[key] = torch.as_tensor(
                getattr(self, name), dtype=X.dtype, device=X.device
            )
        return self._tensors[key]

    def __getstate__(self):
        return {**self.__dict__, "_tensors": {}}

    def corrupt(self, X, generator):
        """``X~`` for a clean batch ``X`` (data units), drawn from ``generator``."""
        standardized = self.center is not None
        X_raw = X
        if standardized:
            center, scale = self._as("center", X), self._as("scale", X)
            X = (X - center) / scale
        noise = self.noise
        if callable(noise):
            # A copy, so that a callable working in place cannot reach the
            # clean batch (which is also the target).
            out = noise(X.clone(), generator)
            if not isinstance(out, torch.Tensor) or out.shape != X.shape:
                shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                raise ValueError(
                    f"{self.caller_name}: the noise callable must return a "
                    f"tensor of the batch's shape {tuple(X.shape)}, got {shape}."
                )
            if not torch.isfinite(out).all():
                raise ValueError(
                    f"{self.caller_name}: the noise callable returned NaN or infinite "
                    "values; it must return a finite corrupted copy of the batch."
                )
        elif noise == "salt_and_pepper":
            out = salt_and_pepper_noise(
                X, self.level, generator, low=self._as("low", X), high=self._as("high", X)
            )
        else:
            out = NOISES[noise](X, self.level, generator)
        if not standardized:
            return out
        # The change, mapped back to the data's units and added to the clean
        # batch: entries the noise leaves alone come back bit for bit.
        return X_raw + (out - X) * scale

    def __call__(self, X):
        if self.n_noise_samples > 1:
            X = X.repeat(self.n_noise_samples, *([1] * (X.dim() - 1)))
        return {"X": self.corrupt(X, self.generator.get(X.device)), "target": X}
