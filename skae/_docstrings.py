"""Docstring fragments shared by the estimators' parameter lists.

An estimator's docstring holds a token such as ``%(architecture)s`` on a
line of its own; :func:`fill_doc` replaces it by the fragment, indented as
the token is.
"""

import textwrap

_FRAGMENTS = {
    "validation_fraction": """\
validation_fraction : float or None, default=None
    Fraction of the training data held out (drawn with ``random_state``)
    to record a validation loss, ``valid_loss`` in ``history_``, for early
    stopping and for skorch callbacks that monitor it (``LRScheduler`` with
    ``ReduceLROnPlateau``, ``Checkpoint``). None means 0.1 with
    ``early_stopping`` and no validation split without it. Data too few for
    a split are trained on whole, with a warning.""",
    "optimizer_params": """\
optimizer_params : dict or None, default=None
    Further keyword arguments of the optimiser, e.g. ``{"momentum": 0.9}``
    for SGD or ``{"betas": (0.9, 0.99)}`` for Adam.""",
    "architecture": """\
architecture : skae.MLP, skae.architectures.Architecture or None, default=None
    The networks, as a spec that builds them once the data's shape is
    known (see :mod:`skae.architectures`). None means
    ``skae.MLP()``, the fully connected encoder and mirrored decoder whose
    widths and activation are this estimator's ``hidden_layer_sizes`` and
    ``activation``; a spec's own values take precedence over those two
    parameters, which it otherwise inherits.""",
    "warm_start": """\
warm_start : bool, default=False
    When True, :meth:`fit` starts from the weights (and standardisation) of
    the previous fit instead of new random ones, with a new optimizer and
    history, as scikit-learn's ``MLPClassifier`` does.""",
    "stream_data": """\
stream_data : bool or "auto", default="auto"
    Where the training data live during a fit. False puts them on the
    ``device`` as one float32 tensor (on the CPU a float32 array is used
    as it is, without a copy); True leaves them in host memory (NumPy
    arrays, read-only memmaps) and moves each batch to the device on its
    own. ``"auto"`` streams only when the data would take more than half
    of the device's free memory.""",
    "device": """\
device : str or torch.device, default="cpu"
    Where the network trains and predicts (``"cpu"``, ``"cuda"``,
    ``"cuda:1"``, ``"mps"``, or ``"auto"``: CUDA if available, then MPS,
    then the CPU). Outputs are NumPy arrays on any device, and a model
    fitted on a GPU loads and predicts on a machine without one.
    Prediction moves the data batch by batch; training keeps them on the
    device when they fit there (see ``stream_data``).""",
    "accelerator": """\
accelerator : accelerate.Accelerator or None, default=None
    Train through Hugging Face accelerate (skorch's ``AccelerateMixin``,
    the ``accelerate`` extra): data-parallel on several GPUs in a script
    started by ``accelerate launch``, mixed precision or gradient
    accumulation, as the ``Accelerator`` is configured. Every process
    holds the whole ``X`` and trains on its own share of each epoch's
    batches (so a step sees ``batch_size`` rows per process), with the
    seeds of the main process. The accelerator places the model and the
    batches (``device`` is then ignored). The fitted model holds no
    accelerator: it pickles and predicts as any other, on the
    accelerator's device (on the CPU once loaded on a machine without a
    GPU). None trains in this process, on ``device``.""",
}


def fill_doc(cls):
    """Class decorator: replace each ``%(name)s`` line of the docstring."""
    doc = cls.__doc__
    for key, text in _FRAGMENTS.items():
        token = f"%({key})s"
        while token in doc:
            start = doc.index(token)
            line_start = doc.rfind("\n", 0, start) + 1
            indent = doc[line_start:start]
            doc = doc[:line_start] + textwrap.indent(text, indent) + doc[start + len(token):]
    cls.__doc__ = doc
    return cls
