"""The conditional variational autoencoder's network."""

from collections import namedtuple

import torch

from ..losses import hsic
from .models import VariationalModel
from .scaling import Standardize

#: Loss terms of the conditional VAE: minus the conditional ELBO's two terms
#: and the loss of its condition head ``q(c|x)``.
ConditionalTerms = namedtuple("ConditionalTerms", ["reconstruction", "kl", "condition"])
#: The same with the optional terms, by (prior_reconstruction, independence).
_TERMS = {
    (False, False): ConditionalTerms,
    (True, False): namedtuple("PriorTerms", [*ConditionalTerms._fields, "prior_reconstruction"]),
    (False, True): namedtuple("IndependenceTerms", [*ConditionalTerms._fields, "independence"]),
    (True, True): namedtuple(
        "HybridIndependenceTerms",
        [*ConditionalTerms._fields, "prior_reconstruction", "independence"],
    ),
}
PriorTerms, IndependenceTerms, HybridIndependenceTerms = (
    _TERMS[True, False], _TERMS[False, True], _TERMS[True, True])


class ConditionalVariationalModel(VariationalModel):
    """A conditional variational autoencoder: encoder and decoder read ``c``.

    The model of Sohn et al. (2015): the encoder gives ``q(z|x, c)`` from
    ``cat(x, c)``, the decoder ``p(x|z, c)`` from ``cat(z, c)``, the prior
    is ``p(z)``. A third network, the condition head, predicts ``c`` from
    ``x`` alone (``q(c|x)``: class logits, or the standardised covariates'
    means), so that codes can be computed when the condition is unknown.
    ``forward(X, c)`` returns minus the two terms of the conditional ELBO,
    ``-E_q[log p(x|z, c)]`` and ``KL(q(z|x, c) || p(z))`` (a lower bound on
    ``log p(x | c)``), and the head's loss ``condition``: ``-log q(c|x)``
    (cross-entropy for one-hot classes; half the squared error of the
    standardised covariates, the Gaussian negative log-likelihood with unit
    variance up to a constant). The head shares no weight with the encoder
    or the decoder, so its term trains it alone.

    Parameters
    ----------
    encoder : nn.Module
        Returns ``(mu, logvar)`` of ``q(z|x, c)`` from the standardised
        data and condition side by side (``n_features + n_conditions``
        inputs).
    decoder : nn.Module
        Maps ``n_components + n_conditions`` inputs to the raw output.
    likelihood, decoder_logvar, scaler, prior, n_latent_samples, seed
        As for :class:`VariationalModel`.
    condition_scaler : Standardize, default=None
        Applied to ``c`` before the networks (standardises numeric
        covariates); None for the identity (one-hot classes).
    condition_head : nn.Module, default=None
        Maps the standardised ``x`` to ``n_conditions`` outputs: class
        logits (``categorical``) or the standardised covariates. None: no
        head, no ``condition`` term (it is then zero).
    categorical : bool, default=True
        Whether ``c`` is one-hot classes (else numeric covariates): the
        head's loss, and HSIC's kernel on ``c``.
    prior_reconstruction : bool, default=False
        Add the term ``prior_reconstruction``: ``-log p(x|z, c)`` at a code
        ``z ~ p(z)`` drawn from the prior instead of the posterior, the
        loss of Sohn et al.'s Gaussian stochastic neural network (their
        hybrid objective weighs it with the negative ELBO).
    independence : bool, default=False
        Add the term ``independence``: :func:`skae.losses.hsic` between
        the posterior means ``mu(x, c)`` of the batch and their conditions
        (the same value for every sample of the batch).

    Examples
    --------
    >>> import torch
    >>> from skae.likelihoods import Bernoulli
    >>> from skae.modules import (ConditionalVariationalModel, GaussianEncoder,
    ...                           MLPDecoder, MLPEncoder)
    >>> model = ConditionalVariationalModel(
    ...     GaussianEncoder(4 + 3, (8,), 2), MLPDecoder(2 + 3, (8,), 4), Bernoulli(),
    ...     condition_head=MLPEncoder(4, (8,), 3))
    >>> c = torch.eye(3)
    >>> terms = model(torch.rand(3, 4), c)
    >>> terms._fields, terms.kl.shape
    (('reconstruction', 'kl', 'condition'), torch.Size([3]))
    >>> model.encode(torch.rand(3, 4), c).shape
    torch.Size([3, 2])
    >>> model.predict_condition(torch.rand(3, 4)).shape
    torch.Size([3, 3])
    >>> model.decode(torch.zeros(3, 2), c).shape
    torch.Size([3, 4])
    """

    def __init__(self, encoder, decoder, likelihood, decoder_logvar=0.0, scaler=None,
                 prior=None, condition_scaler=None, condition_head=None, *,
                 categorical=True, prior_reconstruction=False, independence=False,
                 n_latent_samples=1, seed=0):
        super().__init__(encoder, decoder, likelihood, decoder_logvar, scaler, prior,
                         n_latent_samples=n_latent_samples, seed=seed)
        self.condition_scaler = Standardize() if condition_scaler is None else condition_scaler
        self.condition_head = condition_head
        self.categorical = categorical
        self.prior_reconstruction = prior_reconstruction
        self.independence = independence

    def _posterior(self, xs, c):
        return self.encoder(torch.cat([xs, self.condition_scaler(c)], dim=-1))

    def _decoder_output(self, z, c):
        c = self.condition_scaler(c)
        if z.dim() > c.dim():  # draws stacked on a leading dimension
            c = c.expand(*z.shape[:-1], c.shape[-1])
        return self.decoder(torch.cat([z, c], dim=-1))

    def _condition_loss(self, xs, c):
        """``-log q(c|x)`` per sample (up to a constant for covariates)."""
        if self.condition_head is None:
            return torch.zeros(len(xs), dtype=xs.dtype, device=xs.device)
        out = self.condition_head(xs)
        if self.categorical:
            return -(c * torch.log_softmax(out, dim=-1)).sum(dim=-1)
        return 0.5 * ((out - self.condition_scaler(c)) ** 2).sum(dim=-1)

    def forward(self, X, c):
        xs = self.scaler(X)
        mu, logvar = self._posterior(xs, c)
        terms = [*self._elbo_terms(xs, mu, logvar, c=c), self._condition_loss(xs, c)]
        if self.prior_reconstruction:
            z = torch.randn(mu.shape, generator=self.generator.get(mu.device),
                            dtype=mu.dtype, device=mu.device)
            terms.append(-self.log_likelihood(self._decoder_output(z, c), xs))
        if self.independence:
            # The posterior means, which transform returns, are what should
            # not carry the condition.
            penalty = hsic(mu, self.condition_scaler(c), self.categorical)
            terms.append(penalty.expand(len(X)))
        return _TERMS[bool(self.prior_reconstruction), bool(self.independence)](*terms)

    def encode(self, x, c):
        """Posterior mean ``mu(x, c)``.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Data in their own units.
        c : Tensor of shape (n_samples, n_conditions)
            Conditions, in their own units.

        Returns
        -------
        Tensor of shape (n_samples, n_components)
        """
        return self._posterior(self.scaler(x), c)[0]

    def predict_condition(self, x):
        """The condition head's output for ``x``, in the condition's units.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Data in their own units.

        Returns
        -------
        Tensor of shape (n_samples, n_conditions)
            Class probabilities ``q(c|x)``, or the predicted covariates.
        """
        out = self.condition_head(self.scaler(x))
        if self.categorical:
            return torch.softmax(out, dim=-1)
        return self.condition_scaler.inverse(out)

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
