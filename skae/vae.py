"""Variational autoencoder as a scikit-learn transformer and generative model."""

import hashlib
import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import _BaseAE
from ._docstrings import fill_doc
from .likelihoods import VAE_LIKELIHOODS
from .losses import elbo
from .modules.gaussian import LIKELIHOODS
from .modules.models import VariationalModel
from .priors import StandardNormal
from .utils.validation import Interval, StrOptions

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


@fill_doc
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
    (:class:`skae.modules.VariationalModel`) trained by a skorch
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
    %(architecture)s
    %(vae_parameters)s
    %(vae_training)s

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the
        :class:`~skae.modules.VariationalModel`.
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
        architecture=None,
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
        optimizer_params=None,
        early_stopping=True,
        validation_fraction=None,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        stream_data="auto",
        callbacks=None,
        device="cpu",
        accelerator=None,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.architecture = architecture
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
        self.optimizer_params = optimizer_params
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.stream_data = stream_data
        self.callbacks = callbacks
        self.device = device
        self.accelerator = accelerator
        self.random_state = random_state
        self.verbose = verbose

    _likelihood_param = "likelihood"
    _likelihoods = VAE_LIKELIHOODS

    # ------------------------------------------------------------------
    # Hooks of _BaseAE
    # ------------------------------------------------------------------
    def _decoder_logvar(self, n_features):
        """The Gaussian likelihood's log-variance: fixed, or a parameter."""
        if self.likelihood == "bernoulli":
            return 0.0  # unused
        if self.decoder_variance == "learned":
            return torch.nn.Parameter(torch.zeros(n_features))
        return math.log(self.decoder_variance)

    def _build_module(self, n_features, scaler, seed):
        spec = self._architecture()
        return VariationalModel(
            spec.gaussian_encoder(n_features, self.n_components),
            spec.decoder(self.n_components, n_features),
            self.get_likelihood(),
            self._decoder_logvar(n_features),
            scaler,
            StandardNormal(),
            n_latent_samples=self.n_latent_samples,
            seed=seed,
        )

    def _criterion_weights(self):
        return {"kl": self.beta}

    def _attributes_after_training(self, net, attributes):
        if self.likelihood != "gaussian":
            return {"decoder_variance_": None}
        logvar = net.module_.decoder_logvar.detach().cpu().double()
        variance = np.broadcast_to(np.exp(logvar.numpy()), (self.n_features_in_,)).copy()
        if attributes["scale_"] is not None:
            variance *= attributes["scale_"].astype(np.float64) ** 2
        return {"decoder_variance_": variance}

    def _score_terms(self, module, x, **condition):
        return module.score_terms(
            x, self.n_importance_samples, _row_seeds(x, self._eval_seed), **condition
        )

    def _sample_scores(self, module, x, **condition):
        return self._score_terms(module, x, **condition)[0]

    # ------------------------------------------------------------------
    # Fitting and scoring
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
        return super().fit(X, y)

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
        X = self._validate_X(X)
        return self._map_batches(self._sample_scores, X)

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
        return self._elbo_terms(self._validate_X(X))

    def _elbo_terms(self, X, extra=None):
        def terms(module, x, **condition):
            _, reconstruction, kl = self._score_terms(module, x, **condition)
            return torch.stack([elbo(reconstruction, kl), reconstruction, kl], dim=1)

        out = self._map_batches(terms, X, extra)
        return Bunch(elbo=out[:, 0].copy(), reconstruction=out[:, 1].copy(), kl=out[:, 2].copy())

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
        rng, Z = self._prior_draws(n_samples, random_state)
        mean = self._map_batches(lambda m, z: m.decode(z), Z)
        return self._observe(mean, rng, observation_noise)

    def _prior_draws(self, n_samples, random_state):
        """The generator of :meth:`sample` and its ``n_samples`` codes
        ``z ~ p(z)`` (float64)."""
        name = f"{type(self).__name__}.sample"
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"{name}: n_samples must be a positive int, got {n_samples!r}."
            )
        if random_state is None:
            rng = np.random.default_rng()
        else:
            try:
                seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"{name}: random_state must be None, an int in "
                    f"[0, 2**32 - 1] or a RandomState instance, got {random_state!r}."
                ) from exc
            rng = np.random.default_rng(seed)
        generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
        module = self.net_.module_
        Z = module.prior.sample(n_samples, self.n_components_, generator, dtype=torch.float64)
        return rng, Z.numpy()

    def _observe(self, mean, rng, observation_noise):
        """Decoder means, or draws of ``x ~ p(x|z)`` around them."""
        if observation_noise:
            if self.likelihood == "bernoulli":
                mean = (rng.random(mean.shape) < mean).astype(np.float64)
            else:
                mean = mean + np.sqrt(self.decoder_variance_) * rng.standard_normal(mean.shape)
        return mean
