"""Network architectures as clonable specs: the ``architecture`` parameter.

An architecture spec builds the encoder and decoder of an estimator once the
data's shape is known, in the style of the ``kernel`` parameter of
:class:`~sklearn.gaussian_process.GaussianProcessRegressor`: a small object
with parameters (so that ``clone``, ``get_params`` and ``GridSearchCV``
reach them as ``architecture__<name>``) and methods that return plain
:class:`torch.nn.Module` objects.

To plug in your own networks, subclass :class:`Architecture` and implement
:meth:`~Architecture.encoder` and :meth:`~Architecture.decoder`; the
variational autoencoder then uses your encoder with ``2 * n_components``
outputs (mean and log-variance), and the contractive autoencoder with
``tied_weights=True`` needs :meth:`~Architecture.tied_decoder`.
"""

from numbers import Integral

from sklearn.base import BaseEstimator

from .modules.conv import ConvDecoder, ConvEncoder, TiedConvDecoder
from .modules.gaussian import GaussianEncoder, SplitGaussian
from .modules.mlp import ACTIVATIONS, MLPDecoder, MLPEncoder
from .modules.tied import TiedDecoder


class Architecture(BaseEstimator):
    """Base class of architecture specs.

    Subclasses store their parameters in ``__init__`` (as scikit-learn
    estimators do) and implement :meth:`encoder` and :meth:`decoder`.

    Examples
    --------
    >>> from torch import nn
    >>> from skae import AutoEncoderTransformer
    >>> from skae.architectures import Architecture
    >>> class Linear(Architecture):
    ...     def encoder(self, n_features, n_outputs):
    ...         return nn.Linear(n_features, n_outputs)
    ...     def decoder(self, n_components, n_features):
    ...         return nn.Linear(n_components, n_features)
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(50, 4))
    >>> ae = AutoEncoderTransformer(2, architecture=Linear(), max_epochs=2).fit(X)
    >>> ae.net_.module_.encoder
    Linear(in_features=4, out_features=2, bias=True)
    """

    def resolve(self, caller_name="estimator", **defaults):
        """The spec to build with, its parameters checked.

        Parameters
        ----------
        caller_name : str, default="estimator"
            The estimator's name, for error messages.
        **defaults : dict
            The estimator's own network parameters (``hidden_layer_sizes``,
            ``activation``), for specs that take them from there.

        Returns
        -------
        spec : Architecture
        """
        return self

    def encoder(self, n_features, n_outputs):
        """Build the encoder.

        Parameters
        ----------
        n_features : int
            Input width.
        n_outputs : int
            Output width (the code; twice the code for a Gaussian encoder).

        Returns
        -------
        module : nn.Module
            Maps ``(n, n_features)`` to ``(n, n_outputs)``.
        """
        raise NotImplementedError

    def decoder(self, n_components, n_features):
        """Build the decoder.

        Parameters
        ----------
        n_components : int
            Code width.
        n_features : int
            Output width.

        Returns
        -------
        module : nn.Module
            Maps codes ``(n, n_components)`` to the raw output ``(n,
            n_features)``, without output activation (the likelihood
            applies it).
        """
        raise NotImplementedError

    def gaussian_encoder(self, n_features, n_components):
        """Build the encoder of ``q(z|x)`` for the variational autoencoder.

        Parameters
        ----------
        n_features : int
            Input width.
        n_components : int
            Latent dimension.

        Returns
        -------
        module : nn.Module
            Maps ``x`` to ``(mu, logvar)``; by default :meth:`encoder` with
            ``2 * n_components`` outputs, split in two.
        """
        return SplitGaussian(self.encoder(n_features, 2 * n_components))

    def tied_decoder(self, encoder):
        """Build a decoder whose weights are ``encoder``'s, transposed.

        Parameters
        ----------
        encoder : nn.Module
            The encoder built by :meth:`encoder`.

        Returns
        -------
        module : nn.Module
        """
        raise TypeError(
            f"{type(self).__name__} has no tied decoder; use tied_weights=False "
            "or an architecture that defines tied_decoder (skae.MLP does)."
        )


class MLP(Architecture):
    """Fully connected encoder and mirrored decoder (the default architecture).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=None
        Widths of the encoder's hidden layers; the decoder mirrors them.
        None takes the estimator's ``hidden_layer_sizes``.
    activation : {"relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu"}, \
            default=None
        Hidden activation; the code layer and the output layer are linear.
        None takes the estimator's ``activation``.

    Examples
    --------
    >>> from skae import MLP
    >>> spec = MLP((16,), "relu")
    >>> spec.encoder(8, 2)
    MLPEncoder(
      (layers): Sequential(
        (0): Linear(in_features=8, out_features=16, bias=True)
        (1): ReLU()
        (2): Linear(in_features=16, out_features=2, bias=True)
      )
    )
    """

    def __init__(self, hidden_layer_sizes=None, activation=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation

    def resolve(self, caller_name="estimator", **defaults):
        sizes = self.hidden_layer_sizes
        if sizes is None:
            sizes = defaults.get("hidden_layer_sizes")
        activation = self.activation if self.activation is not None else defaults.get(
            "activation"
        )
        try:
            sizes = tuple(sizes)
        except TypeError:
            sizes = (sizes,)
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes
        ):
            raise ValueError(
                f"{caller_name}: hidden_layer_sizes must be a tuple of positive ints, "
                f"got {sizes if self.hidden_layer_sizes is None else self.hidden_layer_sizes!r}."
            )
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"{caller_name}: activation must be one of {sorted(ACTIVATIONS)}, "
                f"got {activation!r}."
            )
        return MLP(sizes, activation)

    def encoder(self, n_features, n_outputs):
        return MLPEncoder(n_features, self.hidden_layer_sizes, n_outputs, self.activation)

    def decoder(self, n_components, n_features):
        return MLPDecoder(n_components, self.hidden_layer_sizes, n_features, self.activation)

    def gaussian_encoder(self, n_features, n_components):
        return GaussianEncoder(n_features, self.hidden_layer_sizes, n_components, self.activation)

    def tied_decoder(self, encoder):
        return TiedDecoder(encoder, self.activation)


class ConvNet(Architecture):
    """Convolutional encoder and transposed-convolution decoder, for images.

    The encoder is ``len(channels)`` stride-2 convolutions (each halves the
    image) and a linear layer to the code; the decoder mirrors it with a
    linear layer and transposed convolutions. Inputs are flat rows of
    ``channels * height * width`` pixels (what a ``Pipeline`` passes; the
    estimators also take ``(n, channels, height, width)`` arrays and flatten
    them), channel-major as ``X.reshape(n, -1)`` of such an array gives.

    Parameters
    ----------
    input_shape : tuple of int, default=(1, 28, 28)
        ``(channels, height, width)`` of each image.
    channels : tuple of int, default=(32, 64)
        Output channels of each convolution.
    kernel_size : int, default=3
        Odd kernel size.
    activation : str, default=None
        Activation after each convolution; None takes the estimator's
        ``activation``.

    Notes
    -----
    Pixels in [0, 1] go best with ``loss="bce"`` (or
    ``likelihood="bernoulli"``), which leaves them unscaled; the estimators'
    ``standardize`` otherwise standardises each pixel on its own.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoEncoderTransformer, ConvNet
    >>> X = np.random.default_rng(0).random((20, 1, 8, 8))
    >>> ae = AutoEncoderTransformer(4, architecture=ConvNet((1, 8, 8), (4, 8)),
    ...                             loss="bce", max_epochs=2).fit(X)
    >>> ae.transform(X).shape, ae.inverse_transform(ae.transform(X)).shape
    ((20, 4), (20, 64))
    """

    def __init__(self, input_shape=(1, 28, 28), channels=(32, 64), kernel_size=3,
                 activation=None):
        self.input_shape = input_shape
        self.channels = channels
        self.kernel_size = kernel_size
        self.activation = activation

    def resolve(self, caller_name="estimator", **defaults):
        activation = self.activation if self.activation is not None else defaults.get(
            "activation")
        shape = tuple(self.input_shape)
        if len(shape) != 3 or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in shape
        ):
            raise ValueError(
                f"{caller_name}: ConvNet input_shape must be (channels, height, width) "
                f"of positive ints, got {self.input_shape!r}."
            )
        channels = tuple(self.channels)
        if not channels or not all(isinstance(c, Integral) and c >= 1 for c in channels):
            raise ValueError(
                f"{caller_name}: ConvNet channels must be a non-empty tuple of positive "
                f"ints, got {self.channels!r}."
            )
        if not isinstance(self.kernel_size, Integral) or self.kernel_size % 2 == 0:
            raise ValueError(
                f"{caller_name}: ConvNet kernel_size must be an odd int, got "
                f"{self.kernel_size!r}."
            )
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"{caller_name}: activation must be one of {sorted(ACTIVATIONS)}, "
                f"got {activation!r}."
            )
        return ConvNet(shape, channels, self.kernel_size, activation)

    def _check(self, n_features):
        expected = 1
        for s in self.input_shape:
            expected *= s
        if n_features != expected:
            raise ValueError(
                f"ConvNet: the data have {n_features} features per row, but "
                f"input_shape={tuple(self.input_shape)} has {expected} pixels."
            )

    def encoder(self, n_features, n_outputs):
        self._check(n_features)
        return ConvEncoder(self.input_shape, self.channels, n_outputs, self.kernel_size,
                           self.activation)

    def decoder(self, n_components, n_features):
        self._check(n_features)
        return ConvDecoder(n_components, self.input_shape, self.channels, self.kernel_size,
                           self.activation)

    def tied_decoder(self, encoder):
        return TiedConvDecoder(encoder, self.activation)


for _cls in (MLP, ConvNet):
    for _name in ("resolve", "encoder", "decoder", "gaussian_encoder", "tied_decoder"):
        # The overrides do what the base documents.
        if _name in vars(_cls):
            vars(_cls)[_name].__doc__ = getattr(Architecture, _name).__doc__
del _cls, _name
