"""Loss terms as pure functions of tensors.

Every function returns one value per sample (shape ``(n_samples,)``); the
estimators average them over a batch. Keeping them free of modules and
estimators lets the tests check each against an independent computation.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from .likelihoods import LOSSES
from .modules.mlp import ACTIVATIONS, MLPEncoder

#: Reconstruction losses by name: squared error for real-valued data,
#: absolute error for real-valued data with heavy tails or outliers, and
#: cross-entropy (computed from logits, for stability) for data in [0, 1].
RECONSTRUCTION_LOSSES = tuple(LOSSES)


def reconstruction_error(output, x, loss="mse"):
    """Per-sample reconstruction error, averaged over features.

    Parameters
    ----------
    output : Tensor of shape (n_samples, n_features)
        The decoder's raw output: the reconstruction itself for ``"mse"``
        and ``"mae"``, its logit for ``"bce"``.
    x : Tensor of shape (n_samples, n_features)
        The target.
    loss : {"mse", "mae", "bce"}, default="mse"
        ``"mse"``: mean of ``(output - x)**2``; ``"mae"``: mean of
        ``|output - x|``; ``"bce"``: mean binary cross-entropy of ``x``
        under ``sigmoid(output)``.

    Returns
    -------
    Tensor of shape (n_samples,)

    See Also
    --------
    feature_reconstruction_error : The same error, feature by feature.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import reconstruction_error
    >>> reconstruction_error(torch.zeros(2, 3), torch.ones(2, 3))
    tensor([1., 1.])
    """
    return feature_reconstruction_error(output, x, loss).mean(dim=1)


def feature_reconstruction_error(output, x, loss="mse"):
    """Reconstruction error of each feature of each sample.

    :func:`reconstruction_error` is the mean of this one over features.

    Parameters
    ----------
    output : Tensor of shape (n_samples, n_features)
        The decoder's raw output: the reconstruction itself for ``"mse"``
        and ``"mae"``, its logit for ``"bce"``.
    x : Tensor of shape (n_samples, n_features)
        The target.
    loss : {"mse", "mae", "bce"}, default="mse"
        Squared error, absolute error, or binary cross-entropy of ``x``
        under ``sigmoid(output)``.

    Returns
    -------
    Tensor of shape (n_samples, n_features)

    Examples
    --------
    >>> import torch
    >>> from skae.losses import feature_reconstruction_error
    >>> feature_reconstruction_error(torch.zeros(1, 2), torch.tensor([[1.0, 2.0]]))
    tensor([[1., 4.]])
    """
    if loss not in LOSSES:
        raise ValueError(
            f"loss must be one of {RECONSTRUCTION_LOSSES}, got {loss!r}."
        )
    return LOSSES[loss].loss(output, x)


# ----------------------------------------------------------------------
# Contractive penalties
# ----------------------------------------------------------------------
#: Ways of computing the analytic contractive penalty (see
#: :func:`contractive_penalty`).
JACOBIAN_METHODS = ("auto", "layerwise", "func")

_ELEMENTWISE = tuple(ACTIVATIONS.values()) + (nn.Identity,)


def _layer_stack(encoder):
    """The encoder's layers when it is a chain of ``Linear`` layers and
    elementwise activations (what the layerwise formula needs), else None."""
    if isinstance(encoder, MLPEncoder):
        encoder = encoder.layers
    elif isinstance(encoder, nn.Linear):
        encoder = nn.Sequential(encoder)
    if not isinstance(encoder, nn.Sequential) or len(encoder) == 0:
        return None
    layers = list(encoder)
    if not all(isinstance(m, (nn.Linear, *_ELEMENTWISE)) for m in layers):
        return None
    return layers


def _value_and_derivative(activation, a):
    """``s(a)`` and ``s'(a)`` for an elementwise activation module ``s``.

    Closed forms (written with ``s(a)`` where possible) for the activations
    of :data:`~skae.modules.ACTIVATIONS`; any other goes through forward-mode
    AD, a ``jvp`` with a tangent of ones, which is slower.
    """
    out = activation(a)
    if isinstance(activation, nn.ReLU):
        return out, (a > 0).to(a.dtype)
    if isinstance(activation, nn.Tanh):
        return out, 1 - out.pow(2)
    if isinstance(activation, nn.Sigmoid):
        return out, out * (1 - out)
    if isinstance(activation, nn.ELU):
        # alpha * (exp(a) - 1) below 0, whose derivative is out + alpha.
        return out, torch.where(a > 0, torch.ones_like(a), out + activation.alpha)
    if isinstance(activation, nn.LeakyReLU):
        slope = torch.full_like(a, activation.negative_slope)
        return out, torch.where(a > 0, torch.ones_like(a), slope)
    if isinstance(activation, nn.GELU) and activation.approximate == "none":
        # a * Phi(a): Phi(a) + a * phi(a).
        normal = torch.distributions.Normal(torch.zeros((), dtype=a.dtype, device=a.device), 1.0)
        return out, normal.cdf(a) + a * normal.log_prob(a).exp()
    if isinstance(activation, nn.Identity):
        return out, torch.ones_like(a)
    return torch.func.jvp(activation, (a,), (torch.ones_like(a),))


def _layerwise_code_and_penalty(layers, x):
    """Code and ``||J||_F^2`` of a chain of Linear layers and activations.

    The Jacobian of ``W_L s(... s(W_1 x + b_1) ...)`` is ``W_L D_{L-1} ...
    D_1 W_1`` with ``D_l = diag(s'(a_l))``. The product is accumulated from
    the code side, so that each sample carries a matrix of only
    ``n_components`` rows, and the widest factor, the first layer, enters
    through its Gram matrix ``G = W_1 W_1^T`` (computed once per batch),
    ``||M W_1||_F^2 = sum((M G) * M)``, when that is cheaper than ``M W_1``.
    For a one-layer encoder ``s(W x + b)`` this is the closed form of
    Rifai et al.,
    ``sum_j s'(a_j)^2 ||W_j||^2``.
    """
    # Forward pass, recording the derivative of each activation at its
    # pre-activation (differentiably: the penalty is backpropagated).
    derivatives = []
    h = x
    for layer in layers:
        if isinstance(layer, nn.Linear):
            h = layer(h)
            derivatives.append(None)
        else:
            h, d = _value_and_derivative(layer, h)
            derivatives.append(d)
    code = h

    # Backward accumulation of the Jacobian's rows. ``state`` is None for
    # the identity, a (n, m) tensor for a diagonal, a (n, k, m) tensor for a
    # full matrix.
    n = x.shape[0]
    state = None
    for i in range(len(layers) - 1, -1, -1):
        layer, d = layers[i], derivatives[i]
        if d is not None:
            if state is None:
                state = d
            elif state.dim() == 2:
                state = state * d
            else:
                state = state * d.unsqueeze(1)
            continue
        W = layer.weight
        if i == 0:
            # Last factor: the squared norm directly, without forming the
            # (n, k, n_features) Jacobian.
            if state is None:
                return code, W.pow(2).sum().expand(n)
            if state.dim() == 2:
                return code, state.pow(2) @ W.pow(2).sum(dim=1)
            # Through the Gram matrix when that takes fewer products.
            n_rows = state.shape[0] * state.shape[1]
            n_out, n_in = W.shape
            if n_out * n_in + n_rows * n_out < n_rows * n_in:
                return code, ((state @ (W @ W.T)) * state).sum(dim=(1, 2))
            return code, (state @ W).pow(2).sum(dim=(1, 2))
        if state is None:
            state = W.expand(n, *W.shape)
        elif state.dim() == 2:
            state = state.unsqueeze(2) * W
        else:
            state = state @ W
    # The chain starts with an activation: the state is the whole Jacobian
    # (diagonal when there is no Linear layer at all).
    return code, state.pow(2).flatten(start_dim=1).sum(dim=1)


def _func_code_and_penalty(encoder, x):
    """Code and ``||J||_F^2`` of any encoder, by ``vmap(jacrev(...))``."""

    def h(xi):
        code = encoder(xi.unsqueeze(0)).squeeze(0)
        return code, code

    jac, code = torch.func.vmap(torch.func.jacrev(h, has_aux=True))(x)
    return code, jac.pow(2).flatten(start_dim=1).sum(dim=1)


def code_and_contractive_penalty(encoder, x, method="auto"):
    """The code ``h(x)`` and the per-sample ``||J_h(x)||_F^2``, in one pass.

    Same as :func:`contractive_penalty`, also returning the code so that a
    caller need not run the encoder twice.

    Parameters
    ----------
    encoder : nn.Module
        Maps a batch ``(n_samples, n_features)`` to codes
        ``(n_samples, n_components)``, each sample independently.
    x : Tensor of shape (n_samples, n_features)
        Where to evaluate the code and the Jacobian.
    method : {"auto", "layerwise", "func"}, default="auto"
        How the Jacobian is computed, see :func:`contractive_penalty`.

    Returns
    -------
    code : Tensor of shape (n_samples, n_components)
    penalty : Tensor of shape (n_samples,)
    """
    if method not in JACOBIAN_METHODS:
        raise ValueError(f"method must be one of {JACOBIAN_METHODS}, got {method!r}.")
    layers = _layer_stack(encoder) if method != "func" else None
    if layers is not None:
        return _layerwise_code_and_penalty(layers, x)
    if method == "layerwise":
        raise ValueError(
            "method='layerwise' needs an encoder made of nn.Linear layers and "
            f"elementwise activations ({', '.join(ACTIVATIONS)}), got "
            f"{type(encoder).__name__}; use method='func'."
        )
    return _func_code_and_penalty(encoder, x)


def contractive_penalty(encoder, x, method="auto"):
    """Squared Frobenius norm of the encoder's Jacobian at each sample.

    ``||J_h(x)||_F^2 = sum_ij (dh_j / dx_i)^2``, the penalty of the
    contractive autoencoder [1]_, computed exactly and differentiably (the
    training loss backpropagates through it).

    Parameters
    ----------
    encoder : nn.Module
        Maps a batch ``(n_samples, n_features)`` to codes
        ``(n_samples, n_components)``, each sample independently.
    x : Tensor of shape (n_samples, n_features)
        Where to evaluate the Jacobian.
    method : {"auto", "layerwise", "func"}, default="auto"
        ``"layerwise"``: closed form for a chain of ``nn.Linear`` layers and
        elementwise activations (an :class:`~skae.modules.MLPEncoder` or an
        ``nn.Sequential``), of any depth: the Jacobian ``W_L D_{L-1} ...
        D_1 W_1`` is accumulated from the code side, the first layer
        entering through its Gram matrix; for one layer it is Rifai et
        al.'s ``sum_j s'(a_j)^2 ||W_j||^2``. ``"func"``: any encoder, by
        ``torch.func.vmap(torch.func.jacrev(encoder))``, which forms the
        full ``(n_samples, n_components, n_features)`` Jacobian.
        ``"auto"``: ``"layerwise"`` when the encoder allows it (it is the
        faster, see ``benchmarks/regularized.py``), else ``"func"``.

    Returns
    -------
    Tensor of shape (n_samples,)

    See Also
    --------
    stochastic_contractive_penalty : Its finite-noise counterpart.

    References
    ----------
    .. [1] S. Rifai, P. Vincent, X. Muller, X. Glorot and Y. Bengio,
       "Contractive auto-encoders: explicit invariance during feature
       extraction", ICML 2011.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import contractive_penalty
    >>> encoder = torch.nn.Linear(3, 2)
    >>> contractive_penalty(encoder, torch.zeros(4, 3)).shape
    torch.Size([4])
    """
    return code_and_contractive_penalty(encoder, x, method)[1]


def stochastic_contractive_penalty(
    encoder, x, noise_level, n_noise_samples=1, generator=None, code=None
):
    """Per-sample ``E ||h(x) - h(x + eps)||^2``, ``eps ~ N(0, noise_level^2 I)``.

    The penalty of the stochastic (higher-order) contractive autoencoder
    [1]_, estimated by the mean over ``n_noise_samples`` draws. By a
    first-order Taylor expansion, ``h(x + eps) - h(x) ~ J eps`` and
    ``E ||J eps||^2 = noise_level^2 ||J||_F^2``: for small noise it is
    ``noise_level^2`` times :func:`contractive_penalty`, and for larger
    noise it also penalises the curvature of ``h``.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``(n_samples, n_features)`` to ``(n_samples, n_components)``.
    x : Tensor of shape (n_samples, n_features)
        Clean batch.
    noise_level : float
        Standard deviation of ``eps``, in the units of ``x``.
    n_noise_samples : int, default=1
        Number of draws of ``eps`` per sample.
    generator : torch.Generator, default=None
        Source of the noise (on ``x``'s device).
    code : Tensor of shape (n_samples, n_components), default=None
        ``encoder(x)`` if already computed.

    Returns
    -------
    Tensor of shape (n_samples,)

    References
    ----------
    .. [1] S. Rifai, G. Mesnil, P. Vincent, X. Muller, Y. Bengio,
       Y. Dauphin and X. Glorot, "Higher order contractive auto-encoder",
       ECML PKDD 2011.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import stochastic_contractive_penalty
    >>> g = torch.Generator().manual_seed(0)
    >>> encoder = torch.nn.Linear(3, 2)
    >>> stochastic_contractive_penalty(encoder, torch.zeros(4, 3), 0.1, 5, g).shape
    torch.Size([4])
    """
    if code is None:
        code = encoder(x)
    n = x.shape[0]
    x_rep = x.repeat(n_noise_samples, 1)
    eps = torch.randn(x_rep.shape, generator=generator, dtype=x.dtype, device=x.device)
    diff = encoder(x_rep + noise_level * eps) - code.repeat(n_noise_samples, 1)
    return diff.pow(2).sum(dim=1).view(n_noise_samples, n).mean(dim=0)


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


def importance_weighted_terms(log_likelihood, prior, mu, logvar, eps, chunk=None):
    """Importance-weighted ``log p(x)`` and mean ``log p(x|z_k)`` per sample.

    With ``z_k = mu + sigma * eps_k`` (draws from the diagonal-Gaussian
    posterior ``q(z|x)``), the log-weights are ``log p(x|z_k) + log p(z_k)
    - log q(z_k|x)`` and the estimate is
    :func:`importance_weighted_log_likelihood` of them [1]_. The draws are
    reduced ``chunk`` at a time, so that memory does not grow with ``K``.

    Parameters
    ----------
    log_likelihood : callable
        ``log_likelihood(z)`` -> ``log p(x|z)`` of shape ``z.shape[:-1]``.
    prior : object
        With ``log_prob(z)``, e.g. :class:`skae.priors.StandardNormal`.
    mu, logvar : Tensor of shape (n_samples, n_components)
        The posterior's parameters.
    eps : Tensor of shape (K, n_samples, n_components)
        Standard-normal draws.
    chunk : int, default=None
        Draws evaluated at once; None for all ``K``.

    Returns
    -------
    log_px : Tensor of shape (n_samples,)
        The importance-weighted estimate of ``log p(x)``.
    reconstruction : Tensor of shape (n_samples,)
        Mean over the draws of ``log p(x|z_k)``.

    References
    ----------
    .. [1] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance weighted
       autoencoders", ICLR 2016.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import importance_weighted_terms
    >>> from skae.priors import StandardNormal
    >>> mu, logvar = torch.zeros(3, 2), torch.zeros(3, 2)
    >>> log_px, rec = importance_weighted_terms(
    ...     lambda z: torch.zeros(z.shape[:-1]), StandardNormal(), mu, logvar,
    ...     torch.randn(10, 3, 2))
    >>> log_px  # q equals the prior and p(x|z) = 1: log p(x) = 0 exactly
    tensor([0., 0., 0.])
    """
    K = eps.shape[0]
    chunk = K if chunk is None else chunk
    std = torch.exp(0.5 * logvar)
    log_px, log_w = [], []
    for k in range(0, K, chunk):
        z = mu + std * eps[k : k + chunk]
        lp = log_likelihood(z)
        log_q = gaussian_log_likelihood(mu, z, logvar)
        log_px.append(lp)
        log_w.append(lp + prior.log_prob(z) - log_q)
    return (
        importance_weighted_log_likelihood(torch.cat(log_w)),
        torch.cat(log_px).mean(dim=0),
    )


# ----------------------------------------------------------------------
# Dependence between codes and a condition.
# ----------------------------------------------------------------------
def _median_rbf(A):
    """Gaussian kernel matrix of the rows of ``A``, bandwidth by the median
    heuristic (the median squared distance, held constant for gradients)."""
    d2 = torch.cdist(A, A).pow(2)
    n = len(A)
    off = d2[~torch.eye(n, dtype=torch.bool, device=A.device)]
    scale = off.detach().median() if off.numel() else d2.new_tensor(1.0)
    return torch.exp(-d2 / scale.clamp_min(1e-12))


def hsic(z, c, categorical=False):
    """Hilbert-Schmidt independence criterion between ``z`` and ``c`` (biased estimate).

    ``HSIC = tr(K H L H) / (n - 1)^2`` with ``H = I - 1/n`` the centring
    matrix, ``K`` a Gaussian kernel on the rows of ``z`` and ``L`` one on
    the rows of ``c`` (bandwidths by the median heuristic), or, for
    one-hot classes (``categorical=True``), the delta kernel ``L = c c^T``
    [1]_. Zero in expectation when ``z`` and ``c`` are independent; used
    by :class:`~skae.ConditionalVAE` to penalise codes that carry the
    condition, as the HSIC-constrained VAE of [2]_.

    Parameters
    ----------
    z : Tensor of shape (n_samples, n_components)
        Codes, e.g. posterior means.
    c : Tensor of shape (n_samples, n_conditions)
        Their conditions: one-hot classes or numeric covariates.
    categorical : bool, default=False
        Whether ``c`` is one-hot classes.

    Returns
    -------
    Tensor of shape ()

    References
    ----------
    .. [1] A. Gretton, O. Bousquet, A. Smola and B. Schoelkopf, "Measuring
       statistical dependence with Hilbert-Schmidt norms", ALT 2005.
    .. [2] R. Lopez, J. Regier, M. I. Jordan and N. Yosef, "Information
       constraints on auto-encoding variational Bayes", NeurIPS 2018.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import hsic
    >>> z = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    >>> c = torch.nn.functional.one_hot((z[:, 0] > 0).long(), 2).float()
    >>> bool(hsic(z, c, categorical=True) > 10 * hsic(z, c.flip(0), categorical=True))
    True
    """
    n = len(z)
    K = _median_rbf(z)
    L = c @ c.T if categorical else _median_rbf(c)
    Kc = K - K.mean(dim=0, keepdim=True)
    Lc = L - L.mean(dim=0, keepdim=True)
    return (Kc * Lc.T).sum() / max(n - 1, 1) ** 2


# ----------------------------------------------------------------------
# Adversarial losses (Makhzani et al., 2015; Goodfellow et al., 2014).
# The discriminator outputs the logit of "this code is a draw of the prior".
# ----------------------------------------------------------------------
def discriminator_loss(prior_logits, code_logits):
    """Loss of a discriminator telling prior draws (real) from codes (fake).

    ``-mean log D(z_prior) - mean log(1 - D(h(x)))``, with ``D = sigmoid``
    of the logits: the prior's draws are labelled 1, the encoder's codes 0.

    Parameters
    ----------
    prior_logits : Tensor of shape (n,) or (n, 1)
        Discriminator logits of draws from the prior.
    code_logits : Tensor of shape (m,) or (m, 1)
        Discriminator logits of the encoder's codes.

    Returns
    -------
    Tensor
        Scalar, in nats (log 4 = 1.386 for a discriminator that cannot tell).

    Examples
    --------
    >>> import torch
    >>> from skae.losses import discriminator_loss
    >>> round(float(discriminator_loss(torch.zeros(4), torch.zeros(4))), 4)
    1.3863
    """
    bce = nn.functional.binary_cross_entropy_with_logits
    return bce(prior_logits, torch.ones_like(prior_logits)) + bce(
        code_logits, torch.zeros_like(code_logits)
    )


def generator_loss(code_logits):
    """Per-sample loss of the encoder as the discriminator's adversary.

    The non-saturating ``-log D(h(x))``: minimised when the discriminator
    takes the codes for prior draws.

    Parameters
    ----------
    code_logits : Tensor of shape (n,) or (n, 1)
        Discriminator logits of the encoder's codes.

    Returns
    -------
    Tensor of shape (n,)

    Examples
    --------
    >>> import torch
    >>> from skae.losses import generator_loss
    >>> generator_loss(torch.zeros(2, 1))
    tensor([0.6931, 0.6931])
    """
    logits = code_logits.reshape(len(code_logits))
    return nn.functional.softplus(-logits)


def _squared_distances(head, other):
    """Squared distances between ``head`` (n, k) and ``other`` (n, k) or
    (n, m, k), row by row."""
    if other.dim() == 3:
        head = head.unsqueeze(1)
    return ((head - other) ** 2).sum(dim=-1)


def umap_cross_entropy(head, tail, negatives, a, b, eps=1e-4):
    """UMAP's fuzzy-set cross-entropy of graph edges, with negative sampling.

    The similarity of two codes at distance ``d`` is ``q(d) = 1 / (1 + a
    d^(2b))``. An edge ``(i, j)`` of the graph pulls its codes together
    with ``-log q(d_ij)``, and each of its ``m`` negative samples ``l``
    (pairs taken as non-edges, weight 0) pushes with ``-log(1 - q(d_il))``:
    the terms of the cross-entropy ``sum w log(w / q) + (1 - w) log((1 - w)
    / (1 - q))`` between the graph's weights ``w`` and the embedding's
    ``q`` that depend on the embedding, as UMAP's stochastic gradient
    descent and parametric UMAP (Sainburg et al. 2021) sample them. Both
    are computed as softplus of ``+-(log a + b log d^2)``, stable for all
    distances; ``eps`` is added to squared distances so that coincident
    codes give a finite repulsion.

    Parameters
    ----------
    head, tail : Tensor of shape (n_edges, n_components)
        Codes of the two ends of each edge.
    negatives : Tensor of shape (n_edges, n_negative, n_components)
        Codes of each edge's negative samples, paired with ``head``.
    a, b : float
        The curve's parameters (:func:`skae.graph.umap_curve_params`).
    eps : float, default=1e-4
        Added to squared distances.

    Returns
    -------
    Tensor of shape (n_edges,)
        ``-log q(d_ij) - sum_l log(1 - q(d_il))`` per edge.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import umap_cross_entropy
    >>> z = torch.zeros(2, 2)
    >>> umap_cross_entropy(z, z, torch.ones(2, 3, 2), a=1.0, b=1.0, eps=0.0)
    tensor([1.2164, 1.2164])
    """
    log_ad2b_pos = math.log(a) + b * torch.log(_squared_distances(head, tail) + eps)
    log_ad2b_neg = math.log(a) + b * torch.log(_squared_distances(head, negatives) + eps)
    # -log q = log(1 + a d^2b) = softplus(log(a d^2b));
    # -log(1 - q) = log(1 + 1 / (a d^2b)) = softplus(-log(a d^2b)).
    return F.softplus(log_ad2b_pos) + F.softplus(-log_ad2b_neg).sum(dim=1)


def tsne_kl_terms(head, tail, negatives):
    """Per-edge terms of t-SNE's KL divergence, with a sampled normaliser.

    t-SNE's similarity of two codes is ``w = 1 / (1 + d^2)`` (Student's t
    with one degree of freedom) and ``q_ij = w_ij / Z`` with ``Z = sum_{k !=
    l} w_kl``. Up to constants, ``KL(P || Q) = E_P[-log w_ij] + log Z``:
    for edges drawn from ``P`` each term here is ``log(1 + d_ij^2) +
    log(mean w over the batch's negative pairs)``, ``Z`` being estimated by
    its mean over random pairs (``Z = n (n - 1) E[w]``), as parametric
    t-SNE trained on edges needs. Exactly, ``KL(P || Q) = sum_ij p_ij
    term_ij + sum_ij p_ij log p_ij + log(n (n - 1))`` when the negatives are
    all pairs.

    Parameters
    ----------
    head, tail : Tensor of shape (n_edges, n_components)
        Codes of the two ends of each edge.
    negatives : Tensor of shape (n_edges, n_negative, n_components)
        Codes of random samples, paired with ``head``.

    Returns
    -------
    Tensor of shape (n_edges,)

    Examples
    --------
    >>> import torch
    >>> from skae.losses import tsne_kl_terms
    >>> z = torch.zeros(2, 2)
    >>> tsne_kl_terms(z, torch.ones(2, 2), torch.ones(2, 3, 2))
    tensor([0., 0.])
    """
    attraction = torch.log1p(_squared_distances(head, tail))
    log_mean_w = torch.logsumexp(
        -torch.log1p(_squared_distances(head, negatives)).flatten(), dim=0
    ) - math.log(negatives.shape[0] * negatives.shape[1])
    return attraction + log_mean_w


# ----------------------------------------------------------------------
# Cluster-assignment terms (Van Gansbeke et al., 2020, "SCAN").
# ----------------------------------------------------------------------
def neighbor_consistency_loss(proba, neighbor_proba, eps=1e-7):
    """Per-sample loss pulling a sample's cluster assignment to its neighbour's.

    ``-log <p_i, p_j>``: zero when both are the same one-hot vector, large
    when they put their mass on different clusters.

    Parameters
    ----------
    proba : Tensor of shape (n, n_clusters)
        Cluster probabilities of the samples.
    neighbor_proba : Tensor of shape (n, n_clusters)
        Cluster probabilities of one neighbour of each.
    eps : float, default=1e-7
        Floor of the inner product (the loss stays finite).

    Returns
    -------
    Tensor of shape (n,)

    Examples
    --------
    >>> import torch
    >>> from skae.losses import neighbor_consistency_loss
    >>> p = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    >>> neighbor_consistency_loss(p, torch.tensor([[1.0, 0.0], [0.5, 0.5]]))
    tensor([-0.0000, 0.6931])
    """
    return -torch.log((proba * neighbor_proba).sum(dim=1).clamp_min(eps))


def cluster_balance_loss(proba, eps=1e-7):
    """How far the batch's mean cluster assignment is from uniform.

    ``log K - H(mean_i p_i)``, the KL divergence from the uniform
    distribution over the ``K`` clusters to the mean assignment: zero when
    the clusters are used equally, ``log K`` when one takes every sample.

    Parameters
    ----------
    proba : Tensor of shape (n, n_clusters)
        Cluster probabilities of a batch.
    eps : float, default=1e-7
        Floor of the probabilities inside the logarithm.

    Returns
    -------
    Tensor
        Scalar, in nats.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import cluster_balance_loss
    >>> round(float(cluster_balance_loss(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))), 4)
    0.0
    >>> round(float(cluster_balance_loss(torch.tensor([[1.0, 0.0], [1.0, 0.0]]))), 4)
    0.6931
    """
    mean = proba.mean(dim=0)
    return math.log(proba.shape[1]) + (mean * torch.log(mean.clamp_min(eps))).sum()
