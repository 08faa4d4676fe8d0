"""Undercomplete MLP autoencoder as a scikit-learn transformer."""

import warnings

from ._base import _BaseAE
from ._docstrings import fill_doc
from .losses import RECONSTRUCTION_LOSSES
from .utils.validation import StrOptions


@fill_doc
class AutoEncoderTransformer(_BaseAE):
    """Undercomplete autoencoder for nonlinear dimensionality reduction.

    An MLP encoder ``h`` maps each sample to a code of ``n_components``
    values and a mirrored MLP decoder ``g`` maps it back; both are trained to
    minimise the reconstruction error ``L(x, g(h(x)))``. With linear layers
    and squared error this is PCA's subspace; the nonlinear layers let the
    code follow a curved manifold. :meth:`transform` returns ``h(x)``,
    :meth:`inverse_transform` returns ``g(z)``.

    The network is a plain :class:`torch.nn.Module`
    (:class:`skae.modules.ReconstructionModel`, whose first layer
    standardises the data) trained by a skorch ``NeuralNet`` held in
    ``net_``.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the code, normally smaller than the number of features
        (a code as wide as the input warns: the network can copy it).
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    activation : {"relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu"}, \
            default="tanh"
        Hidden activation. The code layer is linear. ``"tanh"`` keeps the
        codes of outlying samples bounded, which gives evenly spread 2-D
        embeddings (on digits, ``"elu"`` and ``"relu"`` gave codes whose
        extremes lie 20 to 30 interquartile ranges out).
    %(architecture)s
    loss : {"mse", "mae", "bce"}, default="mse"
        Reconstruction loss: squared error; absolute error, which outliers
        and heavy tails pull less (the Laplace likelihood; the default
        inside :class:`~skae.AEOutlierDetector`); or cross-entropy for data
        in [0, 1] (the decoder's output then goes through a sigmoid).
    standardize : bool or "auto", default="auto"
        Standardise each feature (zero mean, unit variance, computed on the
        training data) before the network sees it; :meth:`inverse_transform`
        undoes it. ``"auto"`` means True for ``loss="mse"`` or ``"mae"``
        and False for ``loss="bce"`` (whose data must stay in [0, 1]). This is what lets
        the estimator work on raw features of very different scales, without
        a scaler in front.
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
        ``random_state``), stop when its loss has not improved by a relative
        ``tol`` for ``n_iter_no_change`` epochs, and restore the weights of
        the best epoch. Skipped, with a warning, when the data are too few
        for a split.
    %(validation_fraction)s
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum relative improvement of the validation loss.
    %(warm_start)s
    %(stream_data)s
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (e.g. ``ProgressBar``, ``LRScheduler``), or
        ``(name, callback)`` tuples. They are copied at each fit.
    %(device)s
    %(accelerator)s
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split and the shuffling.
        The same value gives identical results on CPU.
    verbose : int, default=0
        1 prints skorch's per-epoch table (train and validation loss,
        duration).

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the ``nn.Module``.
    history_ : skorch.History
        Per-epoch training record, e.g. ``history_[:, "train_loss"]`` and
        ``history_[:, "valid_loss"]``.
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
    sklearn.decomposition.PCA : The linear special case.
    sklearn.manifold.Isomap : Nonlinear embedding by geodesic distances.
    sklearn.manifold.TSNE : Embedding for visualisation, without transform
        of new data.

    Notes
    -----
    The network runs in float32; outputs are cast back to the input's float
    dtype. Sparse input is refused with a ``TypeError`` (densify it first:
    the network needs dense batches anyway).

    References
    ----------
    .. [1] G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality
       of data with neural networks", Science 313(5786), 2006.
    .. [2] I. Goodfellow, Y. Bengio and A. Courville, "Deep Learning",
       chapter 14, MIT Press, 2016.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoEncoderTransformer(n_components=2, max_epochs=2, random_state=0)
    >>> ae.fit_transform(X).shape
    (1797, 2)
    >>> ae.inverse_transform(ae.transform(X[:5])).shape
    (5, 64)
    """

    _parameter_constraints = {
        **_BaseAE._parameter_constraints,
        "loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(128, 64),
        activation="tanh",
        architecture=None,
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

    def _check_input(self, X):
        # Undercomplete by definition: a code as wide as the input can copy
        # it. A warning, not an error, as PCA accepts n_components ==
        # n_features: the fit is valid, only not what this estimator is for.
        if self.n_components >= X.shape[1]:
            warnings.warn(
                f"AutoEncoderTransformer is meant to be undercomplete, but "
                f"n_components={self.n_components} is not smaller than n_features="
                f"{X.shape[1]}: the network can learn to copy its input. Lower "
                "n_components, or use DenoisingAE or ContractiveAE for overcomplete "
                "codes.",
                UserWarning,
            )
        super()._check_input(X)
