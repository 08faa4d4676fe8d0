"""Classifier and regressor on the encoder of an autoencoder trained on all the data.

An autoencoder is pretrained on every row (labelled or not), its encoder
gets a prediction head and the whole network is fine-tuned on the labels,
keeping the reconstruction of every row as a second term. The classifier is
semi-supervised by scikit-learn's convention (``y == -1`` marks an
unlabelled row) and adds pseudo-labels propagated over the codes and the
virtual adversarial consistency of its predictions on every row.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_consistent_length, column_or_1d
from skorch.callbacks import Callback, Freezer, Unfreezer
from torch import nn

from ._base import _BaseAE
from ._data import ArrayDataset, device_tensor, fits_on_device
from ._docstrings import fill_doc
from .architectures import MLP
from .likelihoods import LOSSES
from .losses import RECONSTRUCTION_LOSSES
from .modules.supervised import SupervisedModel
from .noise import NOISES, Corruption
from .stacked import _check_stack_noise, greedy_layerwise
from .utils.validation import Interval, StrOptions

#: Share of each training epoch's rows that are labelled rows (repeated when
#: they are few): enough gradient from the labels at every step however few
#: they are, as in the labelled/unlabelled batches of semi-supervised methods.
_LABELLED_SHARE = 0.25

#: ``batch_size="auto"``: ``n_samples // 40`` rows, at least 32 and at most
#: 128 (about 40 gradient steps per epoch on small data sets, where a fixed
#: batch of 128 leaves the network under-trained after ``max_epochs``).
_AUTO_BATCH = (32, 128, 40)


class _SemiSupervisedSplit:
    """skorch's ``train_split`` of the supervised estimators.

    The validation rows (for early stopping) are a ``fraction`` of the
    *labelled* rows, stratified by class for a classifier as in
    ``MLPClassifier``; the unlabelled rows all stay in training. The
    labelled training rows are repeated so that they make about
    :data:`_LABELLED_SHARE` of an epoch. Holds only its parameters.

    Parameters
    ----------
    fraction : float or None
        Share of the labelled rows held out; None for no validation.
    seed : int
        Seed of the split.
    stratify : bool
        Stratify the split by label (classification).
    """

    def __init__(self, fraction, seed, stratify):
        self.fraction = fraction
        self.seed = seed
        self.stratify = stratify

    def __call__(self, dataset, y=None, **fit_params):
        # Imported here: importing skae starts no thread (benchmarks/memory.py
        # forks after the imports).
        from sklearn.model_selection import train_test_split

        labels = np.asarray(dataset.y)
        rows = np.arange(len(labels))
        labelled = rows[labels >= 0] if self.stratify else rows
        unlabelled = rows[labels < 0] if self.stratify else rows[:0]
        valid = None
        if self.fraction is not None and len(labelled) >= 2:
            n_valid = max(1, int(math.floor(self.fraction * len(labelled))))
            try:
                labelled, valid = train_test_split(
                    labelled, test_size=n_valid, random_state=self.seed,
                    stratify=labels[labelled] if self.stratify else None,
                )
            except ValueError:  # a class too small to stratify
                labelled, valid = train_test_split(
                    labelled, test_size=n_valid, random_state=self.seed
                )
        repeats = max(1, math.ceil(
            _LABELLED_SHARE * len(unlabelled) / ((1 - _LABELLED_SHARE) * len(labelled))
        ))
        train = np.sort(np.concatenate([unlabelled, np.repeat(labelled, repeats)]))
        return dataset.subset(train), None if valid is None else dataset.subset(np.sort(valid))


class _CorruptInputs:
    """The denoising corruption of the ``"X"`` entry of a batch of keyword
    arguments; the clean rows become the reconstruction target."""

    def __init__(self, corruption):
        self.corruption = corruption

    def __call__(self, batch):
        X = batch["X"]
        generator = self.corruption.generator.get(X.device)
        return {**batch, "X": self.corruption.corrupt(X, generator), "target": X}


def _assign(array, values):
    """Write ``values`` (a NumPy array) into a training array in place."""
    if isinstance(array, torch.Tensor):
        array.copy_(torch.as_tensor(values, dtype=array.dtype))
    else:
        array[...] = values


class _PseudoLabels(Callback):
    """Pseudo-labels of the unlabelled rows, propagated over the codes.

    Every ``interval`` epochs (from the first), the codes of all training
    rows are computed with the current encoder and scikit-learn's
    :class:`~sklearn.semi_supervised.LabelSpreading` (k-nearest-neighbour
    graph) propagates the labels of the labelled training rows over them;
    each unlabelled row gets the most probable class and a weight ``1 -
    H / log(n_classes)`` (``H`` the entropy of its propagated
    distribution), as in label propagation for deep semi-supervised learning
    (Iscen et al., CVPR 2019). They are written into the training arrays,
    which hold them between propagations; the callback holds no data.

    Parameters
    ----------
    interval : int
        Epochs between propagations.
    n_neighbors : int
        Neighbours of the graph.
    n_classes : int
        Number of classes.
    """

    def __init__(self, interval, n_neighbors, n_classes):
        self.interval = interval
        self.n_neighbors = n_neighbors
        self.n_classes = n_classes

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        epoch = len(net.history)  # the epoch starting, from 1
        if (epoch - 1) % self.interval or dataset_train is None:
            return
        from sklearn.semi_supervised import LabelSpreading

        arrays = dataset_train.X
        labels = np.array(torch.as_tensor(arrays["y"]).cpu().numpy(), copy=True)
        if dataset_valid is not None:
            labels[dataset_valid.indices] = -1  # validation labels stay unseen
        module = net.module_
        was_training = module.training
        module.eval()
        with torch.no_grad():
            X = arrays["X"]
            codes = np.concatenate([
                module.encode(torch.as_tensor(np.asarray(X[s : s + 4096]) if not isinstance(
                    X, torch.Tensor) else X[s : s + 4096], dtype=torch.float32,
                    device=net.device)).cpu().numpy()
                for s in range(0, len(X), 4096)
            ])
        module.train(was_training)
        # Cosine neighbours: the graph is built on codes of unit length.
        codes /= np.maximum(np.linalg.norm(codes, axis=1, keepdims=True), 1e-12)
        # alpha=0.99 lets labels travel far along the graph, as in Zhou et
        # al. (2004) and Iscen et al. (scikit-learn's default, 0.2, keeps
        # them near the labelled rows: 0.837 against 0.864 on MNIST, 100
        # labels, one draw of the benchmark).
        spreading = LabelSpreading(
            kernel="knn", n_neighbors=min(self.n_neighbors, len(codes) - 1), alpha=0.99,
            max_iter=100,
        )
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            spreading.fit(codes, labels)
        distributions = np.nan_to_num(spreading.label_distributions_, nan=0.0)
        found = distributions.sum(axis=1) > 0
        distributions[found] /= distributions[found].sum(axis=1, keepdims=True)
        entropy = -np.sum(distributions * np.log(np.clip(distributions, 1e-12, None)), axis=1)
        weight = np.where(found, 1.0 - entropy / np.log(max(self.n_classes, 2)), 0.0)
        pseudo = spreading.classes_[distributions.argmax(axis=1)]
        _assign(arrays["pseudo_label"], pseudo.astype(np.int64))
        _assign(arrays["pseudo_weight"], np.clip(weight, 0.0, 1.0).astype(np.float32))


class _SupervisedAE(_BaseAE):
    """Shared base of the supervised autoencoders. Not for direct use."""

    _parameter_constraints = {
        **_BaseAE._parameter_constraints,
        "loss": [StrOptions(set(RECONSTRUCTION_LOSSES) | {"auto"})],
        "pretraining": [StrOptions({"joint", "stacked"}), None],
        "pretraining_epochs": [Interval(Integral, 1, None, closed="left")],
        "noise": [StrOptions(set(NOISES)), None],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "freeze_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    }

    _task = None
    _supervised_weight = "supervised"

    # ------------------------------------------------------------------
    # The reconstruction loss "auto" and the likelihood
    # ------------------------------------------------------------------
    def get_likelihood(self):
        """The observation model of the reconstruction term.

        Returns
        -------
        likelihood : skae.likelihoods.Likelihood
            Its loss, output activation, default scaling and range check.
        """
        return LOSSES[getattr(self, "loss_", None) or self._resolve_loss(None)]

    def _resolve_loss(self, X):
        if self.loss != "auto":
            return self.loss
        if X is None:
            return "mse"
        # Data in [0, 1] (pixels, proportions, binary features) are rebuilt
        # by cross-entropy on their own scale: per-feature standardisation
        # blows up nearly constant pixels (issue 17's probe: 0.79 against
        # 0.92 label-spreading accuracy on MNIST codes).
        return "bce" if X.size and X.min() >= 0 and X.max() <= 1 else "mse"

    def _check_input(self, X):
        _check_stack_noise(self.noise, self.noise_level, type(self).__name__)
        if self.pretraining == "stacked" and not (
            self.architecture is None or isinstance(self.architecture, MLP)
        ):
            raise ValueError(
                f"{type(self).__name__}: pretraining='stacked' trains fully connected "
                "layers one at a time and needs architecture=None or skae.MLP; use "
                "pretraining='joint' with other architectures."
            )
        self.loss_ = self._resolve_loss(X)
        super()._check_input(X)

    # ------------------------------------------------------------------
    # Hooks of the core
    # ------------------------------------------------------------------
    def _n_outputs(self):
        raise NotImplementedError

    def _target_stats(self):
        return {}

    def _model_options(self):
        return {}

    def _build_module(self, n_features, scaler, seed):
        spec = self._architecture()
        return SupervisedModel(
            spec.encoder(n_features, self.n_components),
            spec.decoder(self.n_components, n_features),
            nn.Linear(self.n_components, self._n_outputs()),
            self.get_likelihood(),
            scaler,
            task=self._task,
            **self._target_stats(),
            **self._model_options(),
            seed=seed,
        )

    def _batch_size(self, n_samples):
        """``batch_size`` with "auto" resolved for ``n_samples`` rows."""
        if self.batch_size != "auto":
            return self.batch_size
        return int(min(_AUTO_BATCH[1], max(_AUTO_BATCH[0], n_samples // _AUTO_BATCH[2])))

    def _make_net(self, module, n_samples, *args, **kwargs):
        net = super()._make_net(module, n_samples, *args, **kwargs)
        # skorch reads batch_size when it iterates, not when it initialises.
        net.batch_size = self._batch_size(n_samples)
        return net

    def _pretraining_params(self, device, n_samples):
        return {
            "batch_size": self._batch_size(n_samples),
            "lr": self.lr,
            "optimizer": self.optimizer,
            "weight_decay": self.weight_decay,
            "optimizer_params": self.optimizer_params,
            # The pretraining always stops on held-out reconstruction: it
            # has every row, unlike the fine-tuning's few labels.
            "early_stopping": True,
            "n_iter_no_change": self.n_iter_no_change,
            "tol": self.tol,
            "stream_data": self.stream_data,
            "device": device,
        }

    def _pretrain(self, module, X, y, seed, device):
        if self.pretraining is None:
            return {"pretraining_history_": None}
        params = self._pretraining_params(device, len(X))
        if self.pretraining == "stacked":
            histories = greedy_layerwise(
                module.encoder, module.decoder, X,
                activation=self._architecture().activation, loss=self.loss_,
                standardize=self.standardize, noise=self.noise, noise_level=self.noise_level,
                max_epochs=self.pretraining_epochs, params=params, random_state=seed,
            )
            return {"pretraining_history_": histories}
        from .denoising import DenoisingAE

        autoencoder = DenoisingAE(
            n_components=self.n_components,
            hidden_layer_sizes=self.hidden_layer_sizes,
            activation=self.activation,
            architecture=self.architecture,
            noise="gaussian" if self.noise is None else self.noise,
            noise_level=0.0 if self.noise is None else self.noise_level,
            loss=self.loss_,
            standardize=self.standardize,
            max_epochs=self.pretraining_epochs,
            random_state=seed,
            **params,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            autoencoder.fit(X)
        trained = autoencoder.net_.module_
        module.encoder.load_state_dict(trained.encoder.state_dict())
        module.decoder.load_state_dict(trained.decoder.state_dict())
        return {"pretraining_history_": [autoencoder.history_]}

    def _train_split(self, fraction, seed):
        return _SemiSupervisedSplit(fraction, seed, stratify=self._task == "classification")

    def _train_transform(self, attributes, scaler, seed):
        if self.noise is None:
            return None
        mean, scale = attributes["mean_"], attributes["scale_"]
        low, high = attributes["data_min_"], attributes["data_max_"]
        if mean is not None:
            low, high = (low - mean) / scale, (high - mean) / scale
        return _CorruptInputs(Corruption(
            self.noise, self.noise_level, 1, mean, scale, low, high, seed,
            type(self).__name__,
        ))

    def _data_attributes(self, X):
        return {
            **super()._data_attributes(X),
            "data_min_": X.min(axis=0),
            "data_max_": X.max(axis=0),
        }

    def _criterion_weights(self):
        return {"reconstruction": self.reconstruction_weight}

    def _callbacks(self):
        callbacks = super()._callbacks()
        if self.freeze_epochs:
            # The head alone first, on a fixed pretrained encoder: skorch's
            # Freezer at the first epoch, Unfreezer after freeze_epochs.
            callbacks = [
                ("freeze_encoder", Freezer("encoder.*", at=1)),
                ("unfreeze_encoder", Unfreezer("encoder.*", at=self.freeze_epochs + 1)),
                *callbacks,
            ]
        return callbacks

    def _extra_arrays(self, n, y):
        return {}

    def _dataset(self, X, y, device, extra=None):
        stream = self.stream_data
        if stream == "auto":
            stream = not fits_on_device(X, device)
        inputs = {"X": X if stream else device_tensor(X, device), "y": y,
                  **self._extra_arrays(len(X), y), **(extra or {})}
        if not stream:
            inputs = {k: v if k == "X" else torch.as_tensor(v).to(device)
                      for k, v in inputs.items()}
        # The targets twice: as an input of the model, which computes every
        # term, and as the dataset's y, which the validation split reads.
        return ArrayDataset(inputs, y)

    def _predict_raw(self, X):
        X = self._validate_X(X)
        return self._map_batches(lambda m, x: m.predict_raw(x), X)

    def _check_y_length(self, X, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        try:
            check_consistent_length(X, y)
        except ValueError:
            raise ValueError(
                f"{type(self).__name__}: y has {len(y)} rows but X has {len(X)}; "
                "give one target per row of X."
            ) from None

    def fit(self, X, y):
        """Pretrain on every row of ``X``, then fine-tune on the targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets (for the classifier, -1 marks an unlabelled row).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, incremental=False)

    def _no_partial_fit(self):
        return False

    # Pretraining needs all the data at once: no chunk-by-chunk training.
    partial_fit = available_if(_no_partial_fit)(_BaseAE.partial_fit)

    def score_samples(self, X):
        """Log-likelihood of each sample under the fine-tuned autoencoder.

        The reconstruction term's likelihood, as in
        :meth:`skae.AutoEncoderTransformer.score_samples`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return super().score_samples(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


_SHARED_PARAMETERS = """\
    n_components : int, default=50
        Width of the code on which the head sits.
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    activation : {"relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu"}, \
            default="relu"
        Hidden activation. The code layer is linear.
    %(architecture)s
        ``pretraining="stacked"`` needs a fully connected one.
    pretraining : {"joint", "stacked"} or None, default="joint"
        How the encoder is initialised before fine-tuning, on every row
        of ``X``: ``"joint"`` trains the whole (denoising) autoencoder at
        once; ``"stacked"`` trains it greedily one layer at a time, each
        layer an autoencoder of the codes below it
        (:class:`~skae.StackedAutoEncoder`); None starts from random
        weights (the baseline that shows what pretraining brings).
    pretraining_epochs : int, default=30
        Maximum number of epochs of the pretraining (of each layer for
        ``"stacked"``); it stops early on the reconstruction of held-out
        rows.
    noise : {"gaussian", "masking", "salt_and_pepper"} or None, default=None
        Corruption of the input during pretraining and fine-tuning (see
        :class:`~skae.DenoisingAE`); None for none.
    noise_level : float, default=0.2
        Its standard deviation, or the probability that a value is
        corrupted, in the units the network sees.
    loss : {"auto", "mse", "mae", "bce"}, default="auto"
        Reconstruction loss. ``"auto"`` takes cross-entropy (``"bce"``) when
        every value of ``X`` lies in [0, 1] (pixels, proportions, binary
        data), which keeps them unstandardised, and squared error with
        per-feature standardisation otherwise. The choice is ``loss_``.
    standardize : bool or "auto", default="auto"
        Standardise each feature before the network sees it; ``"auto"``
        means True for ``"mse"`` and ``"mae"``, False for ``"bce"``.
    reconstruction_weight : float, default=1.0
        Weight of the reconstruction term of every row during fine-tuning,
        which keeps the code a good autoencoder's; 0 fine-tunes on the
        targets alone.
    freeze_epochs : int, default=0
        Epochs at the start of fine-tuning during which the encoder is
        frozen (skorch's ``Freezer`` and ``Unfreezer``) and only the head
        (and decoder) learn."""

_TRAINING_PARAMETERS = """\
    max_epochs : int, default=50
        Maximum number of epochs of the fine-tuning; an epoch passes over
        the unlabelled rows once and over the labelled ones as often as
        needed for them to make a quarter of it.
    batch_size : int or "auto", default="auto"
        Samples per gradient step (pretraining and fine-tuning). "auto"
        takes ``n_samples // 40``, at least 32 and at most 128: small data
        sets get about 40 steps per epoch.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
            default="adam"
        The optimiser.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimiser.
    %(optimizer_params)s
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the *labelled* rows (stratified
        by class for the classifier, as ``MLPClassifier`` does), stop the
        fine-tuning when their loss has not improved by a relative ``tol``
        for ``n_iter_no_change`` epochs, and keep the best weights. Off by
        default, as in ``MLPClassifier``: with few labels, holding some out
        costs more than it saves.
    validation_fraction : float or None, default=None
        Fraction of the labelled rows held out; None means 0.1 with
        ``early_stopping``.
    n_iter_no_change : int, default=10
        Patience of early stopping (fine-tuning and pretraining), in epochs.
    tol : float, default=1e-4
        Minimum relative improvement of the validation loss.
    %(warm_start)s
        The pretraining is then skipped: ``fit`` fine-tunes further.
    %(stream_data)s
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks of the fine-tuning (e.g. ``LRScheduler``).
    %(device)s
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the splits, the shuffling and the noise of both
        stages. The same value gives identical results on CPU.
    verbose : int, default=0
        1 prints skorch's per-epoch table of the fine-tuning."""

_SHARED_ATTRIBUTES = """\
    loss_ : str
        The reconstruction loss used (``loss`` with ``"auto"`` resolved).
    pretraining_history_ : list of skorch.History or None
        Training record of the pretraining: one history for ``"joint"``,
        one per layer for ``"stacked"``; None without pretraining.
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the ``nn.Module``
        (:class:`skae.modules.supervised.SupervisedModel`).
    history_ : skorch.History
        Per-epoch record of the fine-tuning.
    n_epochs_ : int
        Number of fine-tuning epochs run.
    n_components_ : int
        Dimension of the code.
    noise_scale_ : float or None
        Noise scale of the reconstruction likelihood (see
        :class:`~skae.AutoEncoderTransformer`).
    mean_ : ndarray of shape (n_features_in_,) or None
        Per-feature mean used for standardisation (None when off).
    scale_ : ndarray of shape (n_features_in_,) or None
        Per-feature standard deviation used for standardisation.
    data_min_, data_max_ : ndarray of shape (n_features_in_,)
        Per-feature extremes of the training data (salt-and-pepper noise).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column
        names."""


def _fill(cls):
    cls.__doc__ = (
        cls.__doc__.replace("%(shared_parameters)s", _SHARED_PARAMETERS)
        .replace("%(training_parameters)s", _TRAINING_PARAMETERS)
        .replace("%(shared_attributes)s", _SHARED_ATTRIBUTES)
    )
    return fill_doc(cls)


@_fill
class AutoEncoderClassifier(ClassifierMixin, _SupervisedAE):
    """Classifier on the encoder of an autoencoder trained on all the data.

    Made for data with few labels and many unlabelled rows. The
    autoencoder is first trained on every row of ``X`` (``pretraining``:
    all layers at once, or greedily layer by layer); its decoder stays, and
    a softmax head on the code makes the classifier. The whole network is
    then fine-tuned on four terms:

    - the cross-entropy of the labelled rows;
    - ``reconstruction_weight`` times the reconstruction error of every
      row, which keeps the code an autoencoder's;
    - the cross-entropy of the unlabelled rows against pseudo-labels
      propagated over the current codes (cosine neighbours) by
      scikit-learn's :class:`~sklearn.semi_supervised.LabelSpreading` every
      ``propagation_interval`` epochs, each weighted by its certainty
      [1]_ (``pseudo_labels=True``);
    - ``consistency_weight`` times the virtual adversarial consistency of
      every row [4]_: the KL divergence between the predicted class
      probabilities of the row and of the row moved by a small
      perturbation in the direction that changes them most. It makes the
      classifier smooth along the data, where the unlabelled rows are, and
      keeps the propagation from feeding its own mistakes back.

    Semi-supervised by scikit-learn's convention: rows with ``y == -1`` are
    unlabelled; they train the autoencoder and receive pseudo-labels, and
    are never a class. :meth:`transform` gives the fine-tuned codes, so the
    estimator is also a feature extractor in a Pipeline.

    Parameters
    ----------
%(shared_parameters)s
    pseudo_labels : bool, default=True
        Add the pseudo-label term of the unlabelled rows.
    propagation_interval : int, default=5
        Epochs between two propagations of the labels over the codes.
    n_neighbors : int, default=10
        Neighbours of the k-nearest-neighbour graph of the propagation.
    consistency_weight : float, default=1.0
        Weight of the virtual adversarial consistency term; 0 for none.
    perturbation : float, default=0.2
        Length of its perturbation, relative to the root mean square length
        of a batch's rows as the network sees them (the network's input
        units: unstandardised pixels for ``loss_="bce"``); 0.2 is the
        paper's 2.0 on MNIST pixels.
%(training_parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (the labels of ``y`` other than -1).
%(shared_attributes)s

    See Also
    --------
    sklearn.semi_supervised.LabelSpreading : Label propagation over a
        neighbour graph of the data, without a network.
    sklearn.semi_supervised.SelfTrainingClassifier : Pseudo-labels for any
        classifier.
    sklearn.neural_network.MLPClassifier : The same kind of network,
        trained on the labelled rows only.
    StackedAutoEncoder : The greedy pretraining on its own.

    Notes
    -----
    Pretraining pays when labels are few and unlabelled rows many; with
    plenty of labels a network trained on them alone catches up. See the
    user guide for when to prefer ``LabelSpreading``.

    References
    ----------
    .. [1] A. Iscen, G. Tolias, Y. Avrithis and O. Chum, "Label propagation
       for deep semi-supervised learning", CVPR 2019.
    .. [2] P. Vincent, H. Larochelle, I. Lajoie, Y. Bengio and P.-A.
       Manzagol, "Stacked denoising autoencoders", JMLR 11, 2010.
    .. [3] D. Erhan, Y. Bengio, A. Courville, P.-A. Manzagol, P. Vincent and
       S. Bengio, "Why does unsupervised pre-training help deep learning?",
       JMLR 11, 2010.
    .. [4] T. Miyato, S. Maeda, M. Koyama and S. Ishii, "Virtual adversarial
       training: a regularization method for supervised and semi-supervised
       learning", IEEE TPAMI 41(8), 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoderClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> y_few = np.where(np.arange(len(y)) % 10 == 0, y, -1)  # 10 %% labelled
    >>> clf = AutoEncoderClassifier(n_components=16, hidden_layer_sizes=(64,),
    ...                             pretraining_epochs=2, max_epochs=2, random_state=0)
    >>> clf.fit(X / 16, y_few).classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> clf.predict_proba(X[:3] / 16).shape
    (3, 10)
    """

    _parameter_constraints = {
        **_SupervisedAE._parameter_constraints,
        "pseudo_labels": ["boolean"],
        "propagation_interval": [Interval(Integral, 1, None, closed="left")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "consistency_weight": [Interval(Real, 0, None, closed="left")],
        "perturbation": [Interval(Real, 0, None, closed="neither")],
    }
    _task = "classification"

    def __init__(
        self,
        n_components=50,
        *,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        architecture=None,
        pretraining="joint",
        pretraining_epochs=30,
        noise=None,
        noise_level=0.2,
        loss="auto",
        standardize="auto",
        reconstruction_weight=1.0,
        freeze_epochs=0,
        pseudo_labels=True,
        propagation_interval=5,
        n_neighbors=10,
        consistency_weight=1.0,
        perturbation=0.2,
        max_epochs=50,
        batch_size="auto",
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        optimizer_params=None,
        early_stopping=False,
        validation_fraction=None,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        stream_data="auto",
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.architecture = architecture
        self.pretraining = pretraining
        self.pretraining_epochs = pretraining_epochs
        self.noise = noise
        self.noise_level = noise_level
        self.loss = loss
        self.standardize = standardize
        self.reconstruction_weight = reconstruction_weight
        self.freeze_epochs = freeze_epochs
        self.pseudo_labels = pseudo_labels
        self.propagation_interval = propagation_interval
        self.n_neighbors = n_neighbors
        self.consistency_weight = consistency_weight
        self.perturbation = perturbation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.optimizer_params = optimizer_params
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.stream_data = stream_data
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _validate_y(self, X, y, reset):
        name = type(self).__name__
        self._check_y_length(X, y)
        y = column_or_1d(y, warn=True)
        if y.dtype.kind in "OUS":
            unlabelled = np.array([v == -1 or v == "-1" for v in y.tolist()])
            if unlabelled.any():
                raise ValueError(
                    f"{name}: y mixes string labels with -1 (the mark of an unlabelled "
                    "row); -1 marks unlabelled rows only among integer labels. Encode "
                    "the classes as integers (e.g. sklearn.preprocessing.LabelEncoder) "
                    "and set y = -1 on the unlabelled rows."
                )
        else:
            unlabelled = y == -1
        labelled = y[~unlabelled]
        if len(labelled) == 0:
            raise ValueError(
                f"{name}: every row of y is -1 (unlabelled); at least two classes "
                "need labelled rows. To train on unlabelled data only, use an "
                "autoencoder transformer such as skae.DenoisingAE."
            )
        check_classification_targets(labelled)
        classes = np.unique(labelled)
        if reset:
            if len(classes) < 2:
                raise ValueError(
                    f"{name} needs samples of at least 2 classes in the labelled rows "
                    f"of y, got one class only ({classes[0]!r})."
                )
            self.classes_ = classes
        elif not np.isin(classes, self.classes_).all():
            raise ValueError(
                f"{name}: y has classes {sorted(set(classes) - set(self.classes_))} "
                f"not seen in the first fit (classes_={self.classes_.tolist()})."
            )
        codes = np.full(len(y), -1, dtype=np.int64)
        codes[~unlabelled] = np.searchsorted(self.classes_, labelled)
        return codes

    def _n_outputs(self):
        return len(self.classes_)

    def _model_options(self):
        return {"perturbation": self.perturbation if self.consistency_weight > 0 else 0.0}

    def _criterion_weights(self):
        return {**super()._criterion_weights(), "consistency": self.consistency_weight}

    def _extra_arrays(self, n, y):
        if not self.pseudo_labels:
            return {}
        return {"pseudo_label": np.zeros(n, dtype=np.int64),
                "pseudo_weight": np.zeros(n, dtype=np.float32)}

    def _callbacks(self):
        callbacks = super()._callbacks()
        if self.pseudo_labels:
            callbacks.append((
                "pseudo_labels",
                _PseudoLabels(self.propagation_interval, self.n_neighbors, len(self.classes_)),
            ))
        return callbacks

    def predict_proba(self, X):
        """Class probabilities of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            In the order of ``classes_``.
        """
        logits = self._predict_raw(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        logits = self._predict_raw(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits = self._predict_raw(X)
        return self.classes_[logits.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


@_fill
class AutoEncoderRegressor(RegressorMixin, _SupervisedAE):
    """Regressor on the encoder of an autoencoder trained on all of ``X``.

    The autoencoder is first trained on ``X`` (``pretraining``: all
    layers at once, or greedily layer by layer); a linear head on its code
    makes the regressor, and the whole network is fine-tuned on the squared
    error of the (internally standardised) targets plus
    ``reconstruction_weight`` times the reconstruction error, which keeps
    the code an autoencoder's. :meth:`transform` gives the fine-tuned codes.

    Every row needs a finite target (a NaN is refused, not read as
    "unlabelled"); to use unlabelled rows, put them in a pretrained
    :class:`~skae.StackedAutoEncoder` or autoencoder transformer in front of
    any regressor.

    Parameters
    ----------
%(shared_parameters)s
%(training_parameters)s

    Attributes
    ----------
    n_outputs_ : int
        Number of targets.
    y_mean_, y_scale_ : ndarray of shape (n_outputs_,)
        Standardisation of the targets inside the network.
%(shared_attributes)s

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The same kind of network,
        trained from random weights.
    AutoEncoderClassifier : The classifier, with unlabelled rows.

    References
    ----------
    .. [1] D. Erhan, Y. Bengio, A. Courville, P.-A. Manzagol, P. Vincent and
       S. Bengio, "Why does unsupervised pre-training help deep learning?",
       JMLR 11, 2010.
    .. [2] P. Vincent, H. Larochelle, I. Lajoie, Y. Bengio and P.-A.
       Manzagol, "Stacked denoising autoencoders", JMLR 11, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoEncoderRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 6))
    >>> y = X[:, 0] - 2 * X[:, 1]
    >>> reg = AutoEncoderRegressor(n_components=4, hidden_layer_sizes=(16,),
    ...                            pretraining_epochs=2, max_epochs=2, random_state=0)
    >>> reg.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _task = "regression"

    def __init__(
        self,
        n_components=50,
        *,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        architecture=None,
        pretraining="joint",
        pretraining_epochs=30,
        noise=None,
        noise_level=0.2,
        loss="auto",
        standardize="auto",
        reconstruction_weight=1.0,
        freeze_epochs=0,
        max_epochs=50,
        batch_size="auto",
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        optimizer_params=None,
        early_stopping=False,
        validation_fraction=None,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        stream_data="auto",
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.architecture = architecture
        self.pretraining = pretraining
        self.pretraining_epochs = pretraining_epochs
        self.noise = noise
        self.noise_level = noise_level
        self.loss = loss
        self.standardize = standardize
        self.reconstruction_weight = reconstruction_weight
        self.freeze_epochs = freeze_epochs
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.optimizer_params = optimizer_params
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.stream_data = stream_data
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _validate_y(self, X, y, reset):
        name = type(self).__name__
        self._check_y_length(X, y)
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{name}: y must be numeric regression targets, got dtype {y.dtype}."
                ) from None
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim not in (1, 2):
            raise ValueError(f"{name}: y must be 1-D or 2-D, got shape {y.shape}.")
        if not np.all(np.isfinite(y)):
            raise ValueError(
                f"{name}: y contains NaN or infinite values at rows "
                f"{np.flatnonzero(~np.isfinite(y.reshape(len(y), -1)).all(axis=1))[:5].tolist()}"
                "...; every row needs a finite target (unlabelled rows are not "
                "supported by the regressor: drop them, or pretrain on them separately)."
            )
        Y = y.reshape(len(y), -1).astype(np.float32)
        if reset:
            scale = Y.std(axis=0)
            scale[scale < 1e-12] = 1.0
            self.y_mean_, self.y_scale_ = Y.mean(axis=0), scale
            self.n_outputs_ = Y.shape[1]
            self._y_ndim = y.ndim
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"{name}: y has {Y.shape[1]} targets, the fitted model {self.n_outputs_}."
            )
        return Y

    def _n_outputs(self):
        return self.n_outputs_

    def _target_stats(self):
        return {"target_center": self.y_mean_, "target_scale": self.y_scale_}

    def predict(self, X):
        """Predicted targets of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs_)
        """
        out = self._predict_raw(X)
        return out[:, 0] if self._y_ndim == 1 else out
