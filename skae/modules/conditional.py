"""The conditional variational autoencoder's network."""

from collections import namedtuple

import torch

from ..losses import hsic
from .models import VariationalModel
from .scaling import Standardize

#: Loss terms of the conditional VAE with its independence penalty.
IndependenceTerms = namedtuple("IndependenceTerms", ["reconstruction", "kl", "independence"])


class ConditionalVariationalModel(VariationalModel):
    """A variational autoencoder whose decoder also reads a condition ``c``.

    The model of Sohn et al. (2015) with the encoder of the single-cell
    VAEs: ``q(z|x)`` reads ``x`` alone, the decoder ``p(x|z, c)`` reads the
    code and the condition side by side (``cat(z, c)``), the prior is
    ``p(z)``. ``forward(X, c)`` returns minus the two terms of the
    conditional ELBO, ``-E_q[log p(x|z, c)]`` and ``KL(q(z|x) || p(z))``, a
    lower bound on ``log p(x | c)``.

    Parameters
    ----------
    encoder : nn.Module
        Returns ``(mu, logvar)`` of ``q(z|x)`` from standardised data.
    decoder : nn.Module
        Maps ``n_components + n_conditions`` inputs to the raw output.
    likelihood, decoder_logvar, scaler, prior, n_latent_samples, seed
        As for :class:`VariationalModel`.
    condition_scaler : Standardize, default=None
        Applied to ``c`` before the decoder (standardises numeric
        covariates); None for the identity (one-hot classes).
    independence : {None, "categorical", "numeric"}, default=None
        Add a third term, ``independence``: :func:`skae.losses.hsic`
        between the posterior means ``mu(x)`` of the batch and their
        conditions (the same value for every sample of the batch), with
        the delta kernel for one-hot classes. None: no such term.

    Examples
    --------
    >>> import torch
    >>> from skae.likelihoods import Bernoulli
    >>> from skae.modules import (ConditionalVariationalModel, GaussianEncoder,
    ...                           MLPDecoder)
    >>> model = ConditionalVariationalModel(
    ...     GaussianEncoder(4, (8,), 2), MLPDecoder(2 + 3, (8,), 4), Bernoulli())
    >>> c = torch.eye(3)
    >>> model(torch.rand(3, 4), c).kl.shape
    torch.Size([3])
    >>> model.decode(torch.zeros(3, 2), c).shape
    torch.Size([3, 4])
    """

    def __init__(self, encoder, decoder, likelihood, decoder_logvar=0.0, scaler=None,
                 prior=None, condition_scaler=None, independence=None, *,
                 n_latent_samples=1, seed=0):
        super().__init__(encoder, decoder, likelihood, decoder_logvar, scaler, prior,
                         n_latent_samples=n_latent_samples, seed=seed)
        self.condition_scaler = Standardize() if condition_scaler is None else condition_scaler
        self.independence = independence

    def _decoder_output(self, z, c):
        c = self.condition_scaler(c)
        if z.dim() > c.dim():  # draws stacked on a leading dimension
            c = c.expand(*z.shape[:-1], c.shape[-1])
        return self.decoder(torch.cat([z, c], dim=-1))

    def forward(self, X, c):
        xs = self.scaler(X)
        mu, logvar = self.encoder(xs)
        terms = self._elbo_terms(xs, mu, logvar, c=c)
        if self.independence is None:
            return terms
        # The posterior means, which transform returns, are what should not
        # carry the condition.
        penalty = hsic(mu, self.condition_scaler(c), self.independence == "categorical")
        return IndependenceTerms(*terms, penalty.expand(len(X)))

    def decode(self, z, c):
        """Decoder mean under the condition ``c``, in the data's units.

        Parameters
        ----------
        z : Tensor of shape (n_samples, n_components)
            Codes.
        c : Tensor of shape (n_samples, n_conditions)
            Conditions, in their own units.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
        """
        return self.scaler.inverse(self.likelihood.mean(self._decoder_output(z, c)))
