"""skae: autoencoders as scikit-learn estimators, trained with skorch."""

from .adversarial import AdversarialAE
from .architectures import MLP, ConvNet
from .autoencoder import AutoEncoderTransformer
from .conditional import ConditionalVAE
from .clustering import AdversarialClustering
from .contractive import ContractiveAE
from .denoising import DenoisingAE
from .neighbors import NeighborEmbeddingAE
from .outlier import AEOutlierDetector
from .stacked import StackedAutoEncoder
from .supervised import AutoEncoderClassifier, AutoEncoderRegressor
from .vae import VAETransformer

__version__ = "0.1.0.dev0"

__all__ = [
    "AdversarialAE",
    "AdversarialClustering",
    "AEOutlierDetector",
    "AutoEncoderClassifier",
    "AutoEncoderRegressor",
    "AutoEncoderTransformer",
    "ConditionalVAE",
    "ContractiveAE",
    "ConvNet",
    "DenoisingAE",
    "MLP",
    "NeighborEmbeddingAE",
    "StackedAutoEncoder",
    "VAETransformer",
    "__version__",
]
