"""An autoencoder with a prediction head on its code: the model of
:class:`~skae.AutoEncoderClassifier` and :class:`~skae.AutoEncoderRegressor`."""

from collections import namedtuple

import torch
from torch import nn
from torch.nn import functional as F

from ..utils.random import TorchGenerator
from .models import ReconstructionModel

#: Loss terms of the semi-supervised classifier: cross-entropy of the
#: labelled rows, reconstruction of every row, the certainty-weighted
#: cross-entropy of the unlabelled rows against their pseudo-labels, and the
#: virtual adversarial consistency of the predictions of every row.
ClassifierTerms = namedtuple(
    "ClassifierTerms", ["supervised", "reconstruction", "pseudo_label", "consistency"]
)
#: Loss terms of the regressor: squared error of the (standardised)
#: targets and reconstruction.
RegressorTerms = namedtuple("RegressorTerms", ["supervised", "reconstruction"])


def masked_mean_terms(values, mask):
    """Per-sample terms whose batch mean is the mean of ``values`` over the
    rows of ``mask`` (zero where the mask is empty).

    Parameters
    ----------
    values : Tensor of shape (n_samples,)
    mask : Tensor of bool, shape (n_samples,)

    Returns
    -------
    Tensor of shape (n_samples,)

    Examples
    --------
    >>> import torch
    >>> from skae.modules.supervised import masked_mean_terms
    >>> terms = masked_mean_terms(torch.tensor([1.0, 5.0, 9.0]), torch.tensor([True, False, True]))
    >>> float(terms.mean())
    5.0
    """
    share = mask.float().mean()
    if share == 0:
        return values * 0.0
    return torch.where(mask, values, torch.zeros_like(values)) / share


class SupervisedModel(ReconstructionModel):
    """An autoencoder whose code also feeds a prediction head.

    Parameters
    ----------
    encoder, decoder, likelihood, scaler
        As for :class:`~skae.modules.ReconstructionModel`.
    head : nn.Module
        Maps codes to class logits, or to standardised targets.
    task : {"classification", "regression"}, default="classification"
        Which supervised loss: cross-entropy (label ``-1`` marks an
        unlabelled row) or squared error.
    target_center, target_scale : array-like of shape (n_targets,), default=None
        Standardisation of the regression targets (None: none).
    perturbation : float, default=0.0
        L2 norm of the virtual adversarial perturbation of the consistency
        term (classification; 0: no term), relative to the root mean square
        norm of the batch's rows in the network's units. The term is the KL
        divergence between the predicted class probabilities of a row and
        of the row moved that far in the direction that changes them most,
        found by one power iteration (Miyato et al., "Virtual adversarial
        training", TPAMI 2019).
    seed : int, default=0
        Seed of the random start of the power iteration (the model's own
        stream of draws: the global torch generator is not used).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from skae.likelihoods import Gaussian
    >>> from skae.modules import MLPDecoder, MLPEncoder
    >>> from skae.modules.supervised import SupervisedModel
    >>> model = SupervisedModel(MLPEncoder(4, (8,), 2), MLPDecoder(2, (8,), 4),
    ...                         nn.Linear(2, 3), Gaussian())
    >>> terms = model(torch.zeros(5, 4), torch.tensor([0, 2, -1, -1, 1]))
    >>> terms._fields
    ('supervised', 'reconstruction', 'pseudo_label', 'consistency')
    >>> model.predict_raw(torch.zeros(5, 4)).shape
    torch.Size([5, 3])
    """

    def __init__(self, encoder, decoder, head, likelihood, scaler=None, *,
                 task="classification", target_center=None, target_scale=None,
                 perturbation=0.0, seed=0):
        super().__init__(encoder, decoder, likelihood, scaler)
        self.head = head
        self.task = task
        self.perturbation = perturbation
        self.generator = TorchGenerator(seed)
        if target_center is not None:
            self.register_buffer("target_center", torch.as_tensor(target_center).float())
            self.register_buffer("target_scale", torch.as_tensor(target_scale).float())
        else:
            self.target_center = self.target_scale = None

    def predict_raw(self, x):
        """Class logits, or targets in their own units, of ``x``.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Data in their own units.

        Returns
        -------
        Tensor of shape (n_samples, n_outputs)
        """
        out = self.head(self.encode(x))
        if self.task == "regression" and self.target_center is not None:
            out = out * self.target_scale.to(out.dtype) + self.target_center.to(out.dtype)
        return out

    def forward(self, X, y, target=None, pseudo_label=None, pseudo_weight=None):
        """Per-sample loss terms of a batch ``X`` (corrupted, then rebuilt
        towards ``target``) with targets ``y``, and for a classifier the
        pseudo-labels and their weights (used on unlabelled rows)."""
        xs, ts = self._scaled(X, target)
        code = self.encoder(xs)
        reconstruction = self.likelihood.loss(self.decoder(code), ts).mean(dim=1)
        out = self.head(code)
        if self.task == "regression":
            if self.target_center is not None:
                y = (y - self.target_center) / self.target_scale
            return RegressorTerms(((out - y) ** 2).mean(dim=1), reconstruction)
        labelled = y >= 0
        supervised = masked_mean_terms(
            F.cross_entropy(out, y.clamp(min=0), reduction="none"), labelled
        )
        if pseudo_label is None:
            pseudo = torch.zeros_like(reconstruction)
        else:
            pseudo = masked_mean_terms(
                pseudo_weight * F.cross_entropy(out, pseudo_label, reduction="none"), ~labelled
            )
        return ClassifierTerms(supervised, reconstruction, pseudo, self._consistency(xs, out))

    def _consistency(self, xs, logits):
        """Per-sample virtual adversarial KL divergence at ``xs`` (network
        units) whose clean class logits are ``logits``; zero in evaluation
        mode or without ``perturbation``."""
        if not self.training or self.perturbation <= 0:
            return torch.zeros(len(xs), dtype=logits.dtype, device=logits.device)
        log_p = F.log_softmax(logits.detach(), dim=1)

        def divergence(r):
            log_q = F.log_softmax(self.head(self.encoder(xs + r)), dim=1)
            return F.kl_div(log_q, log_p, log_target=True, reduction="none").sum(dim=1)

        def unit(d):
            return d / d.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (d.dim() - 1))

        radius = self.perturbation * xs.detach().pow(2).flatten(1).sum(dim=1).mean().sqrt()
        # One power iteration from a random direction, a small step away
        # (1 % of the radius: far enough for float32 differences).
        start = torch.randn(xs.shape, generator=self.generator.get(xs.device),
                            device=xs.device, dtype=xs.dtype)
        d = (1e-2 * radius * unit(start)).requires_grad_()
        (grad,) = torch.autograd.grad(divergence(d).sum(), d)
        return divergence(radius * unit(grad.detach()))
