"""Stacked autoencoder: greedy layer-wise pretraining, then end-to-end fine-tuning."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from torch import nn

from ._base import _BaseAE
from ._docstrings import fill_doc
from .architectures import MLP, Architecture
from .losses import RECONSTRUCTION_LOSSES
from .modules.mlp import ACTIVATIONS
from .noise import NOISES, check_noise_level
from .utils.validation import Interval, StrOptions


class _Layer(Architecture):
    """One layer of a stack as an autoencoder: ``Linear`` (+ activation)
    encoder and decoder, so that the trained ``Linear`` modules are those of
    the deep :class:`~skae.MLP` networks they are copied into.

    Parameters
    ----------
    activation : str
        Hidden activation of the stack.
    activate_code : bool
        Whether the layer's code goes through the activation (every layer
        but the top one, whose code is linear as in :class:`~skae.MLP`).
    activate_output : bool
        Whether the decoder's output does (every layer but the first: it
        rebuilds the activated codes of the layer below).
    """

    def __init__(self, activation="relu", activate_code=True, activate_output=False):
        self.activation = activation
        self.activate_code = activate_code
        self.activate_output = activate_output

    def _block(self, n_in, n_out, activate):
        layers = [nn.Linear(n_in, n_out)]
        if activate:
            layers.append(ACTIVATIONS[self.activation]())
        return nn.Sequential(*layers)

    def encoder(self, n_features, n_outputs):
        return self._block(n_features, n_outputs, self.activate_code)

    def decoder(self, n_components, n_features):
        return self._block(n_components, n_features, self.activate_output)


def _linear_layers(sequential):
    return [m for m in sequential.modules() if isinstance(m, nn.Linear)]


def greedy_layerwise(encoder, decoder, X, *, activation, loss, standardize, noise,
                     noise_level, max_epochs, params, random_state):
    """Pretrain the ``Linear`` layers of an MLP autoencoder greedily, in place.

    Layer ``k`` is trained as a (denoising) autoencoder of the codes of the
    layers below it, which are fixed by then (Bengio et al. 2007; Vincent et
    al. 2010): the first on ``X`` with ``loss`` and ``standardize``, the
    others on codes with squared error. Each layer autoencoder is a skae
    estimator (:class:`~skae.DenoisingAE`, with ``noise_level=0`` for a plain
    one) whose trained ``Linear`` modules are copied into ``encoder`` and
    ``decoder``.

    Parameters
    ----------
    encoder, decoder : skae.modules.MLPEncoder, skae.modules.MLPDecoder
        The deep networks, trained in place.
    X : ndarray of shape (n_samples, n_features)
        Training data.
    activation, loss, standardize, noise, noise_level, max_epochs
        Of each layer autoencoder (``loss`` and ``standardize`` only for the
        first); ``noise=None`` for plain autoencoders.
    params : dict
        Further parameters of the layer autoencoders (training settings).
    random_state : int
        Seeds the layers, one seed each.

    Returns
    -------
    histories : list of skorch.History
        The training history of each layer.
    """
    from .denoising import DenoisingAE

    encoders, decoders = _linear_layers(encoder), _linear_layers(decoder)[::-1]
    n_layers = len(encoders)
    rng = check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=n_layers)
    codes, histories = X, []
    for k in range(n_layers):
        layer = DenoisingAE(
            n_components=encoders[k].out_features,
            architecture=_Layer(activation, k < n_layers - 1, k > 0),
            noise="gaussian" if noise is None else noise,
            noise_level=0.0 if noise is None else noise_level,
            loss=loss if k == 0 else "mse",
            standardize=standardize if k == 0 else False,
            max_epochs=max_epochs,
            random_state=int(seeds[k]),
            **params,
        )
        with warnings.catch_warnings():
            # Too few rows for a validation split: said once by the caller.
            warnings.simplefilter("ignore", UserWarning)
            layer.fit(codes)
        trained = layer.net_.module_
        encoders[k].load_state_dict(_linear_layers(trained.encoder)[0].state_dict())
        decoders[k].load_state_dict(_linear_layers(trained.decoder)[0].state_dict())
        histories.append(layer.history_)
        if k < n_layers - 1:
            codes = layer.transform(codes)
    return histories


def _check_stack_noise(noise, noise_level, caller_name):
    if noise is not None:
        check_noise_level(noise, noise_level, caller_name)


@fill_doc
class StackedAutoEncoder(_BaseAE):
    """Stacked autoencoder: greedy layer-wise pretraining, then fine-tuning.

    The encoder ``x -> h_1 -> ... -> h_K`` (widths ``hidden_layer_sizes``
    then ``n_components``) is first trained one layer at a time [1]_: layer
    ``k`` is an autoencoder of the codes ``h_{k-1}`` of the layers below,
    which stay fixed, trained to rebuild them, plainly or from a corrupted
    copy (``noise``: the stacked *denoising* autoencoder of [2]_). The
    decoders of the layers, in reverse order, form the deep decoder. The
    stack is then optionally fine-tuned end to end as one deep autoencoder
    on the reconstruction of ``X`` (``fine_tune=True``). :meth:`transform`
    returns the top code ``h_K(x)``, :meth:`inverse_transform` decodes it.

    Parameters
    ----------
    n_components : int, default=2
        Width of the top layer: the dimension of the code.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the layers below the top one, from the input side; the
        stack has ``len(hidden_layer_sizes) + 1`` layers.
    activation : {"relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu"}, \
            default="relu"
        Activation of every layer's code but the top one (linear, as in
        :class:`~skae.AutoEncoderTransformer`).
    noise : {"gaussian", "masking", "salt_and_pepper"} or None, default=None
        Corruption of each layer's input during its greedy training (see
        :class:`~skae.DenoisingAE`); None trains plain autoencoders. The
        end-to-end fine-tuning is on clean data.
    noise_level : float, default=0.2
        Standard deviation of the Gaussian noise, or probability that a
        value is corrupted, in the units each layer sees (standardised
        data for the first layer when ``standardize`` is on, codes above).
    loss : {"mse", "mae", "bce"}, default="mse"
        Reconstruction loss of the first layer and of the fine-tuning
        (the layers above rebuild codes with squared error).
    standardize : bool or "auto", default="auto"
        Standardise each feature before the network sees it; ``"auto"``
        means True for ``"mse"`` and ``"mae"``, False for ``"bce"``.
    pretraining_epochs : int, default=50
        Maximum number of epochs of each layer's greedy training (with
        early stopping as set below).
    fine_tune : bool, default=True
        Train the whole stack end to end after the greedy stage, for at
        most ``max_epochs`` epochs. False keeps the greedy weights.
    max_epochs : int, default=100
        Maximum number of epochs of the fine-tuning.
    batch_size : int, default=128
        Samples per gradient step (greedy stage and fine-tuning).
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
            default="adam"
        The optimiser.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimiser.
    %(optimizer_params)s
    early_stopping : bool, default=True
        Stop each stage (each layer, and the fine-tuning) when the loss on a
        held-out ``validation_fraction`` has not improved by a relative
        ``tol`` for ``n_iter_no_change`` epochs, keeping the best weights.
    %(validation_fraction)s
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum relative improvement of the validation loss.
    %(warm_start)s
        The greedy stage is then skipped: ``fit`` fine-tunes further.
    %(stream_data)s
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks of the fine-tuning (e.g. ``LRScheduler``).
    %(device)s
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the splits, the shuffling and the noise of every
        stage. The same value gives identical results on CPU.
    verbose : int, default=0
        1 prints skorch's per-epoch table of the fine-tuning.

    Attributes
    ----------
    layer_histories_ : list of skorch.History
        The greedy training record of each layer, from the input side
        (``layer_histories_[k][:, "train_loss"]``).
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the ``nn.Module``.
    history_ : skorch.History
        Per-epoch record of the fine-tuning (empty without it).
    n_epochs_ : int
        Number of fine-tuning epochs run.
    n_components_ : int
        Dimension of the code.
    noise_scale_ : float or None
        Noise scale of the likelihood behind :meth:`score_samples` (see
        :class:`~skae.AutoEncoderTransformer`).
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
    sklearn.decomposition.PCA : The linear special case of one layer.
    AutoEncoderTransformer : The same network trained end to end from the start.
    AutoEncoderClassifier : A classifier whose encoder is pretrained this way.

    Notes
    -----
    Greedy pretraining made deep networks trainable before better
    initialisations and optimisers did [1]_; today it mostly matters where
    labels are few (see :class:`~skae.AutoEncoderClassifier`). Each layer
    autoencoder is a :class:`~skae.DenoisingAE` (``noise_level=0`` when
    ``noise`` is None) with one linear layer on each side.

    References
    ----------
    .. [1] Y. Bengio, P. Lamblin, D. Popovici and H. Larochelle, "Greedy
       layer-wise training of deep networks", NIPS 2007.
    .. [2] P. Vincent, H. Larochelle, I. Lajoie, Y. Bengio and P.-A.
       Manzagol, "Stacked denoising autoencoders", JMLR 11, 2010.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import StackedAutoEncoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> sae = StackedAutoEncoder(n_components=8, hidden_layer_sizes=(32,),
    ...                          pretraining_epochs=2, max_epochs=2, random_state=0)
    >>> sae.fit_transform(X).shape
    (1797, 8)
    >>> len(sae.layer_histories_)
    2
    """

    _parameter_constraints = {
        **{k: v for k, v in _BaseAE._parameter_constraints.items() if k != "architecture"},
        "noise": [StrOptions(set(NOISES)), None],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
        "pretraining_epochs": [Interval(Integral, 1, None, closed="left")],
        "fine_tune": ["boolean"],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        noise=None,
        noise_level=0.2,
        loss="mse",
        standardize="auto",
        pretraining_epochs=50,
        fine_tune=True,
        max_epochs=100,
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
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.noise = noise
        self.noise_level = noise_level
        self.loss = loss
        self.standardize = standardize
        self.pretraining_epochs = pretraining_epochs
        self.fine_tune = fine_tune
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
        self.random_state = random_state
        self.verbose = verbose

    def _architecture(self):
        # Greedy training is defined layer by layer on fully connected layers.
        return MLP().resolve(
            type(self).__name__,
            hidden_layer_sizes=self.hidden_layer_sizes,
            activation=self.activation,
        )

    def _check_input(self, X):
        _check_stack_noise(self.noise, self.noise_level, type(self).__name__)
        super()._check_input(X)

    def _layer_params(self, device):
        return {
            "batch_size": self.batch_size,
            "lr": self.lr,
            "optimizer": self.optimizer,
            "weight_decay": self.weight_decay,
            "optimizer_params": self.optimizer_params,
            "early_stopping": self.early_stopping,
            "validation_fraction": self.validation_fraction,
            "n_iter_no_change": self.n_iter_no_change,
            "tol": self.tol,
            "stream_data": self.stream_data,
            "device": device,
        }

    def _pretrain(self, module, X, y, seed, device):
        histories = greedy_layerwise(
            module.encoder, module.decoder, X, activation=self._architecture().activation,
            loss=self.loss, standardize=self.standardize, noise=self.noise,
            noise_level=self.noise_level, max_epochs=self.pretraining_epochs,
            params=self._layer_params(device), random_state=seed,
        )
        return {"layer_histories_": histories}

    def _make_net(self, module, n_samples, transform, shuffle_seed, split_seed,
                  early_stopping, device):
        net = super()._make_net(
            module, n_samples, transform, shuffle_seed, split_seed,
            early_stopping=early_stopping and self.fine_tune, device=device,
        )
        if not self.fine_tune:
            # The greedy weights as they are: a training run of no epoch.
            net.max_epochs = 0
        return net
