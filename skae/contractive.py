"""Contractive autoencoder as a scikit-learn transformer."""

from numbers import Integral, Real

from ._base import _BaseAE
from ._docstrings import fill_doc
from .losses import RECONSTRUCTION_LOSSES
from .modules.models import ContractiveModel
from .utils.validation import Interval, StrOptions


@fill_doc
class ContractiveAE(_BaseAE):
    """Contractive autoencoder: a code insensitive to small moves of the input.

    Trained on the reconstruction error plus ``contraction`` times a
    penalty on how much the code ``h(x)`` moves when ``x`` moves a little:

    - ``penalty="analytic"``: ``||J_h(x)||_F^2 = sum_ij (dh_j/dx_i)^2``, the
      squared Frobenius norm of the encoder's Jacobian at each training
      sample [1]_, computed exactly for any depth (see
      :func:`skae.losses.contractive_penalty`);
    - ``penalty="stochastic"``: ``E ||h(x) - h(x~)||^2`` with
      ``x~ = x + eps``, ``eps ~ N(0, noise_level^2 I)``, estimated with
      ``n_noise_samples`` draws [2]_; for small noise it is
      ``noise_level^2 ||J_h(x)||_F^2``, for larger noise it also penalises
      the curvature of ``h``.

    The batch mean of the penalty is added to the mean reconstruction
    error. The reconstruction term keeps the code sensitive along the
    directions in which the data vary, the penalty flattens it in all
    others: the encoder contracts the input space around the data manifold.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the code. Any positive value: under- and overcomplete
        codes are both allowed.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    activation : {"relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu"}, \
            default="tanh"
        Hidden activation. The code layer is linear.
    %(architecture)s
    contraction : float, default=0.1
        Weight ``lambda >= 0`` of the penalty; 0 gives a plain autoencoder.
        The reconstruction error is a mean over features while the penalty
        sums over all ``n_components * n_features`` entries of the
        Jacobian, so the useful range depends on the data: 0.1 suits
        standardised data of tens of features; wide unstandardised data such
        as MNIST pixels in [0, 1] want about 1e-3 (see
        ``benchmarks/regularized.py``). Tune it, e.g. with
        :class:`~sklearn.model_selection.GridSearchCV`. The stochastic
        penalty is about ``noise_level**2`` times the analytic one, so the
        same effect needs a ``contraction`` about ``1 / noise_level**2``
        times larger with it.
    penalty : {"analytic", "stochastic"}, default="analytic"
        The contractive penalty, see above.
    noise_level : float, default=0.1
        Standard deviation of the perturbation of the stochastic penalty, in
        the units the network sees (standardised units when ``standardize``
        is on). Must be positive. Unused by the analytic penalty.
    n_noise_samples : int, default=1
        Draws of the perturbation per sample for the stochastic penalty;
        each costs one more pass through the encoder. Unused by the
        analytic penalty.
    tied_weights : bool, default=True
        Tie the decoder's weights to the encoder's, layer by layer
        (decoder weight = encoder weight transposed, separate biases; see
        :class:`skae.modules.TiedDecoder`). Without tying, the encoder can
        make either penalty as small as it likes by scaling its codes down,
        the decoder scaling them back up, so that the penalty no longer
        constrains the shape of ``h`` [1]_, [2]_. Set False at your own
        risk.
    loss : {"mse", "mae", "bce"}, default="mse"
        Reconstruction loss: squared error; absolute error, which outliers
        and heavy tails pull less (the Laplace likelihood; the default
        inside :class:`~skae.AEOutlierDetector`); or cross-entropy for data
        in [0, 1] (the decoder's output then goes through a sigmoid).
    standardize : bool or "auto", default="auto"
        Standardise each feature (zero mean, unit variance, computed on the
        training data) before the network sees it; :meth:`inverse_transform`
        undoes it. ``"auto"`` means True for ``loss="mse"`` or ``"mae"``
        and False for ``loss="bce"``. The Jacobian is taken with respect to the network's
        input, so in standardised units when this is on.
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
    %(optimizer_params)s
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data (drawn with
        ``random_state``), stop when its loss (reconstruction plus penalty)
        has not improved by a relative ``tol`` for ``n_iter_no_change``
        epochs, and restore the weights of the best epoch. Skipped, with a
        warning, when the data are too few for a split.
    %(validation_fraction)s
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum relative improvement of the validation loss.
    %(warm_start)s
    %(stream_data)s
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, or ``(name, callback)`` tuples. They are
        copied at each fit.
    %(device)s
    %(accelerator)s
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split, the shuffling and
        the noise of the stochastic penalty. The same value gives identical
        results on CPU.
    verbose : int, default=0
        1 prints skorch's per-epoch table.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the ``nn.Module``.
    history_ : skorch.History
        Per-epoch training record (``train_loss`` includes the penalty).
    n_epochs_ : int
        Number of epochs run.
    n_components_ : int
        Dimension of the code.
    noise_scale_ : float or None
        Noise scale of the likelihood behind :meth:`score_samples`, fitted
        by maximum likelihood on the training data, in the units the
        network sees: the standard deviation for ``loss="mse"``, the
        Laplace scale for ``"mae"``; None for ``"bce"``.
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
    sklearn.decomposition.PCA : The linear special case of the autoencoder,
        with no control of the local sensitivity of the map.
    AutoEncoderTransformer : The plain (undercomplete) autoencoder.
    DenoisingAE : Robustness through corrupted inputs instead of a penalty.
    skae.losses.contractive_penalty : The analytic penalty.
    skae.losses.stochastic_contractive_penalty : The stochastic penalty.

    Notes
    -----
    The analytic penalty is exact, not sampled. For the default MLP encoder
    it is accumulated layer by layer from the code side (the first layer
    through its Gram matrix), so a step costs roughly ``n_components``
    times an encoder pass more than a plain autoencoder's: cheap for small
    codes, dear for wide ones, where the stochastic penalty's cost depends
    on ``n_noise_samples`` only.

    References
    ----------
    .. [1] S. Rifai, P. Vincent, X. Muller, X. Glorot and Y. Bengio,
       "Contractive auto-encoders: explicit invariance during feature
       extraction", ICML 2011.
    .. [2] S. Rifai, G. Mesnil, P. Vincent, X. Muller, Y. Bengio,
       Y. Dauphin and X. Glorot, "Higher order contractive auto-encoder",
       ECML PKDD 2011.
    .. [3] I. Goodfellow, Y. Bengio and A. Courville, "Deep Learning",
       section 14.7, MIT Press, 2016.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ContractiveAE
    >>> X, _ = load_digits(return_X_y=True)
    >>> cae = ContractiveAE(n_components=8, contraction=0.1, max_epochs=2,
    ...                     random_state=0)
    >>> cae.fit_transform(X).shape
    (1797, 8)
    >>> cae.inverse_transform(cae.transform(X[:5])).shape
    (5, 64)
    """

    _parameter_constraints = {
        **_BaseAE._parameter_constraints,
        "contraction": [Interval(Real, 0, None, closed="left")],
        "penalty": [StrOptions({"analytic", "stochastic"})],
        "noise_level": [Interval(Real, 0, None, closed="neither")],
        "n_noise_samples": [Interval(Integral, 1, None, closed="left")],
        "tied_weights": ["boolean"],
        "loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
    }

    # How the analytic penalty is computed (see contractive_penalty); a class
    # attribute, not a parameter, so that benchmarks can compare the two.
    _jacobian_method = "auto"

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(128, 64),
        activation="tanh",
        architecture=None,
        contraction=0.1,
        penalty="analytic",
        noise_level=0.1,
        n_noise_samples=1,
        tied_weights=True,
        loss="mse",
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
        self.contraction = contraction
        self.penalty = penalty
        self.noise_level = noise_level
        self.n_noise_samples = n_noise_samples
        self.tied_weights = tied_weights
        self.loss = loss
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

    def _build_module(self, n_features, scaler, seed):
        spec = self._architecture()
        encoder = spec.encoder(n_features, self.n_components)
        if self.tied_weights:
            decoder = spec.tied_decoder(encoder)
        else:
            decoder = spec.decoder(self.n_components, n_features)
        return ContractiveModel(
            encoder, decoder, self.get_likelihood(), scaler,
            penalty=self.penalty, noise_level=self.noise_level,
            n_noise_samples=self.n_noise_samples,
            jacobian_method=self._jacobian_method, seed=seed,
        )

    def _criterion_weights(self):
        return {"contraction": self.contraction}
