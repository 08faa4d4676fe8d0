"""Loss terms as pure functions of tensors.

Every function returns one value per sample (shape ``(n_samples,)``); the
estimators average them over a batch. Keeping them free of modules and
estimators lets the tests check each against an independent computation.
"""

import math

import torch
import torch.nn.functional as F

#: Reconstruction losses by name: squared error for real-valued data and
#: cross-entropy (computed from logits, for stability) for data in [0, 1].
RECONSTRUCTION_LOSSES = ("mse", "bce")


def reconstruction_error(output, x, loss="mse"):
    """Per-sample reconstruction error, averaged over features.

    Parameters
    ----------
    output : Tensor of shape (n_samples, n_features)
        The decoder's raw output: the reconstruction itself for ``"mse"``,
        its logit for ``"bce"``.
    x : Tensor of shape (n_samples, n_features)
        The target.
    loss : {"mse", "bce"}, default="mse"
        ``"mse"``: mean of ``(output - x)**2``; ``"bce"``: mean binary
        cross-entropy of ``x`` under ``sigmoid(output)``.

    Returns
    -------
    Tensor of shape (n_samples,)

    Examples
    --------
    >>> import torch
    >>> from skae.losses import reconstruction_error
    >>> reconstruction_error(torch.zeros(2, 3), torch.ones(2, 3))
    tensor([1., 1.])
    """
    if loss == "mse":
        per_feature = (output - x) ** 2
    elif loss == "bce":
        per_feature = F.binary_cross_entropy_with_logits(output, x, reduction="none")
    else:
        raise ValueError(
            f"loss must be one of {RECONSTRUCTION_LOSSES}, got {loss!r}."
        )
    return per_feature.mean(dim=1)


# ----------------------------------------------------------------------
# Variational autoencoder terms. All are log-densities in nats, with every
# constant kept, summed over features (or latent dimensions): they add up to
# real log-likelihoods, not losses up to a constant.
# ----------------------------------------------------------------------

_LOG_2PI = math.log(2.0 * math.pi)


def gaussian_kl(mu, logvar):
    """Per-sample KL divergence of ``N(mu, diag(exp(logvar)))`` from ``N(0, I)``.

    The closed form ``1/2 sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1)``.

    Parameters
    ----------
    mu : Tensor of shape (..., n_components)
        Means of the posterior.
    logvar : Tensor of shape (..., n_components)
        Log-variances of the posterior.

    Returns
    -------
    Tensor of shape (...)
        The divergence in nats, summed over the last dimension.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import gaussian_kl
    >>> gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3))
    tensor([0., 0.])
    """
    return 0.5 * (mu**2 + torch.exp(logvar) - logvar - 1.0).sum(dim=-1)


def bernoulli_log_likelihood(logits, x):
    """Per-sample log-likelihood of ``x`` under independent Bernoullis.

    ``sum_i x_i log p_i + (1 - x_i) log(1 - p_i)`` with ``p = sigmoid(logits)``,
    computed from the logits for stability (minus the cross-entropy).

    Parameters
    ----------
    logits : Tensor of shape (..., n_features)
        The decoder's raw output.
    x : Tensor broadcastable to ``logits``
        Data in [0, 1].

    Returns
    -------
    Tensor of shape (...)
        Log-likelihood in nats, summed over the last dimension.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import bernoulli_log_likelihood
    >>> bernoulli_log_likelihood(torch.zeros(1, 2), torch.ones(1, 2))
    tensor([-1.3863])
    """
    logits, x = torch.broadcast_tensors(logits, x)
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)


def gaussian_log_likelihood(mean, x, logvar=0.0):
    """Per-sample log-density of ``x`` under ``N(mean, diag(exp(logvar)))``.

    ``-1/2 sum_i (log(2 pi) + logvar_i + (x_i - mean_i)^2 / exp(logvar_i))``,
    constants included.

    Parameters
    ----------
    mean : Tensor of shape (..., n_features)
        Means.
    x : Tensor broadcastable to ``mean``
        Points at which the density is evaluated.
    logvar : float or Tensor broadcastable to ``mean``, default=0.0
        Log-variances: a scalar, one per feature, or one per entry.

    Returns
    -------
    Tensor of shape (...)
        Log-density in nats, summed over the last dimension.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import gaussian_log_likelihood
    >>> gaussian_log_likelihood(torch.zeros(1, 2), torch.zeros(1, 2))
    tensor([-1.8379])
    """
    logvar = torch.as_tensor(logvar, dtype=mean.dtype, device=mean.device)
    per_feature = _LOG_2PI + logvar + (x - mean) ** 2 * torch.exp(-logvar)
    return -0.5 * per_feature.sum(dim=-1)


def elbo(log_likelihood, kl, beta=1.0):
    """Evidence lower bound ``E_q[log p(x|z)] - beta KL(q(z|x) || p(z))``.

    With ``beta=1`` this is a lower bound on ``log p(x)``; other values give
    the beta-VAE objective, which is not.

    Parameters
    ----------
    log_likelihood : Tensor of shape (n_samples,)
        Monte Carlo estimate of the expected reconstruction log-likelihood.
    kl : Tensor of shape (n_samples,)
        KL divergence of the posterior from the prior, e.g.
        :func:`gaussian_kl`.
    beta : float, default=1.0
        Weight of the KL term.

    Returns
    -------
    Tensor of shape (n_samples,)

    Examples
    --------
    >>> import torch
    >>> from skae.losses import elbo
    >>> elbo(torch.tensor([-3.0]), torch.tensor([1.0]), beta=2.0)
    tensor([-5.])
    """
    return log_likelihood - beta * kl


def importance_weighted_log_likelihood(log_weights):
    """Importance-weighted estimate of ``log p(x)`` from ``K`` log-weights.

    ``log (1/K sum_k w_k)`` with ``log w_k = log p(x|z_k) + log p(z_k) -
    log q(z_k|x)`` and ``z_k ~ q(z|x)``, computed with ``logsumexp``. It is
    a lower bound on ``log p(x)`` in expectation, equal to the ELBO for
    ``K = 1`` and tightening as ``K`` grows [1]_.

    Parameters
    ----------
    log_weights : Tensor of shape (K, n_samples)
        Log importance weights, draws along the first dimension.

    Returns
    -------
    Tensor of shape (n_samples,)

    References
    ----------
    .. [1] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance weighted
       autoencoders", ICLR 2016.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import importance_weighted_log_likelihood
    >>> importance_weighted_log_likelihood(torch.zeros(5, 3))
    tensor([0., 0., 0.])
    """
    return torch.logsumexp(log_weights, dim=0) - math.log(log_weights.shape[0])
