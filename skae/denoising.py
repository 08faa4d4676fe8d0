"""Denoising autoencoder as a scikit-learn transformer."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state

from ._base import _BaseAE
from ._docstrings import fill_doc
from .losses import RECONSTRUCTION_LOSSES
from .noise import NOISES, Corruption, check_noise_level
from .utils.validation import Interval, StrOptions


@fill_doc
class DenoisingAE(_BaseAE):
    """Denoising autoencoder: learns to rebuild clean data from corrupted data.

    Each training sample ``x`` is corrupted into ``x~ ~ q(x~ | x)`` and the
    network is trained to rebuild the clean ``x`` from it,
    minimising ``sum_x E_q[L(x, g(h(x~)))]`` [1]_; the expectation is
    estimated by the mean over ``n_noise_samples`` independent corruptions
    of each sample, drawn afresh for every batch of every epoch. A network
    that cannot simply copy its input has to learn the structure of the
    data, so the code may be wider than the input (overcomplete) as well as
    narrower. :meth:`transform`, :meth:`inverse_transform` and
    :meth:`score_samples` use the clean input; :meth:`corrupt` shows what
    the network was trained on.

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
    noise : {"gaussian", "masking", "salt_and_pepper"} or callable, \
            default="gaussian"
        The corruption process (see :mod:`skae.noise`):

        - ``"gaussian"``: additive ``N(0, noise_level**2)`` noise on every
          feature;
        - ``"masking"``: each feature set to zero with probability
          ``noise_level`` (the zero-masking noise of Vincent et al.);
        - ``"salt_and_pepper"``: each feature, with probability
          ``noise_level``, set to its training minimum or maximum
          (``data_min_``, ``data_max_``), each with probability 1/2;
        - a callable ``noise(X_batch, generator) -> X_corrupted`` taking a
          copy of a float tensor batch (on the device, in the network's
          units, see Notes) and a :class:`torch.Generator` from which it
          should draw its randomness, and returning a tensor of the same
          shape.
    noise_level : float, default=0.2
        Standard deviation of the Gaussian noise, or probability that a
        feature is corrupted for masking and salt-and-pepper (then in
        [0, 1)). In the units the network sees: standardised units when
        ``standardize`` is on (see Notes). Ignored for a callable ``noise``.
    n_noise_samples : int, default=1
        Number ``L`` of independent corruptions of each sample per batch;
        the loss is their mean. Each step then costs about ``L`` times more.
    loss : {"mse", "mae", "bce"}, default="mse"
        Reconstruction loss: squared error; absolute error, which outliers
        and heavy tails pull less (the Laplace likelihood; the default
        inside :class:`~skae.AEOutlierDetector`); or cross-entropy for data
        in [0, 1] (the decoder's output then goes through a sigmoid).
    standardize : bool or "auto", default="auto"
        Standardise each feature (zero mean, unit variance, computed on the
        training data) before the network sees it; :meth:`inverse_transform`
        undoes it. ``"auto"`` means True for ``loss="mse"`` or ``"mae"``
        and False for ``loss="bce"``. The corruption is applied after standardisation.
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
        ``random_state``), stop when its denoising loss (with fresh
        corruption) has not improved by a relative ``tol`` for
        ``n_iter_no_change`` epochs, and restore the weights of the best
        epoch. Skipped, with a warning, when the data are too few for a split.
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
        the corruption. The same value gives identical results on CPU.
    verbose : int, default=0
        1 prints skorch's per-epoch table.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the ``nn.Module``.
    history_ : skorch.History
        Per-epoch training record (``train_loss`` is the denoising loss).
    n_epochs_ : int
        Number of epochs run.
    n_components_ : int
        Dimension of the code.
    noise_scale_ : float or None
        Noise scale of the likelihood behind :meth:`score_samples`, fitted
        by maximum likelihood on the training data, in the units the
        network sees: the standard deviation for ``loss="mse"``, the
        Laplace scale for ``"mae"``; None for ``"bce"``.
    data_min_ : ndarray of shape (n_features_in_,)
        Per-feature minimum of the training data (the "pepper" of
        salt-and-pepper noise), in the data's units.
    data_max_ : ndarray of shape (n_features_in_,)
        Per-feature maximum of the training data (the "salt").
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
    sklearn.decomposition.PCA : Linear dimensionality reduction; no robustness
        to corrupted inputs.
    AutoEncoderTransformer : The plain (undercomplete) autoencoder.
    ContractiveAE : Robustness through a penalty on the encoder's Jacobian
        instead of through corrupted inputs.
    skae.noise : The corruption processes.

    Notes
    -----
    **Units of the noise.** The network sees standardised features when
    ``standardize`` is on (the default with ``loss="mse"``), and the
    corruption is applied there, to the network's input: a Gaussian
    ``noise_level`` of 0.2 is then 0.2 standard deviations of each feature
    whatever its units, masking sets a feature to 0 in standardised units,
    i.e. to its training mean, and salt-and-pepper uses the training
    minimum and maximum. With ``standardize=False`` (or ``loss="bce"``,
    whose data stay in [0, 1]) the noise is in the data's own units and
    masking sets pixels to 0, as in Vincent et al. :meth:`corrupt` returns
    corrupted data in the data's units in either case.

    The corruption is drawn from a :class:`torch.Generator` seeded by
    ``random_state``, on the training device; the early-stopping validation
    loss is the denoising loss too, with its own fresh corruption.

    References
    ----------
    .. [1] P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol,
       "Extracting and composing robust features with denoising
       autoencoders", ICML 2008.
    .. [2] P. Vincent, H. Larochelle, I. Lajoie, Y. Bengio and
       P.-A. Manzagol, "Stacked denoising autoencoders: learning useful
       representations in a deep network with a local denoising
       criterion", JMLR 11, 2010.
    .. [3] I. Goodfellow, Y. Bengio and A. Courville, "Deep Learning",
       section 14.5, MIT Press, 2016.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAE
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> dae = DenoisingAE(n_components=80, noise="masking", noise_level=0.3,
    ...                   loss="bce", max_epochs=2, random_state=0)
    >>> dae.fit_transform(X).shape
    (1797, 80)
    >>> dae.corrupt(X[:5]).shape
    (5, 64)
    >>> dae.inverse_transform(dae.transform(X[:5])).shape
    (5, 64)
    """

    _parameter_constraints = {
        **_BaseAE._parameter_constraints,
        "noise": [StrOptions(set(NOISES)), callable],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "n_noise_samples": [Interval(Integral, 1, None, closed="left")],
        "loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(128, 64),
        activation="tanh",
        architecture=None,
        noise="gaussian",
        noise_level=0.2,
        n_noise_samples=1,
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
        self.noise = noise
        self.noise_level = noise_level
        self.n_noise_samples = n_noise_samples
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
        # The range of noise_level depends on the noise (a standard deviation
        # or a probability), which the declarative constraints cannot say.
        if not callable(self.noise):
            check_noise_level(self.noise, self.noise_level, type(self).__name__)
        super()._check_input(X)

    def _data_attributes(self, X):
        return {
            **super()._data_attributes(X),
            "data_min_": X.min(axis=0),
            "data_max_": X.max(axis=0),
        }

    def _corruption(self, attributes, seed):
        mean, scale = attributes["mean_"], attributes["scale_"]
        low, high = attributes["data_min_"], attributes["data_max_"]
        if mean is not None:
            low, high = (low - mean) / scale, (high - mean) / scale
        return Corruption(
            self.noise, self.noise_level, self.n_noise_samples, mean, scale, low, high,
            seed, type(self).__name__,
        )

    def _train_transform(self, attributes, scaler, seed):
        return self._corruption(attributes, seed)

    def corrupt(self, X, random_state=None):
        """Corrupt ``X`` with the estimator's corruption process.

        Shows what the network is trained on: ``x~ ~ q(x~ | x)`` applied in
        the network's units (see Notes of the class) and returned in the
        data's units. The draws are not those of training, which are new at
        every batch.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Clean data.
        random_state : int, RandomState instance or None, default=None
            Seeds the corruption; None uses the estimator's
            ``random_state``, so that an int there gives the same
            corruption at every call.

        Returns
        -------
        X_corrupted : ndarray of shape (n_samples, n_features)
            Of the input's float dtype; ``X`` is left unchanged.
        """
        X = self._validate_X(X)
        rng = check_random_state(self.random_state if random_state is None else random_state)
        generator = torch.Generator().manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
        dtype = torch.float64 if X.dtype == np.float64 else torch.float32
        Xt = torch.tensor(np.asarray(X), dtype=dtype)
        corruption = self._corruption(self.__dict__, 0)
        return corruption.corrupt(Xt, generator).numpy().astype(X.dtype, copy=False)
