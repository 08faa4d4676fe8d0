"""skae: autoencoders as scikit-learn estimators, trained with skorch."""

from .architectures import MLP, ConvNet
from .autoencoder import AutoEncoderTransformer
from .contractive import ContractiveAE
from .denoising import DenoisingAE
from .neighbors import NeighborEmbeddingAE
from .outlier import AEOutlierDetector
from .vae import VAETransformer

__version__ = "0.1.0.dev0"

__all__ = [
    "AEOutlierDetector",
    "AutoEncoderTransformer",
    "ContractiveAE",
    "ConvNet",
    "DenoisingAE",
    "MLP",
    "NeighborEmbeddingAE",
    "VAETransformer",
    "__version__",
]
