"""Standardisation as the first (and, inverted, the last) layer of a network."""

import numpy as np
import torch
from torch import nn


class Standardize(nn.Module):
    """``(x - center) / scale`` per feature, with its inverse.

    Holding the scaling in the network (as buffers) makes a trained network
    self-contained: it takes and returns data in their own units, and a
    skorch ``net_.partial_fit(X)`` on raw data trains it correctly.

    Parameters
    ----------
    center, scale : array-like of shape (n_features,) or None
        None for both: the identity (no standardisation).

    Examples
    --------
    >>> import torch
    >>> from skae.modules import Standardize
    >>> s = Standardize([1.0, 2.0], [2.0, 4.0])
    >>> s(torch.tensor([[3.0, 6.0]]))
    tensor([[1., 1.]])
    >>> s.inverse(torch.tensor([[1.0, 1.0]]))
    tensor([[3., 6.]])
    """

    def __init__(self, center=None, scale=None):
        super().__init__()
        self.identity = center is None
        if not self.identity:
            self.register_buffer("center", torch.as_tensor(np.asarray(center), dtype=torch.float32))
            self.register_buffer("scale", torch.as_tensor(np.asarray(scale), dtype=torch.float32))

    def forward(self, x):
        if self.identity:
            return x
        return (x - self.center) / self.scale

    def inverse(self, x):
        """Back from standardised units to the data's units.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Standardised data.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
        """
        if self.identity:
            return x
        return x * self.scale + self.center

    def log_abs_det_jacobian(self):
        """``log |d forward / dx|``: turns densities of standardised data into
        densities of the data (a float, 0 for the identity)."""
        if self.identity:
            return 0.0
        return -float(torch.log(self.scale.double()).sum())
