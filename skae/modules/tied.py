"""A decoder whose weights are its encoder's, transposed (tied weights)."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from .mlp import ACTIVATIONS, OUTPUT_ACTIVATIONS


class TiedDecoder(nn.Module):
    """Mirror an encoder with its own weight matrices, transposed.

    Layer by layer, the decoder's ``i``-th layer from the code side uses
    ``W.T`` where ``W`` is the weight of the encoder's ``i``-th linear layer
    from the code side, with a bias of its own. The weights are the
    *same* :class:`torch.nn.Parameter` objects as the encoder's, so that an
    optimiser holds each once and the gradients of the encoding and of the
    decoding path add up in it.

    Parameters
    ----------
    encoder : nn.Module
        The encoder to mirror; its :class:`torch.nn.Linear` layers are
        taken in the order of ``encoder.modules()``.
    activation : str, default="relu"
        Hidden activation of the decoder, a key of
        :data:`~skae.modules.ACTIVATIONS`.
    output_activation : {"identity", "sigmoid"}, default="identity"
        Applied by :meth:`mean`; ``forward`` returns the raw output.

    See Also
    --------
    MLPDecoder : The untied mirrored decoder.

    References
    ----------
    .. [1] S. Rifai, P. Vincent, X. Muller, X. Glorot and Y. Bengio,
       "Contractive auto-encoders: explicit invariance during feature
       extraction", ICML 2011.

    Examples
    --------
    >>> import torch
    >>> from skae.modules import MLPEncoder, TiedDecoder
    >>> enc = MLPEncoder(8, (16,), 2)
    >>> dec = TiedDecoder(enc)
    >>> dec(enc(torch.zeros(5, 8))).shape
    torch.Size([5, 8])
    >>> dec.weights[0] is enc.layers[-1].weight
    True
    """

    def __init__(self, encoder, activation="relu", output_activation="identity"):
        super().__init__()
        linears = [m for m in encoder.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise ValueError("TiedDecoder: the encoder has no nn.Linear layer to tie to.")
        linears.reverse()
        # Registering the encoder's own Parameters here (not copies) is what
        # ties them; Module.parameters() lists each shared one once.
        self.weights = nn.ParameterList([lin.weight for lin in linears])
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.empty(lin.in_features)) for lin in linears]
        )
        for lin, bias in zip(linears, self.biases):
            # nn.Linear's default bias initialisation, for fan-in out_features.
            bound = 1.0 / math.sqrt(lin.out_features)
            nn.init.uniform_(bias, -bound, bound)
        self.activation = ACTIVATIONS[activation]()
        self.output_activation = OUTPUT_ACTIVATIONS[output_activation]()

    def forward(self, z):
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            z = F.linear(z, weight.t(), bias)
            if i < last:
                z = self.activation(z)
        return z

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
