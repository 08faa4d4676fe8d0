"""Observation models ``p(x | x_hat)``: one object per likelihood.

Each object knows, for its likelihood, the per-feature training loss of the
decoder's raw output, the output activation that turns that raw output into
the reconstruction's mean, its log-density in nats, whether the data are
standardised by default, and which values the data may take. Every skae
estimator and :class:`~skae.AEOutlierDetector` go through these objects,
never through the likelihood's name.

The losses are the negative log-likelihoods up to a constant and a scale:
squared error for the Gaussian (unit variance: ``log p = -loss/2 - log(2
pi)/2``), absolute error for the Laplace (unit scale: ``log p = -loss - log
2``), cross-entropy for the Bernoulli (``log p = -loss``).
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from .utils.validation import check_unit_interval

_LOG_2PI = math.log(2.0 * math.pi)


class Likelihood:
    """Base class of the observation models (see the module docstring).

    Attributes
    ----------
    name : str
        The name used by the estimators' ``loss`` (or ``likelihood``)
        parameter.
    standardize : bool
        Whether ``standardize="auto"`` standardises the data for it.
    bounded : bool
        Whether the data must lie in [0, 1].
    units : str
        What the per-feature loss, the reconstruction autoencoders' score
        (minus its mean over features), measures.
    """

    name = None
    standardize = True
    bounded = False
    units = None

    def loss(self, raw, x):
        """Per-feature training loss of the decoder's raw output ``raw``."""
        raise NotImplementedError

    def mean(self, raw):
        """The reconstruction's mean from the decoder's raw output."""
        return raw

    def log_prob(self, raw, x, logvar=0.0):
        """Per-sample log-likelihood of ``x`` in nats (summed over features)."""
        raise NotImplementedError

    def fit_scale(self, mean_loss):
        """Maximum-likelihood noise scale from the mean per-feature loss of
        the training data (None for a likelihood without one)."""
        return None

    def log_prob_scaled(self, raw, x, scale):
        """Per-sample log-likelihood in nats with the noise scale ``scale``
        (a float, the same for every feature), summed over features."""
        return self.log_prob(raw, x)

    def check_range(self, X, caller_name, reason, alternative):
        """Raise a ``ValueError`` if ``X`` holds values this model cannot have."""
        if self.bounded:
            check_unit_interval(X, caller_name, reason, alternative)

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))


class Gaussian(Likelihood):
    """Gaussian observations: squared error (``loss="mse"``)."""

    name = "mse"
    units = "squared error, in the units the network sees"

    def loss(self, raw, x):
        return (raw - x) ** 2

    def log_prob(self, raw, x, logvar=0.0):
        logvar = torch.as_tensor(logvar, dtype=raw.dtype, device=raw.device)
        per_feature = _LOG_2PI + logvar + (x - raw) ** 2 * torch.exp(-logvar)
        return -0.5 * per_feature.sum(dim=-1)

    def fit_scale(self, mean_loss):
        # The standard deviation: the root of the mean squared error.
        return math.sqrt(mean_loss)

    def log_prob_scaled(self, raw, x, scale):
        return self.log_prob(raw, x, 2.0 * math.log(scale))


class Laplace(Likelihood):
    """Laplace observations: absolute error (``loss="mae"``)."""

    name = "mae"
    units = "absolute error, in the units the network sees"

    def loss(self, raw, x):
        return (raw - x).abs()

    def log_prob(self, raw, x, logvar=0.0):
        return -((raw - x).abs() + math.log(2.0)).sum(dim=-1)

    def fit_scale(self, mean_loss):
        # The Laplace scale b: the mean absolute error.
        return float(mean_loss)

    def log_prob_scaled(self, raw, x, scale):
        return -((raw - x).abs() / scale + math.log(2.0 * scale)).sum(dim=-1)


class Bernoulli(Likelihood):
    """Bernoulli observations in [0, 1]: cross-entropy of logits (``loss="bce"``)."""

    name = "bce"
    units = "cross-entropy in nats per feature"
    standardize = False
    bounded = True

    def loss(self, raw, x):
        return F.binary_cross_entropy_with_logits(raw, x, reduction="none")

    def mean(self, raw):
        return torch.sigmoid(raw)

    def log_prob(self, raw, x, logvar=0.0):
        raw, x = torch.broadcast_tensors(raw, x)
        return -F.binary_cross_entropy_with_logits(raw, x, reduction="none").sum(dim=-1)


#: The likelihoods by the names of the reconstruction autoencoders' ``loss``.
LOSSES = {"mse": Gaussian(), "mae": Laplace(), "bce": Bernoulli()}

#: The likelihoods by the names of :class:`~skae.VAETransformer`'s ``likelihood``.
VAE_LIKELIHOODS = {"gaussian": LOSSES["mse"], "bernoulli": LOSSES["bce"]}


def get_likelihood(name):
    """The likelihood object for a ``loss`` or ``likelihood`` name.

    Examples
    --------
    >>> from skae.likelihoods import get_likelihood
    >>> get_likelihood("bce").bounded
    True
    """
    if isinstance(name, Likelihood):
        return name
    table = {**LOSSES, **VAE_LIKELIHOODS}
    if name not in table:
        raise ValueError(f"Unknown likelihood {name!r}; use one of {sorted(table)}.")
    return table[name]


def standardization_stats(X, chunk_rows=None):
    """Per-feature mean and standard deviation of ``X``, without overflow
    and without a full-size temporary (two passes over row chunks, in
    float64).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data (a memmap too).
    chunk_rows : int, default=None
        Rows per chunk; None for chunks of about 2 MB of float64, so that
        the temporaries stay small however large ``X`` is.

    Returns
    -------
    mean, std : ndarray of shape (n_features,), float64
    """
    n = X.shape[0]
    if chunk_rows is None:
        chunk_rows = max(1, 2**18 // max(1, X.shape[1]))
    total = np.zeros(X.shape[1])
    for start in range(0, n, chunk_rows):
        total += np.sum(X[start : start + chunk_rows], axis=0, dtype=np.float64)
    mean = total / n
    sq = np.zeros(X.shape[1])
    for start in range(0, n, chunk_rows):
        d = np.asarray(X[start : start + chunk_rows], dtype=np.float64) - mean
        sq += np.einsum("ij,ij->j", d, d)
    return mean, np.sqrt(sq / n)
