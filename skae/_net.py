"""The skorch side of skae: a ``NeuralNet`` whose loss is the estimator's.

skorch runs the training loop, callbacks, early stopping and history. Two
things are changed for speed and for the estimators' needs:

* batches are slices of one tensor that already sits on the device
  (:class:`_TensorDataset`, :class:`_BatchIterator`) instead of a
  ``DataLoader`` that indexes and collates item by item;
* the loss is computed by a callable of the estimator, ``batch_loss(module,
  X, training)``, so that each estimator supplies only its objective.
"""

import math

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback


class _TensorDataset(torch.utils.data.Dataset):
    """A dataset of one tensor; batches are taken by slicing, not indexing."""

    def __init__(self, X):
        self.X = X

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.X[i]


class _BatchIterator:
    """Yield ``(X_batch, None)`` slices of a :class:`_TensorDataset`.

    With ``shuffle=True`` the rows are permuted once per epoch (one gather on
    the device) by ``rng``, a :class:`numpy.random.Generator` that lives for
    the whole fit so that every epoch gets a new order.
    """

    def __init__(self, dataset, batch_size=128, shuffle=False, rng=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = rng

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        X = self.dataset.X
        if self.shuffle:
            perm = torch.from_numpy(self.rng.permutation(len(X))).to(X.device)
            X = X[perm]
        for start in range(0, len(X), self.batch_size):
            yield X[start : start + self.batch_size], None


class _CheckFiniteLoss(Callback):
    """Stop training with a clear error when the loss becomes NaN or inf."""

    def __init__(self, caller_name, lr):
        self.caller_name = caller_name
        self.lr = lr

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for key in ("train_loss", "valid_loss"):
            value = row.get(key)
            if value is not None and not math.isfinite(value):
                raise ValueError(
                    f"{self.caller_name}: training diverged, the {key.replace('_', ' ')} "
                    f"became {value} at epoch {row['epoch']}. Try a lower learning "
                    f"rate (lr={self.lr}) or scale the input."
                )


class _AENet(NeuralNet):
    """``NeuralNet`` that trains ``module`` on ``batch_loss(module, X, training)``.

    ``criterion`` is unused (skorch requires one); ``infer`` returns the batch
    itself so that the whole forward pass happens inside ``batch_loss``,
    which may need the encoder and decoder separately (Jacobians, noise,
    sampling).
    """

    def __init__(self, module, *args, batch_loss, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.batch_loss = batch_loss

    def _set_training(self, training=True):
        # skorch calls this before every batch; walking the module tree to
        # set a mode it already has costs ~7% of a small network's step.
        if self.module_.training != training:
            super()._set_training(training)

    def notify(self, method_name, **cb_kwargs):
        # Batch-level events go only to callbacks that handle them: the
        # default ones (timer, loss scoring, print log) only act per epoch.
        if method_name not in ("on_batch_begin", "on_batch_end"):
            return super().notify(method_name, **cb_kwargs)
        getattr(self, method_name)(self, **cb_kwargs)
        for cb in self._batch_callbacks(method_name):
            getattr(cb, method_name)(self, **cb_kwargs)

    def _batch_callbacks(self, method_name):
        cache = getattr(self, "_batch_callbacks_cache", None)
        if cache is None or cache[0] is not self.callbacks_:
            handlers = {
                name: [
                    cb
                    for _, cb in self.callbacks_
                    if getattr(type(cb), name) is not getattr(Callback, name)
                ]
                for name in ("on_batch_begin", "on_batch_end")
            }
            cache = self._batch_callbacks_cache = (self.callbacks_, handlers)
        return cache[1][method_name]

    def infer(self, x, **fit_params):
        return x

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.batch_loss(self.module_, X, training)


def _to_tensor(X, device):
    """Copy an array to a float32 tensor on ``device`` (the caller's array is
    never shared, so that in-place operations cannot reach it)."""
    return torch.tensor(np.asarray(X, dtype=np.float32), device=device)
