"""Convolutional encoder, mirrored transposed-convolution decoder, tied decoder.

The modules take and return flat rows ``(n, channels * height * width)``
(what a scikit-learn ``Pipeline`` passes) and reshape inside, so that the
rest of skae (scaling, losses, batches) sees 2-D arrays whatever the
network.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from .mlp import ACTIVATIONS


def conv_sizes(input_shape, channels, kernel_size):
    """Spatial sizes after each stride-2 convolution, from the input's."""
    _, h, w = input_shape
    pad = kernel_size // 2
    sizes = [(h, w)]
    for _ in channels:
        h = (h + 2 * pad - kernel_size) // 2 + 1
        w = (w + 2 * pad - kernel_size) // 2 + 1
        sizes.append((h, w))
    return sizes


def output_padding(sizes, i, kernel_size):
    """The output padding that brings a stride-2 transposed convolution from
    ``sizes[i + 1]`` back to ``sizes[i]`` exactly (odd sizes included)."""
    pad = kernel_size // 2
    (h_in, w_in), (h_out, w_out) = sizes[i + 1], sizes[i]
    return (h_out - ((h_in - 1) * 2 - 2 * pad + kernel_size),
            w_out - ((w_in - 1) * 2 - 2 * pad + kernel_size))


class ConvEncoder(nn.Module):
    """Stride-2 convolutions, then a linear layer to the code.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)`` of each image.
    channels : tuple of int
        Output channels of each convolution (each halves the image).
    n_outputs : int
        Code width (the code layer is linear).
    kernel_size : int, default=3
        Odd kernel size; padding keeps the halving exact.
    activation : str, default="relu"
        Activation after each convolution, a key of
        :data:`~skae.modules.ACTIVATIONS`.

    Examples
    --------
    >>> import torch
    >>> from skae.modules import ConvEncoder
    >>> ConvEncoder((1, 8, 8), (4, 8), 2)(torch.zeros(5, 64)).shape
    torch.Size([5, 2])
    """

    def __init__(self, input_shape, channels, n_outputs, kernel_size=3, activation="relu"):
        super().__init__()
        self.input_shape = tuple(input_shape)
        convs = []
        c_in = self.input_shape[0]
        for c_out in channels:
            convs += [
                nn.Conv2d(c_in, c_out, kernel_size, stride=2, padding=kernel_size // 2),
                ACTIVATIONS[activation](),
            ]
            c_in = c_out
        self.convs = nn.Sequential(*convs)
        h, w = conv_sizes(self.input_shape, channels, kernel_size)[-1]
        self.code = nn.Linear(c_in * h * w, n_outputs)

    def forward(self, x):
        lead = x.shape[:-1]
        h = self.convs(x.reshape(-1, *self.input_shape))
        return self.code(h.flatten(start_dim=1)).reshape(*lead, -1)


class ConvDecoder(nn.Module):
    """A linear layer from the code, then stride-2 transposed convolutions
    mirroring :class:`ConvEncoder`; returns flat rows of the raw output.

    Parameters
    ----------
    n_components : int
        Code width.
    input_shape : tuple of int
        ``(channels, height, width)`` of each image.
    channels : tuple of int
        The *encoder's* channels; the decoder uses them in reverse.
    kernel_size : int, default=3
        Odd kernel size, the encoder's.
    activation : str, default="relu"
        Activation after the code layer and between transposed
        convolutions (the output is linear).

    Examples
    --------
    >>> import torch
    >>> from skae.modules import ConvDecoder
    >>> ConvDecoder(2, (1, 7, 7), (4, 8))(torch.zeros(5, 2)).shape
    torch.Size([5, 49])
    """

    def __init__(self, n_components, input_shape, channels, kernel_size=3, activation="relu"):
        super().__init__()
        self.input_shape = tuple(input_shape)
        sizes = conv_sizes(self.input_shape, channels, kernel_size)
        self.start_shape = (channels[-1], *sizes[-1])
        self.code = nn.Linear(n_components, math.prod(self.start_shape))
        self.activation = ACTIVATIONS[activation]()
        layers = []
        outs = (self.input_shape[0], *channels[:-1])
        pad = kernel_size // 2
        for i in range(len(channels) - 1, -1, -1):
            layers.append(nn.ConvTranspose2d(
                channels[i], outs[i], kernel_size, stride=2, padding=pad,
                output_padding=output_padding(sizes, i, kernel_size),
            ))
            if i > 0:
                layers.append(ACTIVATIONS[activation]())
        self.deconvs = nn.Sequential(*layers)

    def forward(self, z):
        # Leading dimensions (draws of z, rows) are kept, as linear layers do.
        lead = z.shape[:-1]
        h = self.activation(self.code(z)).reshape(-1, *self.start_shape)
        return self.deconvs(h).reshape(*lead, -1)


class TiedConvDecoder(nn.Module):
    """Mirror a :class:`ConvEncoder` with its own weights, transposed.

    The code layer uses the encoder's linear weight transposed, and each
    transposed convolution the encoder's convolution kernel: a transposed
    convolution with a convolution's kernel is that convolution's adjoint.
    Biases are the decoder's own.

    Parameters
    ----------
    encoder : ConvEncoder
        The encoder to mirror.
    activation : str, default="relu"
        Activation after the code layer and between transposed
        convolutions (the output is linear).

    Examples
    --------
    >>> import torch
    >>> from skae.modules import ConvEncoder, TiedConvDecoder
    >>> enc = ConvEncoder((1, 8, 8), (4, 8), 2)
    >>> TiedConvDecoder(enc)(enc(torch.zeros(5, 64))).shape
    torch.Size([5, 64])
    """

    def __init__(self, encoder, activation="relu"):
        super().__init__()
        self.input_shape = encoder.input_shape
        convs = [m for m in encoder.convs if isinstance(m, nn.Conv2d)]
        # Registering the encoder's own Parameters (not copies) ties them.
        self.weights = nn.ParameterList([encoder.code.weight] + [c.weight for c in convs])
        self.code_bias = nn.Parameter(torch.zeros(encoder.code.in_features))
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(c.in_channels)) for c in convs])
        self.activation = ACTIVATIONS[activation]()
        self.kernel_size = convs[0].kernel_size[0]
        self.sizes = conv_sizes(self.input_shape, [c.out_channels for c in convs], self.kernel_size)
        self.start_shape = (convs[-1].out_channels, *self.sizes[-1])

    def forward(self, z):
        lead = z.shape[:-1]
        h = F.linear(z, self.weights[0].t(), self.code_bias)
        h = self.activation(h).reshape(-1, *self.start_shape)
        for i in range(len(self.biases) - 1, -1, -1):
            h = self.transposed(h, i) + self.biases[i].view(1, -1, 1, 1)
            if i > 0:
                h = self.activation(h)
        return h.reshape(*lead, -1)

    def transposed(self, h, i):
        """The adjoint of the encoder's ``i``-th convolution (no bias): a
        transposed convolution with the same kernel, back to that
        convolution's input size.

        Parameters
        ----------
        h : Tensor of shape (n, out_channels, height, width)
            Maps of the convolution's output size.
        i : int
            Index of the convolution, from the input side.

        Returns
        -------
        Tensor of shape (n, in_channels, height_in, width_in)
        """
        return F.conv_transpose2d(
            h, self.weights[i + 1], stride=2, padding=self.kernel_size // 2,
            output_padding=output_padding(self.sizes, i, self.kernel_size),
        )
