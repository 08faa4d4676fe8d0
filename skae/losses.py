"""Loss terms as pure functions of tensors.

Every function returns one value per sample (shape ``(n_samples,)``); the
estimators average them over a batch. Keeping them free of modules and
estimators lets the tests check each against an independent computation.
"""

import torch.nn.functional as F

#: Reconstruction losses by name: squared error for real-valued data and
#: cross-entropy (computed from logits, for stability) for data in [0, 1].
RECONSTRUCTION_LOSSES = ("mse", "bce")


def reconstruction_error(output, x, loss="mse"):
    """Per-sample reconstruction error, averaged over features.

    Parameters
    ----------
    output : Tensor of shape (n_samples, n_features)
        The decoder's raw output: the reconstruction itself for ``"mse"``,
        its logit for ``"bce"``.
    x : Tensor of shape (n_samples, n_features)
        The target.
    loss : {"mse", "bce"}, default="mse"
        ``"mse"``: mean of ``(output - x)**2``; ``"bce"``: mean binary
        cross-entropy of ``x`` under ``sigmoid(output)``.

    Returns
    -------
    Tensor of shape (n_samples,)

    See Also
    --------
    feature_reconstruction_error : The same error, feature by feature.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import reconstruction_error
    >>> reconstruction_error(torch.zeros(2, 3), torch.ones(2, 3))
    tensor([1., 1.])
    """
    return feature_reconstruction_error(output, x, loss).mean(dim=1)


def feature_reconstruction_error(output, x, loss="mse"):
    """Reconstruction error of each feature of each sample.

    Parameters are those of :func:`reconstruction_error`, whose value is the
    mean of this one over features.

    Returns
    -------
    Tensor of shape (n_samples, n_features)

    Examples
    --------
    >>> import torch
    >>> from skae.losses import feature_reconstruction_error
    >>> feature_reconstruction_error(torch.zeros(1, 2), torch.tensor([[1.0, 2.0]]))
    tensor([[1., 4.]])
    """
    if loss == "mse":
        return (output - x) ** 2
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(output, x, reduction="none")
    raise ValueError(
        f"loss must be one of {RECONSTRUCTION_LOSSES}, got {loss!r}."
    )
