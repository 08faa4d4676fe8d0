"""Conditional variational autoencoder: generate, score and encode given a condition."""

import math
from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from torch import nn
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted

from ._docstrings import fill_doc
from .likelihoods import standardization_stats
from .modules.conditional import ConditionalVariationalModel, ConditionFilter
from .modules.scaling import Standardize
from .priors import StandardNormal
from .utils.validation import Interval, StrOptions
from .vae import VAETransformer

# The weight of the consistency term for class conditions: on the MNIST
# benchmark it takes the share of class-conditional samples of the right
# digit from 0.46 (without it) to 0.86 and costs 2 nats of log p(x | c).
_AUTO_CONSISTENCY = 10.0

_NO_Y = (
    "{name} requires y to be passed, but the target y is None: y is the "
    "condition (class labels or numeric covariates) of each sample."
)


@fill_doc
class ConditionalVAE(VAETransformer):
    """Conditional variational autoencoder: a VAE whose decoder is told a
    condition, to generate on demand and to factor a nuisance out of the codes.

    Each sample ``x`` comes with a condition ``c``: class labels (a digit, a
    batch, a site) or numeric covariates. The model draws a code ``z ~ p(z)
    = N(0, I)`` and then ``x ~ p(x | z, c)``, whose mean an MLP decoder
    computes from ``z' = m(c) + s(c) z`` and ``c`` side by side, with a
    location ``m(c)`` and a scale ``s(c)`` learned for each class (the
    conditional prior ``p(z' | c)`` of Sohn et al. [1]_; see
    ``conditional_prior``). The encoder reads ``x`` and ``c`` side by side
    too and gives ``q(z | x, c) = N(mu(x, c), diag(sigma^2(x, c)))``; both
    are trained by maximising the conditional ELBO

    ``E_q[log p(x | z, c)] - beta KL(q(z | x, c) || p(z)) <= log p(x | c)``,

    with the KL in closed form [2]_. ``fit(X, y)`` takes the condition as
    ``y``; class labels are one-hot encoded inside (``classes_``), numeric
    covariates standardised inside.

    Given a condition, the model generates (:meth:`sample`), encodes
    (:meth:`transform`), decodes codes under any condition
    (:meth:`inverse_transform`: "this sample, as batch B would have it")
    and scores (:meth:`score_samples`: an importance-weighted ``log p(x |
    c)``). A condition head ``q(c | x)``, a network of the encoder's
    architecture trained on ``x`` alone in the same fit, predicts the
    condition where it is not given: :meth:`transform` without ``y`` (as a
    ``Pipeline`` calls it) encodes under the predicted condition, and
    :meth:`predict_condition` returns it.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent code ``z``.
    condition : {"auto", "categorical", "numeric"}, default="auto"
        What ``y`` holds. ``"categorical"``: class labels (one column of
        ints, strings or bools), one-hot encoded for the networks.
        ``"numeric"``: covariates of shape (n_samples,) or (n_samples, k),
        standardised for the networks. ``"auto"``: categorical when
        :func:`~sklearn.utils.multiclass.type_of_target` finds binary or
        multiclass labels, numeric otherwise.
    conditional_prior : bool or "auto", default="auto"
        Whether the decoder reads ``z' = m(c) + s(c) z`` rather than ``z``,
        with ``m(c)`` and ``log s(c)`` linear in the (one-hot) condition
        and zero at first: a prior ``N(m(c), diag(s(c)^2))`` per class in
        the decoder's coordinates, ``N(0, I)`` in those of ``z``, in which
        :meth:`transform` returns the codes (so that a batch's codes are
        centred and scaled as the others'). ``"auto"``: on for class
        conditions, off for numeric covariates (a scale that moves with
        hundreds of covariates made the benchmark's quadrant completion
        worse). On MNIST it raises the test ``log p(x | c)`` by 3 nats.
    condition_effect : {"input", "filter"}, default="input"
        How the condition reaches the decoder. ``"input"``: beside the
        code, at the decoder's input (Sohn et al. [1]_): the condition can
        change anything, as a class does. ``"filter"``, for a nuisance of
        images such as a batch (rows holding images, square single-channel
        ones unless ``image_shape`` says otherwise): the decoder reads the
        code alone and the condition acts on its output only, through a
        learned ``filter_size`` x ``filter_size`` convolution filter and a
        per-pixel offset per condition (:class:`~skae.modules.ConditionFilter`,
        on the logits for the Bernoulli likelihood), enough for a shift, a
        blur or an inversion of intensities. The same code then means the
        same image content in every condition, so the codes of a digit
        line up across batches: with ``"input"``, each batch is free to lay
        out its codes its own way, and a classifier fitted on the codes of
        one batch reads those of another at little better than chance
        (MNIST benchmark: 0.31 against 0.78, see the user guide).
    filter_size : int, default=7
        Side of the condition's filter (odd) for ``condition_effect=
        "filter"``: it reaches ``filter_size // 2`` pixels around each pixel.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(channels, height, width)`` of the images
        for ``condition_effect="filter"``; None: square single-channel
        images of ``sqrt(n_features)`` pixels a side.
    consistency_weight : float or "auto", default="auto"
        Weight of the consistency term: the condition head's loss ``-log
        q(c | x')``, with its weights held fixed, at ``x'`` the decoder's
        mean for a code ``z ~ p(z)`` drawn from the prior under each
        training sample's condition (the attribute loss of Hu et al. [5]_).
        It trains the decoder to make samples in which ``c`` can be
        recognised, so that :meth:`sample` follows ``y``. ``"auto"``: 10
        for class conditions, 0 for numeric covariates. On the MNIST
        benchmark it takes the share of class-conditional samples of the
        right digit from 0.46 to 0.86, at a cost of 2 nats of test
        likelihood (see the user guide). Reported ELBOs and scores never
        include it.
    prior_weight : float, default=0.0
        Weight of Sohn et al.'s hybrid objective [1]_: ``-log p(x | z, c)``
        at a code ``z ~ p(z)`` drawn from the prior (their Gaussian
        stochastic neural network) added to the negative ELBO. It trains
        the decoder to make, from any prior code, a sample of the given
        condition; it costs much likelihood. On the MNIST benchmark (20
        latent dimensions, the plain conditional VAE), 1.0 brings the
        share of class-conditional samples of the right digit from 0.36 to
        1.00, and lowers the test log-likelihood by 22 nats. Reported
        ELBOs and scores never include it.
    independence_weight : float, default=0.0
        Weight of a penalty on the dependence between the codes and the
        condition: :func:`skae.losses.hsic` between the posterior means of
        each training batch and their conditions, added to the negative
        ELBO (the HSIC-constrained VAE of Lopez et al. [4]_). The ELBO
        penalises codes that carry the condition by at most the
        condition's entropy (log 2 nats for two batches), often too little:
        codes of very different batches then stay apart. The right weight
        depends on the data (on MNIST, 1,000 mixes shifted and blurred
        images with the others but collapses the codes of inverted ones).
        Reported ELBOs and scores never include it.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    activation : {"relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu"}, \
            default="elu"
        Hidden activation.
    %(architecture)s
    %(vae_parameters)s
    %(vae_training)s

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the
        :class:`~skae.modules.ConditionalVariationalModel`.
    history_ : skorch.History
        Per-epoch training record; ``train_loss`` is the negative
        (beta-weighted) conditional ELBO in nats per sample, plus the
        condition head's loss and the weighted consistency term and
        penalties.
    n_epochs_ : int
        Number of epochs run.
    n_components_ : int
        Dimension of the latent code.
    condition_ : {"categorical", "numeric"}
        What the condition is, as resolved at fit.
    classes_ : ndarray of shape (n_classes,) or None
        The class labels of a categorical condition (None for numeric).
    class_prior_ : ndarray of shape (n_classes,) or None
        Share of each class in the training data: ``p(c)`` of
        :meth:`score_samples` and :meth:`sample` without ``y``.
    n_conditions_ : int
        Width of the networks' condition input (the number of classes, or
        of numeric covariates).
    condition_mean_, condition_scale_ : ndarray of shape (n_conditions_,) or None
        Standardisation of numeric covariates (None for classes).
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
    VAETransformer : The unconditional variational autoencoder.
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis : A linear
        Gaussian model of ``p(x | c)`` per class, with ``predict_proba``.
    sklearn.mixture.GaussianMixture : A density model with ``sample`` and
        ``score_samples``, one component per cluster rather than per
        given class.

    Notes
    -----
    What :meth:`transform` does without ``y``: the encoder needs ``c``, and
    a ``Pipeline`` passes ``X`` alone to ``transform`` (at fit too, through
    ``fit_transform``). The condition head's prediction stands in for it:
    where the condition can be read off ``x`` (a batch, an instrument, the
    digit of an image), the codes are those of the true condition; the
    codes never come from a condition the model was not told or could not
    infer. Give ``y`` to :meth:`transform` to encode under a known
    condition. Numeric conditions get the head's regression. (scVI's
    encoder reads ``x`` alone by default [3]_, which needs no head but
    leaves the encoder unable to undo a condition's effect on ``x``.)

    Without ``y``, :meth:`score_samples` and :meth:`sample` use the classes'
    training shares ``p(c)``: ``log p(x) = log sum_c p(c) p(x | c)``, and
    ``c ~ p(c)`` before ``x ~ p(x | c)``. Numeric conditions have no such
    prior and need ``y``.

    Importance draws are those of :class:`VAETransformer` (seeded by a hash
    of each row of ``X``): a row's score is deterministic and the same draws
    serve every condition it is scored under.

    References
    ----------
    .. [1] K. Sohn, H. Lee and X. Yan, "Learning structured output
       representation using deep conditional generative models", NeurIPS
       2015.
    .. [2] D. P. Kingma, D. J. Rezende, S. Mohamed and M. Welling,
       "Semi-supervised learning with deep generative models", NeurIPS 2014.
    .. [3] R. Lopez, J. Regier, M. B. Cole, M. I. Jordan and N. Yosef, "Deep
       generative modeling for single-cell transcriptomics", Nature Methods
       15, 2018.
    .. [4] R. Lopez, J. Regier, M. I. Jordan and N. Yosef, "Information
       constraints on auto-encoding variational Bayes", NeurIPS 2018.
    .. [5] Z. Hu, Z. Yang, X. Liang, R. Salakhutdinov and E. P. Xing,
       "Toward controlled generation of text", ICML 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ConditionalVAE
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> cvae = ConditionalVAE(likelihood="bernoulli", max_epochs=2, random_state=0)
    >>> cvae.fit(X, y).transform(X).shape
    (1797, 2)
    >>> cvae.sample(5, y=7, random_state=0).shape
    (5, 64)
    >>> cvae.score_samples(X[:3], y[:3]).shape
    (3,)
    >>> cvae.inverse_transform(cvae.transform(X[:3]), y=[1, 2, 3]).shape
    (3, 64)
    """

    _parameter_constraints = {
        **VAETransformer._parameter_constraints,
        "condition": [StrOptions({"auto", "categorical", "numeric"})],
        "conditional_prior": ["boolean", StrOptions({"auto"})],
        "condition_effect": [StrOptions({"input", "filter"})],
        "filter_size": [Interval(Integral, 1, None, closed="left")],
        "image_shape": [tuple, None],
        "consistency_weight": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "prior_weight": [Interval(Real, 0, None, closed="left")],
        "independence_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        condition="auto",
        conditional_prior="auto",
        condition_effect="input",
        filter_size=7,
        image_shape=None,
        consistency_weight="auto",
        prior_weight=0.0,
        independence_weight=0.0,
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
        self.condition = condition
        self.conditional_prior = conditional_prior
        self.condition_effect = condition_effect
        self.filter_size = filter_size
        self.image_shape = image_shape
        self.consistency_weight = consistency_weight
        self.prior_weight = prior_weight
        self.independence_weight = independence_weight
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

    # ------------------------------------------------------------------
    # The condition
    # ------------------------------------------------------------------
    def _fit_condition(self, y, n_samples):
        """Validate the training condition and set the fitted attributes
        that encode it."""
        name = type(self).__name__
        if y is None:
            raise ValueError(_NO_Y.format(name=name))
        y = np.asarray(y)
        if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
            raise ValueError(
                f"{name}.fit: the condition y contains NaN or infinity; give every "
                "sample a finite condition."
            )
        if y.ndim == 0 or len(y) != n_samples:
            raise ValueError(
                f"{name}.fit: y has {y.size if y.ndim else 1} conditions but X has "
                f"{n_samples} samples; give one condition per sample."
            )
        kind = self.condition
        if kind == "auto":
            kind = "categorical" if type_of_target(y) in ("binary", "multiclass") else "numeric"
        self.condition_ = kind
        if kind == "categorical":
            if y.ndim == 2 and y.shape[1] == 1:
                y = y.ravel()
            if y.ndim != 1:
                raise ValueError(
                    f"{name}.fit: condition='categorical' takes one column of class "
                    f"labels, got y of shape {y.shape}."
                )
            self.classes_, counts = np.unique(y, return_counts=True)
            self.class_prior_ = counts / counts.sum()
            self.n_conditions_ = len(self.classes_)
            self.condition_mean_ = self.condition_scale_ = None
        else:
            C = self._numeric(y, f"{name}.fit", width=None)
            mean, scale = standardization_stats(C)
            scale[scale < 10 * np.finfo(np.float32).eps] = 1.0
            self.classes_ = self.class_prior_ = None
            self.n_conditions_ = C.shape[1]
            self.condition_mean_, self.condition_scale_ = mean, scale
        return self._encode_condition(y, n_samples, f"{name}.fit")

    def _numeric(self, y, where, width):
        """Numeric covariates as a finite 2-D float64 array."""
        try:
            C = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{where}: the numeric condition y must hold numbers, got "
                f"{np.asarray(y).dtype} values."
            ) from exc
        if C.ndim == 0:
            C = C.reshape(1, 1)
        elif C.ndim == 1:
            # A 1-D y is one covariate per sample, or (with several
            # covariates) the covariates of a single condition.
            C = C.reshape(-1, 1) if width in (None, 1) else C.reshape(1, -1)
        if C.ndim != 2 or (width is not None and C.shape[1] != width):
            raise ValueError(
                f"{where}: the numeric condition y must have {width or 'k'} "
                f"column(s), got shape {np.shape(y)}."
            )
        return check_array(C, input_name="y", ensure_min_samples=1)

    def _encode_condition(self, y, n_samples, where):
        """The decoder's condition input for ``n_samples`` rows: one-hot
        classes or raw covariates (the model standardises them), float64.
        ``y`` is one condition for all rows or one per row."""
        check_is_fitted(self)
        if y is None:
            raise ValueError(
                f"{where} needs the condition y (class labels or covariates), one "
                "for all samples or one per sample."
            )
        if self.condition_ == "categorical":
            labels = np.asarray(y)
            if labels.dtype.kind != self.classes_.dtype.kind:
                # Mixed or other types ("a", 1): compare as Python objects, so
                # that a list's numpy conversion does not turn 1 into "1".
                labels = np.asarray(y, dtype=object)
            if labels.ndim == 2 and labels.shape[1] == 1:
                labels = labels.ravel()
            labels = labels.reshape(1) if labels.ndim == 0 else labels
            if labels.ndim != 1:
                raise ValueError(
                    f"{where}: the condition y must be class labels, one per sample, "
                    f"got an array of shape {np.shape(y)}."
                )
            index = np.full(len(labels), -1)
            for i, label in enumerate(self.classes_):
                index[labels == label] = i
            if np.any(index < 0):
                unknown = np.unique(labels[index < 0].astype(str)).tolist()
                raise ValueError(
                    f"{where}: y holds classes not seen at fit: {unknown[:5]}; "
                    f"the known classes are {self.classes_.tolist()}."
                )
            C = np.eye(self.n_conditions_)[index]
        else:
            C = self._numeric(y, where, self.n_conditions_)
        if len(C) == 1 and n_samples != 1:
            C = np.repeat(C, n_samples, axis=0)
        if len(C) != n_samples:
            raise ValueError(
                f"{where}: y has {len(C)} conditions for {n_samples} samples; give "
                "one condition for all samples or one per sample."
            )
        return C

    # ------------------------------------------------------------------
    # Hooks of _BaseAE
    # ------------------------------------------------------------------
    def _check_input(self, X):
        if self.condition_effect == "filter":
            self._filter_image_shape(X.shape[1])
        super()._check_input(X)

    def _module_inputs(self, X, y, reset):
        if reset:
            C = self._fit_condition(y, len(X))
        else:
            name = type(self).__name__
            if y is None:
                raise ValueError(_NO_Y.format(name=name))
            if np.ndim(y) == 0 or len(y) != len(X):
                raise ValueError(
                    f"{name}.fit: y has {np.size(y)} conditions but X has {len(X)} "
                    "samples; give one condition per sample."
                )
            C = self._encode_condition(y, len(X), f"{name}.fit")
        return {"c": C.astype(X.dtype)}

    def _criterion_weights(self):
        return {"kl": self.beta, "prior_reconstruction": self.prior_weight,
                "consistency": self._consistency_weight(),
                "independence": self.independence_weight}

    def _build_module(self, n_features, scaler, seed):
        spec = self._architecture()
        try:
            encoder = spec.gaussian_encoder(n_features + self.n_conditions_, self.n_components)
        except ValueError as exc:
            raise ValueError(
                f"{type(self).__name__}: the encoder reads x and c side by side "
                f"({n_features} + {self.n_conditions_} inputs), which the architecture "
                f"{type(spec).__name__} cannot build: {exc}"
            ) from exc
        condition_filter = self._condition_filter(n_features)
        decoder_inputs = self.n_components + (0 if condition_filter else self.n_conditions_)
        return ConditionalVariationalModel(
            encoder,
            spec.decoder(decoder_inputs, n_features),
            self.get_likelihood(),
            self._decoder_logvar(n_features),
            scaler,
            StandardNormal(),
            Standardize(self.condition_mean_, self.condition_scale_),
            spec.encoder(n_features, self.n_conditions_),
            condition_prior=self._condition_prior(),
            condition_filter=condition_filter,
            categorical=self.condition_ == "categorical",
            prior_reconstruction=self.prior_weight > 0,
            consistency=self._consistency_weight() > 0,
            independence=self.independence_weight > 0,
            n_latent_samples=self.n_latent_samples,
            seed=seed,
        )

    def _filter_image_shape(self, n_features):
        """``(channels, height, width)`` of the images for the condition
        filter; a ``ValueError`` that says why when the rows cannot hold them."""
        name = type(self).__name__
        if self.filter_size % 2 != 1:
            raise ValueError(
                f"{name}: filter_size must be odd (the filtered image keeps its size), "
                f"got {self.filter_size}."
            )
        if self.image_shape is None:
            side = math.isqrt(n_features)
            if side * side != n_features:
                raise ValueError(
                    f"{name}: condition_effect='filter' filters images, and rows of "
                    f"{n_features} features are not square single-channel images; give "
                    "image_shape=(height, width) or (channels, height, width)."
                )
            return (1, side, side)
        shape = tuple(self.image_shape)
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3 or not all(isinstance(v, Integral) and v > 0 for v in shape):
            raise ValueError(
                f"{name}: image_shape must be (height, width) or (channels, height, width) "
                f"of positive ints, got {self.image_shape!r}."
            )
        if math.prod(shape) != n_features:
            raise ValueError(
                f"{name}: image_shape={self.image_shape!r} holds {math.prod(shape)} values "
                f"but X has {n_features} features."
            )
        return shape

    def _condition_filter(self, n_features):
        """The filter of ``condition_effect="filter"``, or None."""
        if self.condition_effect != "filter":
            return None
        return ConditionFilter(self.n_conditions_, self._filter_image_shape(n_features),
                               self.filter_size)

    def _consistency_weight(self):
        if self.consistency_weight == "auto":
            return _AUTO_CONSISTENCY if self.condition_ == "categorical" else 0.0
        return self.consistency_weight

    def _condition_prior(self):
        """The layer of ``m(c)`` and ``log s(c)``, linear in the condition
        and zero at first (the prior N(0, I) for every condition); None
        when off."""
        use = self.conditional_prior
        if use == "auto":
            use = self.condition_ == "categorical"
        if not use:
            return None
        layer = nn.Linear(self.n_conditions_, 2 * self.n_components)
        nn.init.zeros_(layer.weight)
        nn.init.zeros_(layer.bias)
        return layer

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit the conditional VAE to ``X`` given the conditions ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; in [0, 1] for ``likelihood="bernoulli"``.
        y : array-like of shape (n_samples,) or (n_samples, k)
            The condition of each sample: class labels or numeric
            covariates (see ``condition``). Required; None raises a
            ``ValueError``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y=None):
        """Train for one epoch on ``X`` given ``y``, continuing from the current state.

        The first call sets the classes (or the covariates'
        standardisation) from its ``y``; later chunks may hold only those
        classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, k)
            Its conditions. Required.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, incremental=True)

    # ------------------------------------------------------------------
    # Scoring
    # ------------------------------------------------------------------
    def score_samples(self, X, y=None):
        """Importance-weighted estimate of ``log p(x | c)`` for each sample, in nats.

        ``log (1/K sum_k p(x | z_k, c) p(z_k) / q(z_k | x, c))`` with ``K =
        n_importance_samples`` draws ``z_k ~ q(z | x, c)``: a lower bound on
        ``log p(x | c)`` (in expectation) that tightens as ``K`` grows, a
        log-density of the data in their own units (as
        :meth:`VAETransformer.score_samples`). Without ``y`` (class
        conditions only) it is the model's ``log p(x) = log sum_c p(c) p(x
        | c)``, with the classes' training shares as ``p(c)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.
        y : array-like of shape (n_samples,) or (n_samples, k), default=None
            Their conditions, one per sample or one for all; None
            marginalises over the classes.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Estimated log-likelihoods, of the input's float dtype.
        """
        X = self._validate_X(X)
        name = f"{type(self).__name__}.score_samples"
        if y is not None:
            C = self._encode_condition(y, len(X), name)
            return self._map_batches(self._sample_scores, X, {"c": C})
        if self.condition_ != "categorical":
            self._encode_condition(None, len(X), name + " with numeric conditions")
        per_class = [
            self._map_batches(self._sample_scores, X, {"c": self._encode_condition(c, len(X), name)})
            for c in self.classes_
        ]
        joint = np.stack(per_class, axis=1).astype(np.float64) + np.log(self.class_prior_)
        return logsumexp(joint, axis=1).astype(X.dtype)

    def score(self, X, y=None):
        """Mean estimated log-likelihood of ``X`` given ``y`` (see :meth:`score_samples`).

        What ``GridSearchCV`` maximises when no scorer is given: the
        held-out conditional log-likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.
        y : array-like of shape (n_samples,) or (n_samples, k), default=None
            Their conditions; None marginalises over the classes.

        Returns
        -------
        score : float
            Mean log-likelihood in nats per sample.
        """
        return float(np.mean(self.score_samples(X, y)))

    def elbo_terms(self, X, y):
        """Per-sample conditional ELBO and its two terms, in nats.

        ``elbo = reconstruction - kl`` with ``reconstruction = E_q[log p(x
        | z, c)]`` (the draws of :meth:`score_samples`) and ``kl = KL(q(z |
        x, c) || p(z))`` in closed form, with weight 1 whatever ``beta`` is.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to evaluate.
        y : array-like of shape (n_samples,) or (n_samples, k)
            Their conditions, one per sample or one for all.

        Returns
        -------
        terms : :class:`~sklearn.utils.Bunch`
            With keys ``elbo``, ``reconstruction`` and ``kl``, each an
            ndarray of shape (n_samples,).
        """
        X = self._validate_X(X)
        C = self._encode_condition(y, len(X), f"{type(self).__name__}.elbo_terms")
        return self._elbo_terms(X, {"c": C})

    def feature_errors(self, X, y):
        """Reconstruction loss of each feature of each sample given its condition.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to explain.
        y : array-like of shape (n_samples,) or (n_samples, k)
            Their conditions, one per sample or one for all.

        Returns
        -------
        errors : ndarray of shape (n_samples, n_features)
            In the units the network sees.
        """
        X = self._validate_X(X)
        C = self._encode_condition(y, len(X), f"{type(self).__name__}.feature_errors")
        return self._map_batches(lambda m, x, c: m.feature_errors(x, c=c), X, {"c": C})

    # ------------------------------------------------------------------
    # Decoding and generation
    # ------------------------------------------------------------------
    def transform(self, X, y=None):
        """Encode ``X`` given its conditions: the posterior means ``mu(x, c)``.

        With ``y``, the codes of ``q(z | x, c)`` under the given
        conditions. Without it (in a ``Pipeline``, whose later steps pass
        ``X`` alone), the condition head's prediction stands in for ``c``:
        the most probable class of ``q(c | x)``, or the predicted
        covariates (see :meth:`predict_condition`). Either way the codes
        are in the coordinates of the prior ``N(0, I)``, shared by every
        condition: with ``conditional_prior``, a class's location ``m(c)``
        and scale ``s(c)`` are taken out, so that the codes of each class
        or batch have about the same mean and spread.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.
        y : array-like of shape (n_samples,) or (n_samples, k), default=None
            Their conditions, one per sample or one for all; None predicts
            them from ``X``.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Posterior means, of the input's float dtype.
        """
        X = self._validate_X(X)
        if y is None:
            C = self._predicted_condition(X)
        else:
            C = self._encode_condition(y, len(X), f"{type(self).__name__}.transform")
        return self._map_batches(lambda m, x, c: m.encode(x, c), X, {"c": C})

    def fit_transform(self, X, y=None):
        """Fit to ``X`` given ``y``, then encode ``X`` as :meth:`transform`
        does without ``y`` (so that a ``Pipeline``'s later steps are fitted
        on the codes they will be given).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, k)
            The condition of each sample. Required.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Posterior means under the predicted conditions.
        """
        return self.fit(X, y).transform(X)

    def _predicted_condition(self, X):
        """The head's conditions of validated ``X``, as the networks' input:
        one-hot most probable classes, or predicted covariates."""
        out = self._map_batches(lambda m, x: m.predict_condition(x), X)
        if self.condition_ == "categorical":
            return np.eye(self.n_conditions_, dtype=X.dtype)[out.argmax(axis=1)]
        return out

    def predict_condition(self, X):
        """Predict each sample's condition from ``X`` with the condition head ``q(c|x)``.

        The head is a network of the encoder's architecture trained on
        ``x`` alone, jointly with the conditional VAE (its loss is the
        ``condition`` term of the training loss). :meth:`transform` uses
        its prediction when no ``y`` is given.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data whose conditions to predict.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_conditions_)
            The most probable class (an element of ``classes_``), or the
            predicted covariates.
        """
        X = self._validate_X(X)
        C = self._predicted_condition(X)
        if self.condition_ == "categorical":
            return self.classes_[C.argmax(axis=1)]
        return C

    def inverse_transform(self, X, y=None):
        """Decode codes under the conditions ``y``: the decoder's mean.

        With ``X = transform(X_b)`` of samples of batch ``b`` and ``y`` the
        label of batch ``B``, it answers "what would these samples look
        like in batch B?".

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.
        y : array-like of shape (n_samples,) or (n_samples, k)
            Conditions to decode under, one per code or one for all.
            Required; None raises a ``ValueError``.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            Decoder means in the units of the training data.
        """
        check_is_fitted(self)
        name = f"{type(self).__name__}.inverse_transform"
        Z = check_array(X, dtype=[np.float64, np.float32], input_name="X", estimator=self)
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"{name}: X has {Z.shape[1]} features, but codes of this estimator "
                f"have n_components={self.n_components_}."
            )
        C = self._encode_condition(y, len(Z), name)
        return self._map_batches(lambda m, z, c: m.decode(z, c), Z, {"c": C})

    def sample(self, n_samples=1, random_state=None, *, y=None, observation_noise=False):
        """Generate data under given conditions: ``z ~ N(0, I)``, then ``p(x | z, c)``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws. None gives new draws at each call.
        y : array-like of shape (n_samples,) or (n_samples, k), or one \
                condition, default=None
            The condition of the samples: one for all (``y=7``) or one per
            sample. None (class conditions only) draws each sample's class
            from ``class_prior_``.
        observation_noise : bool, default=False
            False returns the decoder's mean for each ``z`` (Bernoulli
            probabilities or Gaussian means); True draws ``x ~ p(x | z,
            c)``.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_)
            Generated samples in the units of the training data, float64.
        """
        check_is_fitted(self)
        rng, Z = self._prior_draws(n_samples, random_state)
        name = f"{type(self).__name__}.sample"
        if y is None and self.condition_ == "categorical":
            y = self.classes_[rng.choice(len(self.classes_), size=n_samples, p=self.class_prior_)]
        C = self._encode_condition(y, n_samples, name)
        mean = self._map_batches(lambda m, z, c: m.decode(z, c), Z, {"c": C})
        return self._observe(mean, rng, observation_noise)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
