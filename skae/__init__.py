"""skae: autoencoders as scikit-learn estimators, trained with skorch."""

from .autoencoder import AutoEncoderTransformer
from .outlier import AEOutlierDetector

__version__ = "0.1.0.dev0"

__all__ = ["AEOutlierDetector", "AutoEncoderTransformer", "__version__"]
