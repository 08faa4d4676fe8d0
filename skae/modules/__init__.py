"""Plain :class:`torch.nn.Module` building blocks used by the skae estimators.

They take ints and tuples and return tensors, know nothing of scikit-learn or
skorch, and can be used (or swapped) on their own.
"""

from .gaussian import GaussianEncoder, VariationalAutoEncoder, reparameterize
from .mlp import ACTIVATIONS, AutoEncoder, MLPDecoder, MLPEncoder
from .tied import TiedDecoder

__all__ = [
    "ACTIVATIONS",
    "AutoEncoder",
    "GaussianEncoder",
    "MLPDecoder",
    "MLPEncoder",
    "TiedDecoder",
    "VariationalAutoEncoder",
    "reparameterize",
]
