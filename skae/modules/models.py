"""The trained networks: plain modules whose ``forward`` returns every term
of their objective.

Each model takes data in their own units (its first layer is a
:class:`~skae.modules.Standardize`), so that a trained model is
self-contained, and returns a small named tuple of per-sample loss terms;
:class:`~skae.modules.LossTerms` (the skorch criterion) weighs and sums
them. Randomness (latent draws, perturbations) comes from a
:class:`~skae.utils.random.TorchGenerator` the model holds, so that it
pickles and continues its stream of draws.
"""

from collections import namedtuple

import torch
from torch import nn

from .. import losses
from ..utils.random import TorchGenerator
from .gaussian import VariationalAutoEncoder
from .scaling import Standardize

#: Loss terms of an autoencoder trained on its reconstruction error.
ReconstructionTerms = namedtuple("ReconstructionTerms", ["reconstruction"])
#: Loss terms of a contractive autoencoder.
ContractiveTerms = namedtuple("ContractiveTerms", ["reconstruction", "contraction"])
#: Loss terms of a variational autoencoder: minus the ELBO's two terms.
ELBOTerms = namedtuple("ELBOTerms", ["reconstruction", "kl"])

# Scoring evaluates the decoder on (draws x rows) latent points at once; the
# draws are taken in chunks so that about this many floats (draws x rows x
# widest layer) are alive at a time, however large K is.
_SCORE_BUDGET = 2**22


class ReconstructionModel(nn.Module):
    """An autoencoder trained on its reconstruction loss.

    Parameters
    ----------
    encoder : nn.Module
        Maps standardised data to codes ``h(x)``.
    decoder : nn.Module
        Maps codes to the raw output (a logit for the Bernoulli likelihood).
    likelihood : skae.likelihoods.Likelihood
        Gives the per-feature loss and the output's mean.
    scaler : Standardize, default=None
        First layer (and, inverted, the last); None for the identity.

    Examples
    --------
    >>> import torch
    >>> from skae.likelihoods import Gaussian
    >>> from skae.modules import MLPDecoder, MLPEncoder, ReconstructionModel
    >>> model = ReconstructionModel(MLPEncoder(4, (8,), 2), MLPDecoder(2, (8,), 4),
    ...                             Gaussian())
    >>> model(torch.zeros(3, 4)).reconstruction.shape
    torch.Size([3])
    """

    def __init__(self, encoder, decoder, likelihood, scaler=None):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.scaler = Standardize() if scaler is None else scaler
        # The noise scale of the likelihood p(x | g(h(x))) used to score
        # (fitted on the training data by the estimator; 1 until then).
        self.register_buffer("noise_scale", torch.tensor(1.0))

    def encode(self, x):
        """Code of ``x``.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Data in their own units.

        Returns
        -------
        Tensor of shape (n_samples, n_components)
        """
        return self.encoder(self.scaler(x))

    def decode(self, z):
        """Reconstruction mean of codes ``z``, in the data's units.

        Parameters
        ----------
        z : Tensor of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
        """
        return self.scaler.inverse(self.likelihood.mean(self.decoder(z)))

    def _scaled(self, x, target):
        xs = self.scaler(x)
        return xs, xs if target is None else self.scaler(target)

    def forward(self, X, target=None):
        """Per-sample loss terms of a batch ``X`` rebuilt towards ``target``
        (``X`` itself by default; the clean batch when ``X`` is corrupted)."""
        xs, ts = self._scaled(X, target)
        return ReconstructionTerms(self.likelihood.loss(self._raw(xs), ts).mean(dim=1))

    def _raw(self, xs):
        """The decoder's raw output (means or logits) for standardised ``xs``."""
        return self.decoder(self.encoder(xs))

    def feature_errors(self, x):
        """Per-feature reconstruction loss of each sample, in the network's units.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Data in their own units.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
        """
        xs = self.scaler(x)
        return self.likelihood.loss(self._raw(xs), xs)

    def score_samples(self, x):
        """Log-likelihood of ``x`` in nats of the data in their own units.

        ``log p(x | g(h(x)))`` under the likelihood with the noise scale
        ``noise_scale`` (the same for every feature, in the network's
        units), plus the log-Jacobian of the standardisation: a density of
        the raw data, comparable across losses and scalings. It is an
        increasing affine function of minus the mean reconstruction loss.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Data in their own units.

        Returns
        -------
        Tensor of shape (n_samples,)
        """
        xs = self.scaler(x)
        log_p = self.likelihood.log_prob_scaled(self._raw(xs), xs, float(self.noise_scale))
        return log_p + self.scaler.log_abs_det_jacobian()


class ContractiveModel(ReconstructionModel):
    """A reconstruction autoencoder plus a contractive penalty on its encoder.

    Parameters
    ----------
    encoder, decoder, likelihood, scaler
        As for :class:`ReconstructionModel`.
    penalty : {"analytic", "stochastic"}, default="analytic"
        :func:`skae.losses.contractive_penalty` or
        :func:`skae.losses.stochastic_contractive_penalty`, taken with
        respect to the standardised input.
    noise_level : float, default=0.1
        Perturbation of the stochastic penalty.
    n_noise_samples : int, default=1
        Draws of the stochastic penalty.
    jacobian_method : {"auto", "layerwise", "func"}, default="auto"
        How the analytic penalty is computed.
    seed : int, default=0
        Seed of the perturbations.

    Examples
    --------
    >>> import torch
    >>> from skae.likelihoods import Gaussian
    >>> from skae.modules import ContractiveModel, MLPDecoder, MLPEncoder
    >>> model = ContractiveModel(MLPEncoder(4, (8,), 2), MLPDecoder(2, (8,), 4),
    ...                          Gaussian(), penalty="analytic")
    >>> terms = model(torch.zeros(3, 4))
    >>> terms._fields, terms.contraction.shape
    (('reconstruction', 'contraction'), torch.Size([3]))
    """

    def __init__(self, encoder, decoder, likelihood, scaler=None, *, penalty="analytic",
                 noise_level=0.1, n_noise_samples=1, jacobian_method="auto", seed=0):
        super().__init__(encoder, decoder, likelihood, scaler)
        self.penalty = penalty
        self.noise_level = noise_level
        self.n_noise_samples = n_noise_samples
        self.jacobian_method = jacobian_method
        self.generator = TorchGenerator(seed)

    def forward(self, X, target=None):
        xs, ts = self._scaled(X, target)
        if self.penalty == "analytic":
            code, penalty = losses.code_and_contractive_penalty(
                self.encoder, xs, self.jacobian_method
            )
        else:
            code = self.encoder(xs)
            penalty = losses.stochastic_contractive_penalty(
                self.encoder, xs, self.noise_level, self.n_noise_samples,
                self.generator.get(xs.device), code=code,
            )
        error = self.likelihood.loss(self.decoder(code), ts).mean(dim=1)
        return ContractiveTerms(error, penalty)


def _widest(module, n_features):
    widths = [n_features]
    for m in module.modules():
        if isinstance(m, nn.Linear):
            widths.append(m.out_features)
    return max(widths)


class VariationalModel(VariationalAutoEncoder):
    """A variational autoencoder: Gaussian encoder, decoder, likelihood and prior.

    A :class:`VariationalAutoEncoder` with a standardising first layer, a
    prior and its own source of draws, whose ``forward`` returns its loss
    terms.
    ``forward`` returns minus the two terms of the ELBO per sample:
    ``reconstruction = -E_q[log p(x|z)]`` (estimated with
    ``n_latent_samples`` reparameterised draws) and ``kl = KL(q(z|x) ||
    p(z))``, both in nats of the standardised data.

    Parameters
    ----------
    encoder : nn.Module
        Returns ``(mu, logvar)`` of ``q(z|x)`` from standardised data.
    decoder : nn.Module
        Returns the raw output (means, or logits for the Bernoulli).
    likelihood : skae.likelihoods.Likelihood
        ``p(x|z)``.
    decoder_logvar : float or nn.Parameter, default=0.0
        Log-variance of a Gaussian likelihood: a parameter is learned.
    scaler : Standardize, default=None
        First layer; None for the identity.
    prior : nn.Module, default=None
        :class:`~skae.priors.StandardNormal` when None.
    n_latent_samples : int, default=1
        Draws of ``z`` per sample in ``forward``.
    seed : int, default=0
        Seed of the draws in ``forward``.

    Examples
    --------
    >>> import torch
    >>> from skae.likelihoods import Bernoulli
    >>> from skae.modules import GaussianEncoder, MLPDecoder, VariationalModel
    >>> model = VariationalModel(GaussianEncoder(4, (8,), 2), MLPDecoder(2, (8,), 4),
    ...                          Bernoulli())
    >>> terms = model(torch.rand(3, 4))
    >>> terms._fields, terms.kl.shape
    (('reconstruction', 'kl'), torch.Size([3]))
    >>> log_px, rec, kl = model.score_terms(torch.rand(3, 4), 10, seeds=[0, 1, 2])
    >>> log_px.shape
    torch.Size([3])
    """

    def __init__(self, encoder, decoder, likelihood, decoder_logvar=0.0, scaler=None,
                 prior=None, *, n_latent_samples=1, seed=0):
        from ..priors import StandardNormal

        super().__init__(encoder, decoder, likelihood, decoder_logvar)
        self.scaler = Standardize() if scaler is None else scaler
        self.prior = StandardNormal() if prior is None else prior
        self.n_latent_samples = n_latent_samples
        self.generator = TorchGenerator(seed)

    def encode(self, x):
        """Posterior mean ``mu(x)``.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Data in their own units.

        Returns
        -------
        Tensor of shape (n_samples, n_components)
        """
        return self.encoder(self.scaler(x))[0]

    def decode(self, z):
        """Decoder mean in the data's units.

        Parameters
        ----------
        z : Tensor of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
        """
        return self.scaler.inverse(super().decode(z))

    def _decoder_output(self, z):
        """The decoder's raw output at ``z``: a hook of the conditional
        model, whose decoder also reads a condition ``c``."""
        return self.decoder(z)

    def _posterior(self, xs, **condition):
        """``(mu, logvar)`` of ``q(z|x)`` at the standardised ``xs``: a hook
        of the conditional model, whose encoder also reads a condition."""
        return self.encoder(xs)

    def forward(self, X, **condition):
        xs = self.scaler(X)
        mu, logvar = self._posterior(xs, **condition)
        return self._elbo_terms(xs, mu, logvar, **condition)

    def _elbo_terms(self, xs, mu, logvar, **condition):
        """Minus the ELBO's two terms of the standardised batch ``xs`` whose
        posterior is ``N(mu, exp(logvar))``."""
        n_draws = self.n_latent_samples
        # A single draw keeps z 2-D: linear layers then use the fused addmm,
        # about 10% faster per step than the batched 3-D path.
        shape = mu.shape if n_draws == 1 else (n_draws, *mu.shape)
        eps = torch.randn(shape, generator=self.generator.get(mu.device),
                          dtype=mu.dtype, device=mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps
        log_px = self.log_likelihood(self._decoder_output(z, **condition), xs)
        if n_draws > 1:
            log_px = log_px.mean(dim=0)
        return ELBOTerms(-log_px, self.prior.kl(mu, logvar))

    def feature_errors(self, x, **condition):
        """Per-feature reconstruction loss from the posterior mean, in the
        network's units.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Data in their own units.
        **condition
            The condition ``c`` of a conditional model.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
        """
        xs = self.scaler(x)
        mu = self._posterior(xs, **condition)[0]
        return self.likelihood.loss(self._decoder_output(mu, **condition), xs)

    def score_terms(self, x, n_samples, seeds, **condition):
        """Importance-weighted ``log p(x)``, mean ``log p(x|z_k)`` and KL.

        Row ``i``'s ``n_samples`` standard-normal draws come from a
        generator seeded with ``seeds[i]``; rows and draws are taken in
        blocks to bound memory. Log-densities are of the data in their own
        units (the standardisation's log-Jacobian is added).

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Data in their own units.
        n_samples : int
            Draws ``K`` per sample.
        seeds : sequence of int
            One seed per row of ``x``.
        **condition
            The condition ``c`` (one row per row of ``x``) of a conditional
            model.

        Returns
        -------
        log_px, reconstruction, kl : Tensor of shape (n_samples,)
        """
        xs = self.scaler(x)
        mu, logvar = self._posterior(xs, **condition)
        K, d = n_samples, mu.shape[1]
        width = _widest(self, xs.shape[1])
        n_rows = max(1, _SCORE_BUDGET // (K * width))
        generator = torch.Generator()
        log_likelihood, reconstruction = [], []
        for r in range(0, len(xs), n_rows):
            rows = slice(r, r + n_rows)
            eps = torch.stack(
                [
                    torch.randn(K, d, generator=generator.manual_seed(seed), dtype=torch.float64)
                    for seed in seeds[rows]
                ],
                dim=1,
            ).to(device=xs.device, dtype=xs.dtype)
            iw, rec = losses.importance_weighted_terms(
                lambda z, rows=rows: self.log_likelihood(
                    self._decoder_output(z, **{k: v[rows] for k, v in condition.items()}),
                    xs[rows],
                ),
                self.prior, mu[rows], logvar[rows], eps,
                chunk=max(1, _SCORE_BUDGET // (eps.shape[1] * width)),
            )
            log_likelihood.append(iw)
            reconstruction.append(rec)
        log_det = self.scaler.log_abs_det_jacobian()
        return (
            torch.cat(log_likelihood) + log_det,
            torch.cat(reconstruction) + log_det,
            self.prior.kl(mu, logvar),
        )
