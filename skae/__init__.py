"""skae: autoencoders as scikit-learn estimators, trained with skorch."""

from .architectures import MLP, ConvNet
from .autoencoder import AutoEncoderTransformer
from .contractive import ContractiveAE
from .denoising import DenoisingAE
from .outlier import AEOutlierDetector
from .stacked import StackedAutoEncoder
from .supervised import AutoEncoderClassifier, AutoEncoderRegressor
from .vae import VAETransformer

__version__ = "0.1.0.dev0"

__all__ = [
    "AEOutlierDetector",
    "AutoEncoderClassifier",
    "AutoEncoderRegressor",
    "AutoEncoderTransformer",
    "ContractiveAE",
    "ConvNet",
    "DenoisingAE",
    "MLP",
    "StackedAutoEncoder",
    "VAETransformer",
    "__version__",
]
