"""Variational autoencoder as a scikit-learn transformer and generative model."""

import hashlib
import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import _BaseAE
from .losses import (
    elbo,
    feature_reconstruction_error,
    gaussian_kl,
    gaussian_log_likelihood,
    importance_weighted_log_likelihood,
)
from .modules.gaussian import (
    LIKELIHOODS,
    GaussianEncoder,
    VariationalAutoEncoder,
    reparameterize,
)
from .modules.mlp import MLPDecoder
from .utils.validation import Interval, StrOptions, check_unit_interval

# Scoring evaluates the decoder on (draws x rows) latent points at once; the
# draws are taken in chunks so that about this many floats (draws x rows x
# widest layer) are alive at a time, however large K is.
_SCORE_BUDGET = 2**22


def _row_seeds(X, seed):
    """One 63-bit seed per row of the tensor ``X``, a hash of its values keyed
    by ``seed``: a row gets the same seed whichever rows it is batched with."""
    rows = X.detach().cpu().to(torch.float64).numpy()
    key = seed.to_bytes(8, "little")
    return [
        int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8, key=key).digest(), "little")
        >> 1
        for row in rows
    ]


class VAETransformer(_BaseAE):
    """Variational autoencoder: a latent-variable model that encodes,
    generates and scores.

    The model draws a code ``z ~ p(z) = N(0, I)`` of ``n_components`` values
    and then ``x ~ p(x|z)``, whose mean is computed from ``z`` by an MLP
    decoder. An MLP encoder gives the approximate posterior ``q(z|x) =
    N(mu(x), diag(sigma^2(x)))``. Both are trained together by maximising
    the evidence lower bound (ELBO)

    ``E_q[log p(x|z)] - beta KL(q(z|x) || p(z)) <= log p(x)``  (for beta=1),

    with the expectation estimated by ``n_latent_samples`` reparameterised
    draws ``z = mu + sigma * eps`` and the KL divergence in closed form [1]_.

    :meth:`transform` returns the posterior mean ``mu(x)``,
    :meth:`inverse_transform` the decoder's mean, :meth:`sample` new data,
    :meth:`score_samples` an importance-weighted estimate of ``log p(x)``
    [2]_ and :meth:`elbo_terms` the ELBO with its two terms.

    The network is a plain :class:`torch.nn.Module`
    (:class:`skae.modules.VariationalAutoEncoder`) trained by a skorch
    ``NeuralNet`` held in ``net_``.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent code ``z``.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    activation : {"relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu"}, \
            default="elu"
        Hidden activation. The heads of the encoder and the decoder's output
        layer are linear. Unlike the deterministic autoencoders (``"tanh"``,
        which keeps their unbounded codes evenly spread), the VAE needs no
        bounded activation: the KL term already keeps its codes near N(0, I).
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        The decoder's distribution ``p(x|z)``. ``"bernoulli"`` is for data in
        [0, 1] (binary, or grey levels): the decoder outputs logits and the
        reconstruction term is minus the cross-entropy. ``"gaussian"`` is for
        real-valued data: the decoder outputs means, with variance
        ``decoder_variance``.
    decoder_variance : float or "learned", default=1.0
        Variance of the Gaussian likelihood, in the units the network sees
        (the standardised units when ``standardize`` is on): a fixed value,
        or ``"learned"`` for one variance per feature trained with the
        network. Smaller values weigh reconstruction more against the KL
        term. Unused for ``likelihood="bernoulli"``.
    beta : float, default=1.0
        Weight of the KL term in the training loss. 1 is the VAE; other
        values give a beta-VAE (larger: smoother, more disentangled codes,
        blurrier reconstructions). Reported ELBOs always use weight 1, so
        that they bound ``log p(x)``.
    n_latent_samples : int, default=1
        Draws of ``z`` per sample and training step for the reconstruction
        term.
    n_importance_samples : int, default=100
        Draws ``K`` of ``z`` per sample in :meth:`score_samples`,
        :meth:`score` and :meth:`elbo_terms`. ``K = 1`` gives the ELBO;
        larger values tighten the estimate towards ``log p(x)`` at a cost
        linear in ``K`` (100 decoder passes per sample by default).
    standardize : bool or "auto", default="auto"
        Standardise each feature (zero mean, unit variance, computed on the
        training data) before the network sees it. ``"auto"`` means True for
        the Gaussian likelihood and False for the Bernoulli one (whose data
        must stay in [0, 1]). Scores are densities of the original data
        either way.
    max_epochs : int, default=200
        Maximum number of passes over the training data.
    batch_size : int, default=128
        Samples per gradient step.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
            default="adam"
        The optimiser.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimiser.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data (drawn with
        ``random_state``), stop when its loss (the negative ELBO) has not
        improved by a relative ``tol`` for ``n_iter_no_change`` epochs, and
        restore the weights of the best epoch. Skipped when the data are too
        few for a split.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum relative improvement of the validation loss.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, or ``(name, callback)`` tuples. They are
        copied at each fit.
    device : str or torch.device, default="cpu"
        Where the network trains and predicts (``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ``"mps"``). Outputs are NumPy arrays on any device.
        The training data are moved to the device in one piece (batches
        are slices of it), so they must fit in its memory; prediction
        moves them batch by batch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split, the shuffling, the
        draws of ``z`` during training and the draws used by
        :meth:`score_samples`. The same value gives identical results on CPU.
    verbose : int, default=0
        1 prints skorch's per-epoch table.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the
        :class:`~skae.modules.VariationalAutoEncoder`.
    history_ : skorch.History
        Per-epoch training record; ``train_loss`` is the negative
        (beta-weighted) ELBO in nats per sample, in the network's units.
    n_epochs_ : int
        Number of epochs run.
    n_components_ : int
        Dimension of the latent code.
    decoder_variance_ : ndarray of shape (n_features_in_,) or None
        Per-feature variance of the Gaussian likelihood in the units of the
        training data (None for the Bernoulli likelihood).
    mean_ : ndarray of shape (n_features_in_,) or None
        Per-feature mean used for standardisation (None when off).
    scale_ : ndarray of shape (n_features_in_,) or None
        Per-feature standard deviation used for standardisation.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column
        names.

    See Also
    --------
    AutoEncoderTransformer : The deterministic autoencoder.
    sklearn.decomposition.FactorAnalysis : The linear-Gaussian latent
        variable model, with an exact likelihood.
    sklearn.mixture.GaussianMixture : A density model with ``sample`` and
        ``score_samples``.

    Notes
    -----
    The ``K`` standard-normal vectors ``eps_k`` behind :meth:`score_samples`
    and :meth:`elbo_terms` (``z_k = mu(x) + sigma(x) * eps_k``) are drawn for
    each row from a generator seeded by a hash of the row's values (as the
    network sees them) and a seed fixed at fit from ``random_state``. Each
    score is an ordinary importance-weighted estimate with its own draws,
    yet scores are deterministic and do not depend on which other rows are
    scored with it or in what order; estimators fitted with the same
    ``random_state`` (e.g. the candidates of a ``GridSearchCV``) share their
    draws, which makes their comparison less noisy.

    With ``standardize`` on, the network models the standardised data;
    scores add ``-sum(log scale_)`` (the log-Jacobian of the
    standardisation) so that they are log-densities of the original data in
    nats. Scores of the Bernoulli likelihood are log-probabilities of binary
    data (for grey levels, minus the cross-entropy, which is not a
    normalised density).

    References
    ----------
    .. [1] D. P. Kingma and M. Welling, "Auto-encoding variational Bayes",
       ICLR 2014.
    .. [2] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance weighted
       autoencoders", ICLR 2016.
    .. [3] I. Higgins et al., "beta-VAE: learning basic visual concepts with
       a constrained variational framework", ICLR 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VAETransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> vae = VAETransformer(likelihood="bernoulli", max_epochs=2, random_state=0)
    >>> vae.fit_transform(X).shape
    (1797, 2)
    >>> vae.sample(5, random_state=0).shape
    (5, 64)
    >>> vae.score_samples(X[:3]).shape
    (3,)
    >>> sorted(vae.elbo_terms(X[:3]))
    ['elbo', 'kl', 'reconstruction']
    """

    _parameter_constraints = {
        **_BaseAE._parameter_constraints,
        "likelihood": [StrOptions(set(LIKELIHOODS))],
        "decoder_variance": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"learned"}),
        ],
        "beta": [Interval(Real, 0, None, closed="left")],
        "n_latent_samples": [Interval(Integral, 1, None, closed="left")],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(128, 64),
        activation="elu",
        likelihood="gaussian",
        decoder_variance=1.0,
        beta=1.0,
        n_latent_samples=1,
        n_importance_samples=100,
        standardize="auto",
        max_epochs=200,
        batch_size=128,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.decoder_variance = decoder_variance
        self.beta = beta
        self.n_latent_samples = n_latent_samples
        self.n_importance_samples = n_importance_samples
        self.standardize = standardize
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------
    # Hooks of _BaseAE
    # ------------------------------------------------------------------
    def _check_input(self, X):
        super()._check_input(X)
        self._check_range(X)

    def _check_range(self, X):
        if self.likelihood == "bernoulli":
            check_unit_interval(
                X, type(self).__name__, "likelihood='bernoulli'", "likelihood='gaussian'"
            )

    def _use_standardize(self):
        if self.standardize == "auto":
            return self.likelihood == "gaussian"
        if self.standardize and self.likelihood == "bernoulli":
            raise ValueError(
                "VAETransformer: standardize=True moves data out of [0, 1], "
                "which likelihood='bernoulli' needs; use standardize='auto' or "
                "False with it, or likelihood='gaussian'."
            )
        return bool(self.standardize)

    def _build_module(self, n_features):
        sizes = self._hidden_layer_sizes()
        bernoulli = self.likelihood == "bernoulli"
        if bernoulli:
            decoder_logvar = 0.0  # unused
        elif self.decoder_variance == "learned":
            decoder_logvar = torch.nn.Parameter(torch.zeros(n_features))
        else:
            decoder_logvar = math.log(self.decoder_variance)
        module = VariationalAutoEncoder(
            GaussianEncoder(n_features, sizes, self.n_components, self.activation),
            MLPDecoder(
                self.n_components,
                sizes,
                n_features,
                self.activation,
                "sigmoid" if bernoulli else "identity",
            ),
            likelihood=self.likelihood,
            decoder_logvar=decoder_logvar,
        )
        return module

    def _batch_loss(self, module, X, training):
        mu, logvar = module.encoder(X)
        n_draws = self.n_latent_samples
        # A single draw keeps z 2-D: linear layers then use the fused addmm,
        # about 10% faster per step than the batched 3-D path.
        z = reparameterize(
            mu, logvar, self._noise_generator, n_samples=None if n_draws == 1 else n_draws
        )
        log_px = module.log_likelihood(module.decoder(z), X)
        if n_draws > 1:
            log_px = log_px.mean(dim=0)
        return -elbo(log_px, gaussian_kl(mu, logvar), self.beta).mean()

    def _sample_scores(self, module, X):
        return self._monte_carlo_terms(module, X)[0]

    def _feature_errors(self, module, X):
        # forward draws a code; the per-feature breakdown (used by
        # AEOutlierDetector.feature_errors) rebuilds from the posterior mean.
        raw = module.decoder(module.encode(X))
        loss = "bce" if self.likelihood == "bernoulli" else "mse"
        return feature_reconstruction_error(raw, X, loss)

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit the variational autoencoder to ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; in [0, 1] for ``likelihood="bernoulli"``.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        super().fit(X, y)
        if self.likelihood == "gaussian":
            logvar = self.net_.module_.decoder_logvar.detach().cpu().double()
            variance = np.broadcast_to(
                np.exp(logvar.numpy()), (self.n_features_in_,)
            ).copy()
            if self.scale_ is not None:
                variance *= self.scale_.astype(np.float64) ** 2
            self.decoder_variance_ = variance
        else:
            self.decoder_variance_ = None
        return self

    def transform(self, X):
        """Encode ``X`` as the posterior means ``mu(x)``.

        The mean of ``q(z|x)``, without sampling: deterministic, and the
        natural features for a downstream estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Posterior means, of the input's float dtype.
        """
        return super().transform(X)

    # ------------------------------------------------------------------
    # Scoring
    # ------------------------------------------------------------------
    def _monte_carlo_terms(self, module, X):
        """Per-sample IWAE estimate, mean ``log p(x|z_k)`` over the draws and KL.

        Each row's ``K`` draws of ``eps`` come from a generator seeded by a
        hash of the row's values and the seed fixed at fit (see Notes of the
        class). Rows and draws are taken in blocks to bound memory.
        """
        K, d = self.n_importance_samples, self.n_components_
        seeds = _row_seeds(X, self._eval_seed)
        mu, logvar = module.encoder(X)
        std = torch.exp(0.5 * logvar)
        width = max(X.shape[1], d, *self._hidden_layer_sizes())
        n_rows = max(1, _SCORE_BUDGET // (K * width))
        generator = torch.Generator()
        log_likelihood, reconstruction = [], []
        for r in range(0, len(X), n_rows):
            rows = slice(r, r + n_rows)
            eps = torch.stack(
                [
                    torch.randn(K, d, generator=generator.manual_seed(seed), dtype=torch.float64)
                    for seed in seeds[rows]
                ],
                dim=1,
            ).to(device=X.device, dtype=X.dtype)
            n_draws = max(1, _SCORE_BUDGET // (eps.shape[1] * width))
            block_px, block_w = [], []
            for k in range(0, K, n_draws):
                # z_k = mu + sigma * eps_k: the reparameterisation.
                z = mu[rows] + std[rows] * eps[k : k + n_draws]
                lp = module.log_likelihood(module.decoder(z), X[rows])
                log_prior = gaussian_log_likelihood(torch.zeros_like(z), z)
                log_posterior = gaussian_log_likelihood(mu[rows], z, logvar[rows])
                block_px.append(lp)
                block_w.append(lp + log_prior - log_posterior)
            # Reduce over the draws block by block: memory stays bounded for
            # any K, not K x rows.
            reconstruction.append(torch.cat(block_px).mean(dim=0))
            log_likelihood.append(importance_weighted_log_likelihood(torch.cat(block_w)))
        return torch.cat(log_likelihood), torch.cat(reconstruction), gaussian_kl(mu, logvar)

    def _log_jacobian(self):
        """Log-Jacobian of the standardisation: turns densities of the
        standardised data into densities of the original data."""
        if self.scale_ is None:
            return 0.0
        return -float(np.sum(np.log(self.scale_.astype(np.float64))))

    def _validate_score_X(self, X):
        X = self._validate_X(X)
        self._check_range(X)
        return X

    def score_samples(self, X):
        """Importance-weighted estimate of ``log p(x)`` for each sample, in nats.

        ``log (1/K sum_k p(x|z_k) p(z_k) / q(z_k|x))`` with ``K =
        n_importance_samples`` draws ``z_k ~ q(z|x)`` (Burda et al., 2016):
        the ELBO for ``K = 1``, a tighter lower bound on ``log p(x)`` (in
        expectation) as ``K`` grows. It is a log-density of the original data, whatever
        ``standardize`` is; higher means more typical of the training
        distribution.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score; in [0, 1] for ``likelihood="bernoulli"``.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Estimated log-likelihoods, of the input's float dtype.
        """
        X = self._validate_score_X(X)
        scores = self._map_batches(self._sample_scores, X) + self._log_jacobian()
        return scores.astype(X.dtype, copy=False)

    def score(self, X, y=None):
        """Mean estimated log-likelihood of ``X`` (see :meth:`score_samples`).

        This is what ``GridSearchCV`` and ``cross_val_score`` maximise when
        no scorer is given: the held-out log-likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Mean log-likelihood in nats per sample.
        """
        return super().score(X, y)

    def elbo_terms(self, X):
        """Per-sample ELBO and its two terms, in nats.

        ``elbo = reconstruction - kl`` with ``reconstruction = E_q[log
        p(x|z)]`` (estimated with the ``n_importance_samples`` draws of
        :meth:`score_samples`) and ``kl = KL(q(z|x) || p(z))`` in closed
        form. The KL weight is 1 whatever ``beta`` is, so that ``elbo`` is a
        lower bound on ``log p(x)``. Like the scores, ``reconstruction`` and
        ``elbo`` are densities of the original data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to evaluate.

        Returns
        -------
        terms : :class:`~sklearn.utils.Bunch`
            With keys ``elbo``, ``reconstruction`` and ``kl``, each an
            ndarray of shape (n_samples,).
        """
        X = self._validate_score_X(X)

        def terms(module, x):
            _, reconstruction, kl = self._monte_carlo_terms(module, x)
            return torch.stack([elbo(reconstruction, kl), reconstruction, kl], dim=1)

        out = self._map_batches(terms, X)
        log_jacobian = self._log_jacobian()
        return Bunch(
            elbo=out[:, 0] + log_jacobian,
            reconstruction=out[:, 1] + log_jacobian,
            kl=out[:, 2].copy(),
        )

    # ------------------------------------------------------------------
    # Generation
    # ------------------------------------------------------------------
    def sample(self, n_samples=1, random_state=None, *, observation_noise=False):
        """Generate data: ``z ~ N(0, I)`` passed through the decoder.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws. None gives new draws at each call (from fresh
            operating-system entropy; numpy's global RNG is not touched).
        observation_noise : bool, default=False
            False returns the decoder's mean for each ``z`` (Bernoulli
            probabilities or Gaussian means: smooth images). True draws
            ``x ~ p(x|z)`` instead (0/1 values, or the mean plus Gaussian
            noise of variance ``decoder_variance_``): samples of the model's
            full distribution.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_)
            Generated samples in the units of the training data, float64.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"VAETransformer.sample: n_samples must be a positive int, got "
                f"{n_samples!r}."
            )
        if random_state is None:
            rng = np.random.default_rng()
        else:
            rng = np.random.default_rng(
                check_random_state(random_state).randint(np.iinfo(np.int32).max)
            )
        Z = rng.standard_normal((n_samples, self.n_components_))
        mean = self._map_batches(lambda m, z: m.decode(z), Z, scale=False)
        if observation_noise:
            if self.likelihood == "bernoulli":
                mean = (rng.random(mean.shape) < mean).astype(np.float64)
            else:
                logvar = self.net_.module_.decoder_logvar.detach().cpu().double().numpy()
                mean = mean + np.exp(0.5 * logvar) * rng.standard_normal(mean.shape)
        return self._unscale(mean)
