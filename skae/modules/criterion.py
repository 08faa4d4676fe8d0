"""The skorch criterion of every skae model: a weighted sum of loss terms."""

from torch import nn


class LossTerms(nn.Module):
    """Turn a model's named tuple of per-sample loss terms into the loss.

    ``loss = sum_t weights[t] * mean(terms.t)``, a weight of 1 for a term
    not named in ``weights``. The models compute every term of their
    objective; the weights (``contraction``, ``beta``...) are the
    estimator's hyperparameters, held here so that the network holds no
    reference to the estimator.

    Parameters
    ----------
    weights : dict of str to float, default=None
        Weight of each term by its name.

    Examples
    --------
    >>> import torch
    >>> from skae.modules import LossTerms
    >>> from skae.modules.models import ContractiveTerms
    >>> terms = ContractiveTerms(torch.tensor([1.0, 3.0]), torch.tensor([10.0, 10.0]))
    >>> LossTerms({"contraction": 0.1})(terms)
    tensor(3.)
    """

    def __init__(self, weights=None):
        super().__init__()
        self.weights = dict(weights or {})

    def forward(self, terms, target=None):
        loss = None
        for name, value in zip(terms._fields, terms):
            weight = self.weights.get(name, 1.0)
            if weight == 0:
                continue
            term = value.mean() if weight == 1 else weight * value.mean()
            loss = term if loss is None else loss + term
        if loss is None:  # every weight zero
            loss = terms[0].mean() * 0.0
        return loss
