"""Pictures of what a fitted autoencoder learned."""

import math

import numpy as np
from sklearn.utils.validation import check_is_fitted
from torch import nn


def first_layer_filters(estimator, image_shape=None, n_columns=None):
    """The first-layer filters of a fitted encoder, tiled into one image.

    For an MLP encoder each filter is a row of the first linear layer's
    weight, shown as an image of ``image_shape``; for a convolutional
    encoder (:class:`skae.ConvNet`) each is a first-layer kernel (averaged
    over input channels). Each filter is scaled to [0, 1] on its own; tiles
    are separated by a one-pixel gap of NaN (blank with ``imshow``).

    Parameters
    ----------
    estimator : fitted skae estimator
        An autoencoder, or an :class:`~skae.AEOutlierDetector` (its
        ``estimator_`` is used).
    image_shape : tuple of int, default=None
        ``(height, width)`` of the input images, for an MLP encoder; None
        for square images.
    n_columns : int, default=None
        Tiles per row of the grid; None for about a square grid.

    Returns
    -------
    grid : ndarray of shape (rows * (h + 1) - 1, n_columns * (w + 1) - 1)
        Float64, NaN between tiles.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoderTransformer
    >>> from skae.inspection import first_layer_filters
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoEncoderTransformer(hidden_layer_sizes=(16,), max_epochs=2).fit(X)
    >>> first_layer_filters(ae).shape
    (35, 35)
    """
    est = getattr(estimator, "estimator_", estimator)
    check_is_fitted(est, "net_")
    encoder = est.net_.module_.encoder
    layer = next(
        (m for m in encoder.modules() if isinstance(m, (nn.Conv2d, nn.Linear))), None
    )
    if layer is None:
        raise TypeError(
            f"first_layer_filters: the encoder of {type(est).__name__} has no Conv2d "
            "or Linear layer."
        )
    weight = layer.weight.detach().cpu().double().numpy()
    if isinstance(layer, nn.Conv2d):
        filters = weight.mean(axis=1)
    else:
        n_features = weight.shape[1]
        if image_shape is None:
            side = math.isqrt(n_features)
            if side * side != n_features:
                raise ValueError(
                    f"first_layer_filters: {n_features} input features are not a square "
                    "image; pass image_shape=(height, width)."
                )
            image_shape = (side, side)
        if math.prod(image_shape) != n_features:
            raise ValueError(
                f"first_layer_filters: image_shape={tuple(image_shape)} does not have "
                f"the encoder's {n_features} input features."
            )
        filters = weight.reshape(len(weight), *image_shape)
    lo = filters.min(axis=(1, 2), keepdims=True)
    span = filters.max(axis=(1, 2), keepdims=True) - lo
    filters = (filters - lo) / np.where(span > 0, span, 1.0)
    n, h, w = filters.shape
    cols = n_columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
    for i, f in enumerate(filters):
        r, c = divmod(i, cols)
        grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = f
    return grid
