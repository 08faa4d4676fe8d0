"""Plain :class:`torch.nn.Module` building blocks used by the skae estimators.

They take ints and tuples and return tensors, know nothing of scikit-learn or
skorch, and can be used (or swapped) on their own. The building blocks
(encoders, decoders) compute codes and outputs; the models
(:class:`ReconstructionModel`, :class:`ContractiveModel`,
:class:`VariationalModel`) return every term of their objective, which
:class:`LossTerms`, the skorch criterion, sums.
"""

from .conditional import ConditionalVariationalModel, ConditionFilter
from .adversarial import AdversarialModel, ClusteringModel, Discriminator
from .conv import ConvDecoder, ConvEncoder, TiedConvDecoder
from .criterion import LossTerms
from .gaussian import GaussianEncoder, SplitGaussian, VariationalAutoEncoder, reparameterize
from .mlp import ACTIVATIONS, AutoEncoder, MLPDecoder, MLPEncoder
from .models import ContractiveModel, ReconstructionModel, VariationalModel
from .neighbors import NeighborEmbeddingModel
from .scaling import Standardize
from .tied import TiedDecoder

__all__ = [
    "ACTIVATIONS",
    "AdversarialModel",
    "AutoEncoder",
    "ConditionalVariationalModel",
    "ConditionFilter",
    "ClusteringModel",
    "ContractiveModel",
    "ConvDecoder",
    "ConvEncoder",
    "Discriminator",
    "GaussianEncoder",
    "LossTerms",
    "MLPDecoder",
    "MLPEncoder",
    "NeighborEmbeddingModel",
    "ReconstructionModel",
    "SplitGaussian",
    "Standardize",
    "TiedConvDecoder",
    "TiedDecoder",
    "VariationalAutoEncoder",
    "VariationalModel",
    "reparameterize",
]
