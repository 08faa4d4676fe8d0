"""The skorch side of skae: the net that trains every estimator's model.

skorch runs the training loop, callbacks, early stopping and history; the
module returns its loss terms and the criterion
(:class:`~skae.modules.LossTerms`) sums them, so the net holds no reference
to the estimator, pickles on its own and can go on training with skorch's
own ``partial_fit``. Changes to :class:`skorch.NeuralNet`:

* batches come from :class:`~skae._data.BatchIterator` (gathered by index,
  on the device), not from a ``DataLoader`` that collates item by item;
* a model without targets gets ``None`` as ``y_true``;
* ``KeyboardInterrupt`` reaches the caller (skorch's ``partial_fit`` stops
  training quietly instead);
* batch-level callbacks are dispatched only to the callbacks that handle
  them.

A model with a second network and optimizer (the adversarial autoencoder)
subclasses :class:`_AENet` the skorch way: ``initialize_module`` adds the
second module, ``initialize_optimizer`` its optimizer (with
``get_params_for_optimizer``), and ``train_step`` steps both.
"""

import math
import warnings

from sklearn.exceptions import ConvergenceWarning
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping
from skorch.utils import to_tensor

from ._data import ArrayDataset, BatchIterator


#: A training loss this many times the untrained network's has diverged.
_EXPLODED = 1e3
#: An untrained network's loss above this is far from what scaled data give.
_ABSURD = 1e4


class _CheckLoss(Callback):
    """Stop a diverging fit with a clear error; warn when nothing is learned.

    The reference is the loss of the untrained network: the first batch's
    loss, recorded by skorch before the first step. Training raises a
    ``ValueError`` naming the epoch when the loss becomes NaN or inf, or
    exceeds :data:`_EXPLODED` times that reference (a learning rate far too
    high: such runs do not come back). A fit of three epochs or more that
    starts at an absurd loss (above :data:`_ABSURD`; scaled data give about
    1 per feature) and never goes below 0.99 times it gets a
    ``ConvergenceWarning`` (badly scaled data, or a learning rate far too
    low): a warning, since more epochs might have helped.
    """

    def __init__(self, caller_name, lr, hint=""):
        self.caller_name = caller_name
        self.lr = lr
        self.hint = hint

    def initialize(self):
        self.initial_ = None
        self.run_start_ = 0
        return self

    def on_train_begin(self, net, **kwargs):
        self.run_start_ = len(net.history)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        if self.initial_ is None and row.get("batches"):
            self.initial_ = row["batches"][0].get("train_loss")
        for key in ("train_loss", "valid_loss"):
            value = row.get(key)
            if value is not None and not math.isfinite(value):
                raise ValueError(
                    f"{self.caller_name}: training diverged, the {key.replace('_', ' ')} "
                    f"became {value} at epoch {row['epoch']}. Try a lower learning "
                    f"rate (lr={self.lr}) or scale the input."
                )
        loss, initial = row.get("train_loss"), self.initial_
        if initial is not None and loss is not None and loss > _EXPLODED * max(abs(initial), 1e-3):
            raise ValueError(
                f"{self.caller_name}: training diverged, the train loss reached {loss:.3g} "
                f"at epoch {row['epoch']}, {loss / max(abs(initial), 1e-3):.3g} times that "
                f"of the untrained network ({initial:.3g}). The learning rate (lr="
                f"{self.lr}) is probably too high: lower it, or clip the gradients "
                "(skorch's GradientNormClipping callback)."
            )

    def on_train_end(self, net, **kwargs):
        losses = [row.get("train_loss") for row in net.history[self.run_start_ :]]
        losses = [v for v in losses if v is not None]
        if self.initial_ is None or len(losses) < 3:
            return
        # An absurd level (scaled data give losses near 1 per feature) that
        # training did not move: short runs on scaled data are not flagged.
        if self.initial_ > _ABSURD and min(losses) >= 0.99 * self.initial_:
            warnings.warn(
                f"{self.caller_name}: the train loss did not decrease in {len(losses)} "
                f"epochs ({self.initial_:.3g} before training, {min(losses):.3g} at "
                f"best): nothing was learned. {self.hint}",
                ConvergenceWarning,
            )


class _TrimBatchHistory(Callback):
    """Keep per-batch history records only while their epoch runs.

    skorch records two values per batch and keeps them for every epoch:
    memory and the pickled model would then grow with the number of rows
    and the length of the training stream, which ``partial_fit`` over
    chunks makes unbounded. Callbacks still see the current epoch's batches
    (they are dropped at the next epoch's end, and at the end of training);
    the per-epoch figures are all kept.
    """

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) >= 2:
            net.history[-2]["batches"] = []

    def on_train_end(self, net, **kwargs):
        if len(net.history):
            net.history[-1]["batches"] = []


class _AENet(NeuralNet):
    """``NeuralNet`` whose module returns loss terms and whose criterion sums them."""

    def __init__(self, module, *args, dataset=ArrayDataset, iterator_train=BatchIterator,
                 iterator_valid=BatchIterator, **kwargs):
        super().__init__(
            module, *args, dataset=dataset, iterator_train=iterator_train,
            iterator_valid=iterator_valid, **kwargs,
        )

    def _set_training(self, training=True):
        # skorch calls this before every batch; walking the module tree to
        # set a mode it already has costs ~7% of a small network's step.
        if any(getattr(self, name + "_").training != training for name in self._modules):
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

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_batch_callbacks_cache", None)
        return state

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training)
        if isinstance(iterator, BatchIterator):
            iterator.device = self.device
        return iterator

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if y_true is not None:
            y_true = to_tensor(y_true, device=self.device)
        return self.criterion_(y_pred, y_true)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        # As skorch's, except that KeyboardInterrupt is not swallowed: Ctrl-C
        # must stop the caller (a GridSearchCV too), not only this fit.
        if not self.initialized_:
            self.initialize()
        routing_method = fit_params.pop("_routing_method", "partial_fit")
        self.notify("on_train_begin", X=X, y=y)
        try:
            self.fit_loop(X, y, _routing_method=routing_method, **fit_params)
        except KeyboardInterrupt:
            # skorch's EarlyStopping stops training by raising it; anything
            # else is the user's Ctrl-C.
            if not self._early_stopped():
                raise
        self.notify("on_train_end", X=X, y=y)
        return self

    def _early_stopped(self):
        return any(
            isinstance(cb, EarlyStopping) and cb.misses_ >= cb.patience
            for _, cb in self.callbacks_
        )
