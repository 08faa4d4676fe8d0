"""skae: autoencoders as scikit-learn estimators, trained with skorch."""

from .autoencoder import AutoEncoderTransformer
from .vae import VAETransformer

__version__ = "0.1.0.dev0"

__all__ = ["AutoEncoderTransformer", "VAETransformer", "__version__"]
