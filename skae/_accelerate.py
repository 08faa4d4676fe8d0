"""Training through Hugging Face accelerate: skorch's ``AccelerateMixin``.

An estimator given ``accelerator=Accelerator(...)`` trains its net as an
``AccelerateMixin`` net: the accelerator places the modules and the
optimizers (and, in a run started by ``accelerate launch`` with several
processes, wraps the modules in ``DistributedDataParallel``, which averages
the gradients of the processes at each step); the loss is backpropagated by
``accelerator.backward`` inside ``accelerator.accumulate`` and
``accelerator.autocast`` (mixed precision, gradient accumulation).

Three things that ``AccelerateMixin`` leaves to the net class, done here:

* **Sharding.** ``accelerator.prepare`` shards a torch ``DataLoader`` only;
  skae's :class:`~skae._data.BatchIterator` is returned unchanged, so every
  process would train on every batch. The training iterator is given the
  number of processes and this process's index instead, and iterates over
  its own share (as torch's ``DistributedSampler`` does). The shares only
  partition the rows if every process draws the same shuffling: the seeds
  of a fit are broadcast from the main process (:func:`shared_seeds`).
* **Device.** The net's ``device`` is None while the accelerator places the
  modules (``AccelerateMixin`` requires it); batches go to the
  accelerator's device.
* **A plain fitted model.** After training (:func:`release`) the net loses
  its accelerator and its wrapped optimizers and schedulers and becomes
  the estimator's ordinary net class again, with the accelerator's device
  as its ``device``: it pickles without the accelerator (skorch's
  ``AccelerateMixin`` nets do not pickle while wrapped, skorch issue #898),
  predicts like any other, and a later ``partial_fit`` or ``warm_start``
  fit with an accelerator prepares it again (:func:`prepare`).
"""

import torch
from skorch.callbacks import LRScheduler

from ._data import BatchIterator

_CLASSES = {}


def _accelerate_mixin():
    # skorch.hf imports accelerate lazily, but keep even that off the import
    # path of skae: this module is imported only for accelerated fits.
    from skorch.hf import AccelerateMixin

    class _AcceleratedNet(AccelerateMixin):
        """Mixed into a skae net class for the time of an accelerated fit."""

        def _initialize_accelerator(self):
            # DistributedDataParallel refuses a module without trainable
            # parameters, such as skae's criterion (LossTerms only sums the
            # model's loss terms): the accelerator prepares only the others.
            names = self._modules, self._criteria
            self._modules, self._criteria = (
                [n for n in group if _trainable(getattr(self, n + "_"))] for group in names
            )
            try:
                return super()._initialize_accelerator()
            finally:
                self._modules, self._criteria = names

        def get_iterator(self, dataset, training=False):
            iterator = super().get_iterator(dataset, training=training)
            if isinstance(iterator, BatchIterator):
                iterator.device = self.accelerator.device
                if training:
                    iterator.num_replicas = self.accelerator.num_processes
                    iterator.rank = self.accelerator.process_index
            return iterator

    return _AcceleratedNet


def _trainable(component):
    parameters = getattr(component, "parameters", None)
    return parameters is not None and any(p.requires_grad for p in parameters())


def accelerated_class(net_class):
    """The ``AccelerateMixin`` subclass of ``net_class`` (made once)."""
    if net_class not in _CLASSES:
        mixin = _accelerate_mixin()
        cls = type(f"Accelerated{net_class.__name__.lstrip('_')}", (mixin, net_class), {})
        cls._plain_class = net_class
        _CLASSES[net_class] = cls
    return _CLASSES[net_class]


def prepare(net, accelerator):
    """Make the initialised plain ``net`` an accelerated one (in place)."""
    net.__class__ = accelerated_class(type(net))
    net.accelerator = accelerator
    net.device = None
    net.unwrap_after_train = True
    net._wrapped_with_accelerator = False
    net._initialize_accelerator()
    return net


def release(net):
    """Make the trained accelerated ``net`` a plain one (in place)."""
    from accelerate.optimizer import AcceleratedOptimizer
    from accelerate.scheduler import AcceleratedScheduler

    accelerator = net.accelerator
    net._unwrap_accelerator()
    for name in net._optimizers:
        optimizer = getattr(net, name + "_")
        if isinstance(optimizer, AcceleratedOptimizer):
            setattr(net, name + "_", optimizer.optimizer)
    for _, callback in net.callbacks_:
        policy = getattr(callback, "policy_", None)
        if isinstance(callback, LRScheduler) and isinstance(policy, AcceleratedScheduler):
            callback.policy_ = policy.scheduler
    # accelerate marks what it prepared, and would not prepare (wrap for
    # data parallelism) a marked module again in a later accelerated fit.
    for name in net._modules + net._criteria + net._optimizers:
        for component in (getattr(net, name + "_"), getattr(net, name, None)):
            if isinstance(component, (torch.nn.Module, torch.optim.Optimizer)):
                vars(component).pop("_is_accelerate_prepared", None)
    net.__class__ = type(net)._plain_class
    for key in ("accelerator", "unwrap_after_train", "_wrapped_with_accelerator"):
        vars(net).pop(key, None)
    device = torch.device(accelerator.device)
    # Several CPU processes get "cpu:<rank>", which torch cannot load to.
    net.device = "cpu" if device.type == "cpu" else str(device)
    # The accelerator keeps references to what it prepared; this fit's are
    # no longer needed (accelerate's advice between two trainings).
    accelerator.free_memory()
    return net


def shared_seeds(seeds, accelerator):
    """``seeds`` of the main process, in every process of the run."""
    if accelerator.num_processes == 1:
        return seeds
    from accelerate.utils import broadcast_object_list

    return broadcast_object_list([list(seeds)])[0]
