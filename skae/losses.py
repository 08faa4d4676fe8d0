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

    Examples
    --------
    >>> import torch
    >>> from skae.losses import reconstruction_error
    >>> reconstruction_error(torch.zeros(2, 3), torch.ones(2, 3))
    tensor([1., 1.])
    """
    if loss == "mse":
        per_feature = (output - x) ** 2
    elif loss == "bce":
        per_feature = F.binary_cross_entropy_with_logits(output, x, reduction="none")
    else:
        raise ValueError(
            f"loss must be one of {RECONSTRUCTION_LOSSES}, got {loss!r}."
        )
    return per_feature.mean(dim=1)
