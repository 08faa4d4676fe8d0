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


for _name in ("resolve", "encoder", "decoder", "gaussian_encoder", "tied_decoder"):
    # The overrides do what the base documents.
    getattr(MLP, _name).__doc__ = getattr(Architecture, _name).__doc__
del _name
