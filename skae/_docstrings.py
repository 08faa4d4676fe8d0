"""Docstring fragments shared by the estimators' parameter lists.

An estimator's docstring holds a token such as ``%(architecture)s`` on a
line of its own; :func:`fill_doc` replaces it by the fragment, indented as
the token is.
"""

import textwrap

_FRAGMENTS = {
    # The training parameters of the variational autoencoders.
    "vae_training": """\
max_epochs : int, default=200
    Maximum number of passes over the training data.
batch_size : int, default=128
    Samples per gradient step.
lr : float, default=1e-3
    Learning rate.
optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
        default="adam"
    The optimiser.
weight_decay : float, default=0.0
    L2 penalty passed to the optimiser.
%(optimizer_params)s
early_stopping : bool, default=True
    Hold out ``validation_fraction`` of the training data (drawn with
    ``random_state``), stop when its loss (the negative ELBO) has not
    improved by a relative ``tol`` for ``n_iter_no_change`` epochs, and
    restore the weights of the best epoch. Skipped, with a warning, when
    the data are too few for a split.
%(validation_fraction)s
n_iter_no_change : int, default=10
    Patience of early stopping, in epochs.
tol : float, default=1e-4
    Minimum relative improvement of the validation loss.
%(warm_start)s
%(stream_data)s
callbacks : list of skorch callbacks, default=None
    Extra skorch callbacks, or ``(name, callback)`` tuples. They are
    copied at each fit.
%(device)s
%(accelerator)s
random_state : int, RandomState instance or None, default=None
    Seeds the initial weights, the validation split, the shuffling, the
    draws of ``z`` during training and the draws used by
    :meth:`score_samples`. The same value gives identical results on CPU.
verbose : int, default=0
    1 prints skorch's per-epoch table.""",
    # The parameters of the variational autoencoders' likelihood, KL weight
    # and draws (VAETransformer, ConditionalVAE).
    "vae_parameters": """\
likelihood : {"gaussian", "bernoulli"}, default="gaussian"
    The decoder's distribution ``p(x|z)``. ``"bernoulli"`` is for data in
    [0, 1] (binary, or grey levels): the decoder outputs logits and the
    reconstruction term is minus the cross-entropy. ``"gaussian"`` is for
    real-valued data: the decoder outputs means, with variance
    ``decoder_variance``.
decoder_variance : float or "learned", default=1.0
    Variance of the Gaussian likelihood, in the units the network sees
    (the standardised units when ``standardize`` is on): a fixed value,
    or ``"learned"`` for one variance per feature trained with the
    network. Smaller values weigh reconstruction more against the KL
    term. Unused for ``likelihood="bernoulli"``.
beta : float, default=1.0
    Weight of the KL term in the training loss. 1 is the VAE; other
    values give a beta-VAE (larger: smoother, more disentangled codes,
    blurrier reconstructions). Reported ELBOs always use weight 1, so
    that they bound ``log p(x)``.
n_latent_samples : int, default=1
    Draws of ``z`` per sample and training step for the reconstruction
    term.
n_importance_samples : int, default=100
    Draws ``K`` of ``z`` per sample in :meth:`score_samples`,
    :meth:`score` and :meth:`elbo_terms`. ``K = 1`` gives the ELBO;
    larger values tighten the estimate towards ``log p(x)`` at a cost
    linear in ``K`` (100 decoder passes per sample by default).
standardize : bool or "auto", default="auto"
    Standardise each feature (zero mean, unit variance, computed on the
    training data) before the network sees it. ``"auto"`` means True for
    the Gaussian likelihood and False for the Bernoulli one (whose data
    must stay in [0, 1]). Scores are densities of the original data
    either way.""",
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
