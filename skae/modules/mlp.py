"""Multi-layer perceptron encoder, mirrored decoder and their composition."""

from torch import nn

#: Hidden-layer activations accepted by the MLP modules, by name.
ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
}

#: Output activations that turn the decoder's raw output into the mean of
#: the reconstruction. "identity" goes with squared error, "sigmoid" with
#: cross-entropy (the raw output is then a logit).
OUTPUT_ACTIVATIONS = {"identity": nn.Identity, "sigmoid": nn.Sigmoid}


def _mlp(sizes, activation, activate_last):
    """Stack ``Linear`` layers of the given sizes with ``activation`` between."""
    layers = []
    n_layers = len(sizes) - 1
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < n_layers - 1 or activate_last:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    """Map ``x`` to the code ``h(x)`` through fully connected layers.

    Parameters
    ----------
    n_features : int
        Input dimension.
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers, from the input side.
    n_components : int
        Code dimension. The code layer is linear (no activation), as in PCA.
    activation : str, default="relu"
        Hidden activation, a key of :data:`ACTIVATIONS`.

    Examples
    --------
    >>> import torch
    >>> from skae.modules import MLPEncoder
    >>> MLPEncoder(8, (16,), 2)(torch.zeros(5, 8)).shape
    torch.Size([5, 2])
    """

    def __init__(self, n_features, hidden_layer_sizes, n_components, activation="relu"):
        super().__init__()
        sizes = (n_features, *hidden_layer_sizes, n_components)
        self.layers = _mlp(sizes, activation, activate_last=False)

    def forward(self, x):
        return self.layers(x)


class MLPDecoder(nn.Module):
    """Map a code ``z`` back to input space, mirroring :class:`MLPEncoder`.

    ``forward`` returns the raw output (a logit when ``output_activation`` is
    ``"sigmoid"``), so that losses can be computed stably from it;
    :meth:`mean` applies the output activation.

    Parameters
    ----------
    n_components : int
        Code dimension.
    hidden_layer_sizes : tuple of int
        Widths of the *encoder's* hidden layers; the decoder uses them in
        reverse order.
    n_features : int
        Output dimension.
    activation : str, default="relu"
        Hidden activation, a key of :data:`ACTIVATIONS`.
    output_activation : {"identity", "sigmoid"}, default="identity"
        Applied by :meth:`mean`.

    Examples
    --------
    >>> import torch
    >>> from skae.modules import MLPDecoder
    >>> dec = MLPDecoder(2, (16,), 8, output_activation="sigmoid")
    >>> dec.mean(torch.zeros(5, 2)).shape
    torch.Size([5, 8])
    """

    def __init__(
        self,
        n_components,
        hidden_layer_sizes,
        n_features,
        activation="relu",
        output_activation="identity",
    ):
        super().__init__()
        sizes = (n_components, *reversed(tuple(hidden_layer_sizes)), n_features)
        self.layers = _mlp(sizes, activation, activate_last=False)
        self.output_activation = OUTPUT_ACTIVATIONS[output_activation]()

    def forward(self, z):
        return self.layers(z)

    def mean(self, z):
        """Reconstruction mean: the output activation of the raw output.

        Parameters
        ----------
        z : Tensor of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
        """
        return self.output_activation(self(z))


class AutoEncoder(nn.Module):
    """An encoder and a decoder; ``forward(x)`` returns the decoder's raw output.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``x`` of shape ``(n, n_features)`` to codes ``(n, n_components)``.
    decoder : nn.Module
        Maps codes back; must provide ``mean(z)`` (see :class:`MLPDecoder`).

    Examples
    --------
    >>> import torch
    >>> from skae.modules import AutoEncoder, MLPDecoder, MLPEncoder
    >>> ae = AutoEncoder(MLPEncoder(8, (16,), 2), MLPDecoder(2, (16,), 8))
    >>> ae(torch.zeros(5, 8)).shape
    torch.Size([5, 8])
    """

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, x):
        """Code ``h(x)`` of samples ``x``.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        Tensor of shape (n_samples, n_components)
        """
        return self.encoder(x)

    def decode(self, z):
        """Reconstruction mean of codes ``z``.

        Parameters
        ----------
        z : Tensor of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
        """
        return self.decoder.mean(z)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def mlp_autoencoder(
    n_features, hidden_layer_sizes, n_components, activation, output_activation
):
    """Build the default :class:`AutoEncoder` of two mirrored MLPs."""
    return AutoEncoder(
        MLPEncoder(n_features, hidden_layer_sizes, n_components, activation),
        MLPDecoder(
            n_components, hidden_layer_sizes, n_features, activation, output_activation
        ),
    )
