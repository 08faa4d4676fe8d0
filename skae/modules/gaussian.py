"""Gaussian encoder, reparameterised sampling and the variational autoencoder."""

import torch
from torch import nn

from .mlp import _mlp

#: Decoder likelihoods p(x|z) of :class:`VariationalAutoEncoder`, by name.
LIKELIHOODS = ("bernoulli", "gaussian")

#: Range the encoder's log-variance is clamped to. Training never comes near
#: it (the KL term pulls the posterior variance towards the prior's 1), but
#: a sample far outside the training data can drive the linear head to a
#: log-variance whose exponential overflows, and the score to NaN. The same
#: bounds as the diagonal Gaussian of latent diffusion models.
LOGVAR_RANGE = (-30.0, 20.0)


class GaussianEncoder(nn.Module):
    """Map ``x`` to the mean and log-variance of ``q(z|x) = N(mu, diag(sigma^2))``.

    A fully connected trunk followed by two linear heads, one for ``mu`` and
    one for ``log sigma^2`` (the log keeps the variance positive without a
    constraint). The log-variance is clamped to :data:`LOGVAR_RANGE`, so
    that samples far from the training data get finite, very low, scores.

    Parameters
    ----------
    n_features : int
        Input dimension.
    hidden_layer_sizes : tuple of int
        Widths of the trunk's hidden layers, from the input side. Empty: the
        heads read the input directly.
    n_components : int
        Latent dimension.
    activation : str, default="relu"
        Hidden activation, a key of :data:`skae.modules.ACTIVATIONS`.

    Examples
    --------
    >>> import torch
    >>> from skae.modules import GaussianEncoder
    >>> mu, logvar = GaussianEncoder(8, (16,), 2)(torch.zeros(5, 8))
    >>> mu.shape, logvar.shape
    (torch.Size([5, 2]), torch.Size([5, 2]))
    """

    def __init__(self, n_features, hidden_layer_sizes, n_components, activation="relu"):
        super().__init__()
        hidden_layer_sizes = tuple(hidden_layer_sizes)
        if hidden_layer_sizes:
            self.trunk = _mlp((n_features, *hidden_layer_sizes), activation, activate_last=True)
        else:
            self.trunk = nn.Identity()
        width = hidden_layer_sizes[-1] if hidden_layer_sizes else n_features
        self.mu = nn.Linear(width, n_components)
        self.logvar = nn.Linear(width, n_components)

    def forward(self, x):
        h = self.trunk(x)
        return self.mu(h), self.logvar(h).clamp(*LOGVAR_RANGE)


class SplitGaussian(nn.Module):
    """Turn any encoder with ``2 * n_components`` outputs into a Gaussian one.

    The first half of the outputs is the mean, the second half the
    log-variance (clamped to :data:`LOGVAR_RANGE`): how a user's own
    encoder (see :class:`skae.architectures.Architecture`) serves the
    variational autoencoder.

    Parameters
    ----------
    body : nn.Module
        Maps a batch to ``(n, 2 * n_components)``.

    Examples
    --------
    >>> import torch
    >>> from skae.modules import SplitGaussian
    >>> mu, logvar = SplitGaussian(torch.nn.Linear(8, 4))(torch.zeros(5, 8))
    >>> mu.shape, logvar.shape
    (torch.Size([5, 2]), torch.Size([5, 2]))
    """

    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        mu, logvar = self.body(x).chunk(2, dim=-1)
        return mu, logvar.clamp(*LOGVAR_RANGE)


def reparameterize(mu, logvar, generator=None, n_samples=None):
    """Draw ``z = mu + sigma * eps`` with ``eps ~ N(0, I)``, differentiably.

    Parameters
    ----------
    mu, logvar : Tensor of shape (n, n_components)
        Mean and log-variance of the Gaussian.
    generator : torch.Generator, default=None
        Source of ``eps`` (on ``mu``'s device); None uses torch's global
        generator.
    n_samples : int, default=None
        Number of draws per row; they are stacked along a new first
        dimension. None draws one, without the extra dimension.

    Returns
    -------
    Tensor of shape (n, n_components) or (n_samples, n, n_components)

    Examples
    --------
    >>> import torch
    >>> from skae.modules import reparameterize
    >>> g = torch.Generator().manual_seed(0)
    >>> reparameterize(torch.zeros(5, 2), torch.zeros(5, 2), g, n_samples=3).shape
    torch.Size([3, 5, 2])
    """
    shape = mu.shape if n_samples is None else (n_samples, *mu.shape)
    eps = torch.randn(shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


class VariationalAutoEncoder(nn.Module):
    """A Gaussian encoder, a decoder and the likelihood ``p(x|z)`` that joins them.

    ``forward(x)`` draws one ``z ~ q(z|x)`` and returns ``(x_hat_raw, mu,
    logvar)``: the decoder's raw output (logits for ``"bernoulli"``, means
    for ``"gaussian"``) and the posterior's parameters.

    Parameters
    ----------
    encoder : nn.Module
        Returns ``(mu, logvar)``, e.g. :class:`GaussianEncoder`.
    decoder : nn.Module
        Returns the raw output and provides ``mean(z)``, e.g.
        :class:`~skae.modules.MLPDecoder` with ``output_activation="sigmoid"``
        for ``"bernoulli"`` and ``"identity"`` for ``"gaussian"``.
    likelihood : {"bernoulli", "gaussian"} or skae.likelihoods.Likelihood, \
            default="gaussian"
        The decoder's distribution.
    decoder_logvar : float or Tensor, default=0.0
        Log-variance of the Gaussian likelihood, a scalar or one per feature;
        an ``nn.Parameter`` is learned with the network, anything else is
        kept fixed (a buffer). Unused for ``"bernoulli"``.

    Examples
    --------
    >>> import torch
    >>> from skae.modules import GaussianEncoder, MLPDecoder, VariationalAutoEncoder
    >>> vae = VariationalAutoEncoder(GaussianEncoder(8, (16,), 2), MLPDecoder(2, (16,), 8))
    >>> x_hat, mu, logvar = vae(torch.zeros(5, 8))
    >>> x_hat.shape, mu.shape
    (torch.Size([5, 8]), torch.Size([5, 2]))
    >>> vae.log_likelihood(x_hat, torch.zeros(5, 8)).shape
    torch.Size([5])
    """

    def __init__(self, encoder, decoder, likelihood="gaussian", decoder_logvar=0.0):
        super().__init__()
        if isinstance(likelihood, str):
            if likelihood not in LIKELIHOODS:
                raise ValueError(
                    f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}."
                )
            from ..likelihoods import VAE_LIKELIHOODS

            likelihood = VAE_LIKELIHOODS[likelihood]
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        if isinstance(decoder_logvar, nn.Parameter):
            self.decoder_logvar = decoder_logvar
        else:
            self.register_buffer(
                "decoder_logvar", torch.as_tensor(decoder_logvar, dtype=torch.float32)
            )

    def encode(self, x):
        """Posterior mean ``mu(x)``.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        Tensor of shape (n_samples, n_components)
        """
        return self.encoder(x)[0]

    def decode(self, z):
        """Decoder mean: Bernoulli probabilities or Gaussian means.

        Parameters
        ----------
        z : Tensor of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
        """
        return self.likelihood.mean(self.decoder(z))

    def forward(self, x, generator=None):
        mu, logvar = self.encoder(x)
        z = reparameterize(mu, logvar, generator)
        return self.decoder(z), mu, logvar

    def log_likelihood(self, x_hat_raw, x):
        """``log p(x|z)`` in nats per sample, from the decoder's raw output.

        Parameters
        ----------
        x_hat_raw : Tensor of shape (n_samples, n_features)
            The decoder's raw output: logits for the Bernoulli likelihood,
            means for the Gaussian one.
        x : Tensor of shape (n_samples, n_features)
            The data.

        Returns
        -------
        Tensor of shape (n_samples,)
        """
        return self.likelihood.log_prob(x_hat_raw, x, self.decoder_logvar)
