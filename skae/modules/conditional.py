"""The conditional variational autoencoder's network."""

import math
from collections import namedtuple
from functools import lru_cache

import torch
from torch import nn
from torch.nn import functional as F

from ..losses import hsic
from .models import VariationalModel
from .scaling import Standardize

#: Loss terms of the conditional VAE: minus the conditional ELBO's two terms
#: and the loss of its condition head ``q(c|x)``.
ConditionalTerms = namedtuple("ConditionalTerms", ["reconstruction", "kl", "condition"])
_OPTIONAL = ("prior_reconstruction", "consistency", "independence")


@lru_cache(maxsize=None)
def _terms_type(optional):
    """The named tuple of the terms, with the optional ones switched on."""
    if not optional:
        return ConditionalTerms
    name = "".join(part.title() for f in optional for part in f.split("_")) + "Terms"
    return namedtuple(name, [*ConditionalTerms._fields, *optional])


class ConditionFilter(nn.Module):
    """A 2-D convolution of images whose filter and offset depend on a condition.

    ``forward(raw, c)`` convolves each image of ``raw`` (rows of
    ``channels * height * width`` values, each channel alike) with the
    filter ``K(c) = K_0 + sum_k c_k D_k`` and adds an offset ``B c`` per
    value: a condition's effect on images that a shift, a blur or a sign
    change describes. ``K_0`` starts as the identity filter (a 1 at the
    centre), ``D`` and ``B`` at zero, so that the module starts as the
    identity for every condition.

    Parameters
    ----------
    n_conditions : int
        Width of the condition ``c`` (one-hot classes or standardised
        covariates).
    image_shape : tuple of int
        ``(channels, height, width)`` of the images the rows hold.
    size : int
        Side of the square filter, odd (the output keeps the image's size).

    Examples
    --------
    >>> import torch
    >>> from skae.modules import ConditionFilter
    >>> layer = ConditionFilter(2, (1, 4, 4), 3)
    >>> raw = torch.randn(3, 16)
    >>> torch.equal(layer(raw, torch.eye(2)[[0, 1, 1]]), raw)
    True
    """

    def __init__(self, n_conditions, image_shape, size):
        super().__init__()
        if size % 2 != 1:
            raise ValueError(f"ConditionFilter: size must be odd, got {size}.")
        self.image_shape = tuple(image_shape)
        weight = torch.zeros(1 + n_conditions, 1, size, size)
        weight[0, 0, size // 2, size // 2] = 1.0
        self.weight = nn.Parameter(weight)
        self.offset = nn.Linear(n_conditions, math.prod(self.image_shape), bias=False)
        nn.init.zeros_(self.offset.weight)

    def forward(self, raw, c):
        channels, height, width = self.image_shape
        lead = raw.shape[:-1]
        images = raw.reshape(-1, 1, height, width)
        # One output map per filter (K_0 and each D_k), mixed by [1, c].
        maps = F.conv2d(images, self.weight, padding=self.weight.shape[-1] // 2)
        c = c.expand(*lead, c.shape[-1]).reshape(-1, c.shape[-1])
        mix = torch.cat([c.new_ones(len(c), 1), c], dim=-1).repeat_interleave(channels, dim=0)
        out = (maps * mix[:, :, None, None]).sum(dim=1)
        return out.reshape(raw.shape) + self.offset(c).reshape(raw.shape)


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

    With a ``condition_prior``, the decoder reads ``m(c) + s(c) * z``: a
    location and a scale of the code learned for each condition, so that
    the codes of a condition need not cover the whole prior (it is Sohn et
    al.'s conditional prior ``p(z'|c) = N(m(c), diag(s(c)^2))`` on ``z' =
    m(c) + s(c) z``; the KL, invariant under this map, is the closed form
    against ``N(0, I)``, and the encoder's Gaussian is mapped back to ``z``).

    With a ``condition_filter``, the decoder reads the code alone and the
    condition acts only on its raw output, through the filter (a
    :class:`ConditionFilter`): the same code then means the same image in
    every condition, which a shift, a blur or an inversion of intensities
    (a batch effect) changes.

    Parameters
    ----------
    encoder : nn.Module
        Returns ``(mu, logvar)`` of ``q(z|x, c)`` from the standardised
        data and condition side by side (``n_features + n_conditions``
        inputs).
    decoder : nn.Module
        Maps ``n_components + n_conditions`` inputs to the raw output
        (``n_components`` with a ``condition_filter``).
    likelihood, decoder_logvar, scaler, prior, n_latent_samples, seed
        As for :class:`VariationalModel`.
    condition_scaler : Standardize, default=None
        Applied to ``c`` before the networks (standardises numeric
        covariates); None for the identity (one-hot classes).
    condition_head : nn.Module, default=None
        Maps the standardised ``x`` to ``n_conditions`` outputs: class
        logits (``categorical``) or the standardised covariates. None: no
        head, no ``condition`` term (it is then zero).
    condition_prior : nn.Module, default=None
        Maps the standardised condition to ``2 * n_components`` outputs,
        ``m(c)`` and ``log s(c)``; None for ``m = 0, s = 1``.
    condition_filter : ConditionFilter, default=None
        Applied to the decoder's raw output with the standardised
        condition; None: the decoder reads the condition beside the code.
    categorical : bool, default=True
        Whether ``c`` is one-hot classes (else numeric covariates): the
        head's loss, and HSIC's kernel on ``c``.
    prior_reconstruction : bool, default=False
        Add the term ``prior_reconstruction``: ``-log p(x|z, c)`` at a code
        ``z ~ p(z)`` drawn from the prior instead of the posterior, the
        loss of Sohn et al.'s Gaussian stochastic neural network (their
        hybrid objective weighs it with the negative ELBO).
    consistency : bool, default=False
        Add the term ``consistency``: the condition head's loss ``-log
        q(c|x)`` at the decoder's mean ``x`` for a code ``z ~ p(z)`` (the
        same draw as ``prior_reconstruction``'s), with the head's weights
        held fixed, so that the term trains the decoder to make samples in
        which the head recognises ``c`` (the attribute loss of Hu et al.,
        2017, "Toward controlled generation of text").
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
    ...     condition_head=MLPEncoder(4, (8,), 3), condition_prior=torch.nn.Linear(3, 4),
    ...     consistency=True)
    >>> c = torch.eye(3)
    >>> terms = model(torch.rand(3, 4), c)
    >>> terms._fields, terms.kl.shape
    (('reconstruction', 'kl', 'condition', 'consistency'), torch.Size([3]))
    >>> model.encode(torch.rand(3, 4), c).shape
    torch.Size([3, 2])
    >>> model.predict_condition(torch.rand(3, 4)).shape
    torch.Size([3, 3])
    >>> model.decode(torch.zeros(3, 2), c).shape
    torch.Size([3, 4])
    """

    def __init__(self, encoder, decoder, likelihood, decoder_logvar=0.0, scaler=None,
                 prior=None, condition_scaler=None, condition_head=None, *,
                 condition_prior=None, condition_filter=None, categorical=True,
                 prior_reconstruction=False,
                 consistency=False, independence=False, n_latent_samples=1, seed=0):
        super().__init__(encoder, decoder, likelihood, decoder_logvar, scaler, prior,
                         n_latent_samples=n_latent_samples, seed=seed)
        self.condition_scaler = Standardize() if condition_scaler is None else condition_scaler
        self.condition_head = condition_head
        self.condition_prior = condition_prior
        self.condition_filter = condition_filter
        self.categorical = categorical
        self.prior_reconstruction = prior_reconstruction
        self.consistency = consistency
        self.independence = independence

    def _location_scale(self, cs):
        """``(m(c), log s(c))`` of the standardised conditions ``cs``."""
        return self.condition_prior(cs).chunk(2, dim=-1)

    def _posterior(self, xs, c):
        cs = self.condition_scaler(c)
        mu, logvar = self.encoder(torch.cat([xs, cs], dim=-1))
        if self.condition_prior is None:
            return mu, logvar
        # The encoder's Gaussian is over m(c) + s(c) z; in the coordinates z
        # of the prior N(0, I) it is N((mu - m) / s, exp(logvar) / s^2).
        shift, log_scale = self._location_scale(cs)
        return (mu - shift) * torch.exp(-log_scale), logvar - 2 * log_scale

    def _decoder_output(self, z, c):
        c = self.condition_scaler(c)
        if z.dim() > c.dim():  # draws stacked on a leading dimension
            c = c.expand(*z.shape[:-1], c.shape[-1])
        if self.condition_prior is not None:
            shift, log_scale = self._location_scale(c)
            z = shift + torch.exp(log_scale) * z
        if self.condition_filter is not None:
            return self.condition_filter(self.decoder(z), c)
        return self.decoder(torch.cat([z, c], dim=-1))

    def _condition_loss(self, xs, c, parameters=None):
        """``-log q(c|x)`` per sample (up to a constant for covariates);
        ``parameters`` replace the head's own (detached ones, so that a term
        trains the decoder and not the head)."""
        if self.condition_head is None:
            return torch.zeros(len(xs), dtype=xs.dtype, device=xs.device)
        if parameters is None:
            out = self.condition_head(xs)
        else:
            out = torch.func.functional_call(self.condition_head, parameters, (xs,))
        if self.categorical:
            return -(c * torch.log_softmax(out, dim=-1)).sum(dim=-1)
        return 0.5 * ((out - self.condition_scaler(c)) ** 2).sum(dim=-1)

    def forward(self, X, c):
        xs = self.scaler(X)
        mu, logvar = self._posterior(xs, c)
        # The ELBO's draw comes first, so that the plain model's terms use
        # the same draws with or without the optional ones.
        elbo = self._elbo_terms(xs, mu, logvar, c=c)
        terms = {"condition": self._condition_loss(xs, c)}
        optional = []
        if self.prior_reconstruction or self.consistency:
            z = torch.randn(mu.shape, generator=self.generator.get(mu.device),
                            dtype=mu.dtype, device=mu.device)
            raw = self._decoder_output(z, c)
        if self.prior_reconstruction:
            optional.append("prior_reconstruction")
            terms["prior_reconstruction"] = -self.log_likelihood(raw, xs)
        if self.consistency:
            # The head, held fixed, should recognise the condition in what
            # the decoder makes of a prior draw.
            frozen = {k: v.detach() for k, v in self.condition_head.named_parameters()}
            optional.append("consistency")
            terms["consistency"] = self._condition_loss(self.likelihood.mean(raw), c, frozen)
        if self.independence:
            # The posterior means, which transform returns, are what should
            # not carry the condition.
            optional.append("independence")
            terms["independence"] = hsic(
                mu, self.condition_scaler(c), self.categorical).expand(len(X))
        return _terms_type(tuple(optional))(*elbo, **terms)

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
