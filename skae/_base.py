"""The shared base of every skae autoencoder estimator: the training core.

:class:`_BaseAE` owns the scikit-learn contract (parameter validation, input
validation, fitted state, feature names, ``set_output``), reproducibility,
the ``device`` parameter and batched prediction, and trains its model
through a skorch :class:`~skae._net._AENet`. ``fit``, ``partial_fit`` and
``warm_start`` all go through :meth:`_BaseAE._fit`, as in scikit-learn's
``MLPClassifier._fit(X, y, incremental)``.

A fit flows one way: the estimator validates and builds; the net loops and
steps the optimizer; the model (an ``nn.Module``) does all the tensor
mathematics and returns its loss terms; the criterion sums them. A subclass
overrides small hooks, never the fit itself:

``_likelihood_param``, ``_likelihoods``
    Which parameter names the likelihood and the table of likelihood objects.
``_check_input(X)``
    Extra checks of the training data.
``_data_attributes(X)``
    Fitted attributes computed from the training data (a dict).
``_build_module(n_features, scaler, seed)``
    The model, built from the ``architecture`` spec.
``_criterion_weights()``
    Weights of the model's loss terms.
``_train_transform(attributes, scaler, seed)``
    A per-batch transform of the training data (the denoising corruption).
``_validate_y(X, y, reset)``
    The targets (None for the unsupervised estimators).
``_module_inputs(X, y, reset)``
    Extra per-sample inputs of the model besides ``X`` (a dict of arrays,
    empty by default: a condition for the conditional VAE); each batch then
    reaches the model's ``forward`` as keyword arguments ``X=..., name=...``.
``_net_class()``, ``_net_params()``
    The skorch net and extra arguments (a second module and optimizer).
``_pretrain(module, X, y, seed, device)``
    Train the new model before the main training run (layer-wise or
    autoencoder pretraining); returns fitted attributes.
``_learning_rate(n_samples)``
    The optimiser's learning rate for a fit on ``n_samples`` rows (``lr``
    by default; resolves an ``"auto"`` value).
``_train_split(fraction, seed)``
    skorch's ``train_split``: the validation split (None for none).
``_attributes_after_training(net)``
    Fitted attributes read from the trained model.
``_sample_scores(module, x)``
    The per-sample score of :meth:`score_samples`.
"""

import copy
import re
import sys
import threading
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch.callbacks import Callback, EarlyStopping

from . import _accelerate
from ._data import ArrayDataset, BatchIterator, ValidationSplit, device_tensor, fits_on_device
from ._net import _AENet, _CheckLoss, _TrimBatchHistory
from .architectures import MLP
from .likelihoods import LOSSES, standardization_stats
from .modules.criterion import LossTerms
from .modules.mlp import ACTIVATIONS
from .modules.models import ReconstructionModel
from .modules.scaling import Standardize
from .utils.validation import (
    HasMethods,
    Interval,
    StrOptions,
    check_device,
    flatten_images,
    validate_params,
)

# Serialises skae's own use of torch's global generator (weight initialisation).
_GLOBAL_RNG_LOCK = threading.RLock()

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# Rows per forward pass at prediction time: memory stays that of one batch,
# however many rows are transformed.
_PREDICT_BATCH_SIZE = 4096


def _silent(*args, **kwargs):
    """A sink that prints nothing (module level so that nets pickle)."""


_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


def _print_plain_unless_tty(text):
    """Print ``text``, without its ANSI colour codes unless stdout is a
    terminal (a log file gets plain text)."""
    isatty = getattr(sys.stdout, "isatty", None)
    if not (isatty and isatty()):
        text = _ANSI_CODE.sub("", text)
    print(text)


class _ErfGELU(torch.nn.Module):
    """``nn.GELU()``'s function ``x * Phi(x) = x (1 + erf(x / sqrt 2)) / 2``
    built on ``torch.erf``: the same values to float64 round-off, but
    vectorised in float64 on the CPU, where torch's exact ``gelu`` kernel
    is about 25 times slower than in float32."""

    def forward(self, x):
        return torch.erf(x * 0.7071067811865476).add_(1.0).mul_(x).mul_(0.5)


class _BaseAE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the skae autoencoders. Not for direct use.

    Subclasses define ``__init__`` with their full signature (scikit-learn
    reads the parameters from it) and override the hooks listed in the
    module docstring.
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "architecture": [HasMethods(["encoder", "decoder"]), None],
        "standardize": ["boolean", StrOptions({"auto"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), type],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "optimizer_params": [dict, None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "stream_data": ["boolean", StrOptions({"auto"})],
        "callbacks": [list, None],
        "device": [str, torch.device],
        "accelerator": [HasMethods(["prepare", "backward", "unwrap_model"]), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: The parameter that names the likelihood, and its table of objects.
    _likelihood_param = "loss"
    _likelihoods = LOSSES

    # ------------------------------------------------------------------
    # Hooks for subclasses
    # ------------------------------------------------------------------
    def get_likelihood(self):
        """The observation model that the current parameters select.

        Returns
        -------
        likelihood : skae.likelihoods.Likelihood
            Its loss, output activation, default scaling and range check.
        """
        return self._likelihoods[getattr(self, self._likelihood_param)]

    def _check_input(self, X):
        """Extra checks of the validated training data (raise ValueError)."""
        self._check_range(X)

    def _check_range(self, X):
        param = self._likelihood_param
        value = getattr(self, param)
        alternative = next(k for k, v in self._likelihoods.items() if not v.bounded)
        self.get_likelihood().check_range(
            X, type(self).__name__, f"{param}={value!r}", f"{param}={alternative!r}"
        )

    def _use_standardize(self):
        """Whether the model standardises its input (its first layer)."""
        likelihood = self.get_likelihood()
        if self.standardize == "auto":
            return likelihood.standardize
        if self.standardize and likelihood.bounded:
            param = self._likelihood_param
            value = getattr(self, param)
            raise ValueError(
                f"{type(self).__name__}: standardize=True moves data out of "
                f"[0, 1], which {param}={value!r} needs; use standardize='auto' or "
                f"False with {param}={value!r}."
            )
        return bool(self.standardize)

    def _data_attributes(self, X):
        """Fitted attributes computed from the training data: the
        standardisation (``mean_``, ``scale_``) and a subclass's own."""
        if not self._use_standardize():
            return {"mean_": None, "scale_": None}
        mean, scale = standardization_stats(X)
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scale))):
            raise ValueError(
                f"{type(self).__name__}: the per-feature mean or standard deviation "
                "of X is not finite (values too large to standardise); rescale X."
            )
        # Constant features keep their (zero) deviation instead of a
        # division by zero, as in StandardScaler.
        scale[scale < 10 * np.finfo(X.dtype).eps] = 1.0
        return {"mean_": mean.astype(X.dtype), "scale_": scale.astype(X.dtype)}

    def _architecture(self):
        """The ``architecture`` spec with the estimator's defaults filled in."""
        spec = MLP() if self.architecture is None else self.architecture
        return spec.resolve(
            type(self).__name__,
            hidden_layer_sizes=self.hidden_layer_sizes,
            activation=self.activation,
        )

    def _build_module(self, n_features, scaler, seed):
        """Return the untrained model for ``n_features`` inputs: by default
        the encoder and decoder of the architecture, trained on the
        reconstruction loss."""
        spec = self._architecture()
        return ReconstructionModel(
            spec.encoder(n_features, self.n_components),
            spec.decoder(self.n_components, n_features),
            self.get_likelihood(),
            scaler,
        )

    def _criterion_weights(self):
        """Weights of the model's loss terms, by name."""
        return {}

    def _train_transform(self, attributes, scaler, seed):
        """A per-batch transform of the training batches, or None."""
        return None

    def _validate_y(self, X, y, reset):
        """The targets of a fit; the unsupervised estimators ignore ``y``."""
        return None

    def _network_input(self, X, fit):
        """The rows the network reads, from the validated ``X``: ``X``
        itself, or its codes for a model that reads another estimator's
        (fitted on ``X`` first when ``fit``)."""
        return X

    def _module_inputs(self, X, y, reset):
        """Extra per-sample inputs of the model besides ``X``, by name (a
        dict of 2-D float arrays, empty for the unsupervised estimators)."""
        return {}

    def _pretrain(self, module, X, y, seed, device):
        """Train the newly built ``module`` before the main training run
        (e.g. layer-wise pretraining); return fitted attributes (a dict).
        Called by a fit that starts from new weights, not by ``warm_start``
        or the ``partial_fit`` calls after the first."""
        return {}

    def _learning_rate(self, n_samples):
        """The optimiser's learning rate for a fit on ``n_samples`` rows:
        ``lr`` by default (an estimator may resolve an ``"auto"`` value)."""
        return self.lr

    def _train_split(self, fraction, seed):
        """skorch's ``train_split``: hold out ``fraction`` of the rows, or
        None (no validation) when ``fraction`` is None."""
        return None if fraction is None else ValidationSplit(fraction, seed)

    def _net_class(self):
        return _AENet

    def _net_params(self):
        """Extra keyword arguments of the net (modules, optimizers...)."""
        return {}

    def _attributes_after_training(self, net, attributes):
        """Fitted attributes read from the trained model (a dict)."""
        return {}

    def _sample_scores(self, module, x):
        """Per-sample score, higher is better: the model's log-likelihood."""
        return module.score_samples(x)

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit the autoencoder to ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y=None):
        """Train for one epoch on ``X``, continuing from the current state.

        The first call initialises the network, and its standardisation
        from this first ``X``; every call then makes one pass over ``X``
        (without early stopping), so that data too large for memory can be
        fed chunk by chunk.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training data.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, incremental=True)

    def _fit(self, X, y, incremental):
        # A fit is atomic: on any exception (Ctrl-C included) the estimator
        # is left exactly as it was before the call.
        before = self.__dict__.copy()
        try:
            self._fit_and_set(X, y, incremental)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        return self

    def _fit_and_set(self, X, y, incremental):
        validate_params(self)
        name = type(self).__name__
        reuse = hasattr(self, "net_") and (incremental or self.warm_start)
        y_raw = y
        X = validate_data(
            self, flatten_images(X), dtype=[np.float64, np.float32], reset=not reuse
        )
        X = self._network_input(X, fit=not reuse)
        y = self._validate_y(X, y, reset=not reuse)
        extra = self._module_inputs(X, y_raw, reset=not reuse)
        # Estimators without an ``accelerator`` parameter train without one.
        accelerator = getattr(self, "accelerator", None)
        if accelerator is None:
            device = check_device(self.device, name)
        else:
            device = torch.device(accelerator.device)
        self._architecture()
        self._check_input(X)

        if incremental and reuse:
            # Continue the fitted net: same optimizer state, noise streams,
            # history. A copy, so that a failure leaves the estimator as it was.
            net = copy.deepcopy(self.net_)
            attributes = {}
        else:
            rng = check_random_state(self.random_state)
            seeds = [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=5)]
            if accelerator is not None:
                seeds = _accelerate.shared_seeds(seeds, accelerator)
            init_seed, shuffle_seed, split_seed, noise_seed, eval_seed = seeds
            if reuse:  # warm_start: a new training run of the fitted model
                module = copy.deepcopy(self.net_.module_)
                attributes = {}
                kept = {k: getattr(self, k) for k in ("mean_", "scale_")}
                scaler = module.scaler
            else:
                attributes = self._data_attributes(X)
                kept = attributes
                scaler = Standardize(attributes["mean_"], attributes["scale_"])
                # Weights are drawn from torch's global generator: fork it so
                # that the caller's global RNG state is left as it was, and
                # hold a lock so that fits in other threads (a search under
                # a threaded joblib or Dask backend) do not reseed it between
                # this fit's seeding and its draws.
                with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
                    torch.manual_seed(init_seed)
                    module = self._build_module(X.shape[1], scaler, noise_seed)
                attributes["_eval_seed"] = eval_seed
                attributes.update(self._pretrain(module, X, y, init_seed, device))
            transform = self._train_transform(
                {**self.__dict__, **kept, **attributes}, scaler, noise_seed
            )
            net = self._make_net(
                module, len(X), transform, shuffle_seed, split_seed,
                early_stopping=not incremental, device=device,
            )
        dataset = self._dataset(X, y, device, extra)
        if accelerator is not None:
            _accelerate.prepare(net, accelerator)
        try:
            if incremental:
                net.partial_fit(dataset, epochs=1)
            else:
                net.partial_fit(dataset)
        finally:
            if accelerator is not None:
                # Also after a failure: the accelerator lets go of this net.
                _accelerate.release(net)
        stopper = dict(net.callbacks_).get("early_stopping")
        if self.verbose and stopper is not None and len(net.history) < net.max_epochs:
            _print_plain_unless_tty(
                f"{name}: early stopping at epoch {len(net.history)}: the validation "
                f"loss has not improved by tol={self.tol} for {self.n_iter_no_change} "
                f"epochs; the weights of epoch {stopper.best_epoch_} are kept."
            )
        # The fitted net keeps no validation split and no early stopping
        # (whose state holds a copy of the weights): it continues training
        # on its own with net_.partial_fit, and pickles at the model's size.
        net.train_split = None
        net.callbacks_ = [(n, cb) for n, cb in net.callbacks_ if n != "early_stopping"]
        for name_ in net._modules:
            getattr(net, name_ + "_").eval()
        attributes.update(self._calibrate(net.module_, X, incremental and reuse))
        attributes.update(self._attributes_after_training(net, {**self.__dict__, **attributes}))
        attributes.update(
            net_=net,
            history_=net.history,
            n_epochs_=len(net.history),
            n_components_=self.n_components,
            _predict_cache={},
        )
        for key, value in attributes.items():
            setattr(self, key, value)

    def _calibrate(self, module, X, running):
        """Fit the model's noise scale by maximum likelihood on ``X``: the
        mean per-feature loss of the trained model (over every row seen, for
        ``partial_fit``). Models without a ``noise_scale`` are skipped."""
        likelihood = self.get_likelihood()
        if not hasattr(module, "noise_scale"):
            return {}
        if likelihood.fit_scale(1.0) is None:
            return {"noise_scale_": None}
        device = next(module.buffers()).device
        total, count = 0.0, 0
        # Batches a quarter of prediction's: this pass runs inside fit and
        # partial_fit, whose memory is the data's plus as little as possible.
        step = _PREDICT_BATCH_SIZE // 4
        with torch.no_grad():
            for start in range(0, len(X), step):
                batch = np.array(X[start : start + step], dtype=np.float32)
                errors = module.feature_errors(torch.from_numpy(batch).to(device))
                total += float(errors.double().sum())
                count += errors.numel()
        if running:
            previous_total, previous_count = self._calibration
            total, count = total + previous_total, count + previous_count
        scale = max(likelihood.fit_scale(total / count), 1e-8)
        module.noise_scale.fill_(scale)
        return {"noise_scale_": scale, "_calibration": (total, count)}

    def _dataset(self, X, y, device, extra=None):
        """The training data, on the device when they fit there (or
        ``stream_data=False``), else left in host memory and streamed.
        With ``extra`` inputs (see :meth:`_module_inputs`) a batch is the
        dict ``{"X": ..., **extra}``."""
        stream = self.stream_data
        if stream == "auto":
            stream = not fits_on_device(X, device)
        inputs = X if stream else device_tensor(X, device)
        if extra:
            inputs = {"X": inputs, **{
                name: value if stream else device_tensor(value, device)
                for name, value in extra.items()
            }}
        return ArrayDataset(inputs, y)

    def _callbacks(self):
        callbacks = self.callbacks or []
        out = []
        for i, cb in enumerate(callbacks):
            named = isinstance(cb, tuple) and len(cb) == 2 and isinstance(cb[0], str)
            obj = cb[1] if named else cb
            if not isinstance(obj, Callback) and not (
                isinstance(obj, type) and issubclass(obj, Callback)
            ):
                raise TypeError(
                    f"{type(self).__name__}: callbacks[{i}] must be a skorch "
                    f"Callback or a (name, Callback) tuple, got {cb!r}."
                )
            if named and cb[0] in ("check_loss", "early_stopping", "trim_history"):
                raise ValueError(
                    f"{type(self).__name__}: the callback name {cb[0]!r} is "
                    "reserved; give your callback another name."
                )
            out.append(copy.deepcopy(cb))
        return out

    def _make_net(self, module, n_samples, transform, shuffle_seed, split_seed,
                  early_stopping, device):
        name = type(self).__name__
        fraction = self.validation_fraction
        if fraction is None and self.early_stopping:
            fraction = 0.1
        use_valid = early_stopping and fraction is not None
        if use_valid:
            n_valid = int(np.floor(fraction * n_samples))
            if n_valid < 1 or n_samples - n_valid < 1:
                warnings.warn(
                    f"{name}: {n_samples} samples are too few for a validation split "
                    f"of validation_fraction={fraction}; training on all of them "
                    "without validation loss (and without early stopping).",
                    UserWarning,
                )
                use_valid = False
        stop_early = use_valid and self.early_stopping
        lr = self._learning_rate(n_samples)
        if self.standardize is False and not self.get_likelihood().bounded:
            hint = ("The data may be badly scaled: with standardize=False the network "
                    "sees features in their own units; use standardize='auto'.")
        else:
            hint = f"Try another learning rate (lr={lr}) or more epochs."
        callbacks = [
            ("check_loss", _CheckLoss(name, lr, hint)),
            ("trim_history", _TrimBatchHistory()),
        ]
        if stop_early:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        threshold=self.tol,
                        threshold_mode="rel",
                        load_best=True,
                        sink=_print_plain_unless_tty if self.verbose else _silent,
                    ),
                )
            )
        callbacks += self._callbacks()
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = _OPTIMIZERS[optimizer]
        elif not issubclass(optimizer, torch.optim.Optimizer):
            raise TypeError(
                f"{name}: optimizer must be one of {sorted(_OPTIMIZERS)} or a "
                f"torch.optim.Optimizer subclass, got {optimizer!r}."
            )
        net = self._net_class()(
            module,
            criterion=LossTerms,
            criterion__weights=self._criterion_weights(),
            optimizer=optimizer,
            lr=lr,
            optimizer__weight_decay=self.weight_decay,
            **{f"optimizer__{k}": v for k, v in (self.optimizer_params or {}).items()},
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            iterator_train__rng=np.random.default_rng(shuffle_seed),
            iterator_train__transform=transform,
            iterator_valid__transform=transform,
            train_split=self._train_split(fraction if use_valid else None, split_seed),
            callbacks=callbacks,
            device=str(device),
            verbose=self.verbose,
            **self._net_params(),
        )
        if not self.verbose:
            # PrintLog formats its table every epoch even when it prints
            # nothing; drop it when silent.
            net.set_params(callbacks__print_log=None)
        else:
            net.set_params(callbacks__print_log__sink=_print_plain_unless_tty)
        with warnings.catch_warnings():
            # skorch warns when the module is passed as an instance.
            warnings.simplefilter("ignore", UserWarning)
            net.initialize()
        return net

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def _eval_module(self, dtype):
        """The trained model in ``dtype``: float64 input is evaluated by a
        float64 copy, made once and kept, so that results do not depend on
        how rows are grouped into batches beyond float64 round-off (its
        exact GELUs computed by :class:`_ErfGELU`)."""
        module = self.net_.module_
        if dtype != torch.float64:
            return module
        cache = self._predict_cache
        if "float64" not in cache:
            module = copy.deepcopy(module).to(torch.float64)
            # Exact GELUs through torch.erf: the same function, but torch's
            # float64 gelu kernel is about 25 times slower than its float32
            # one on the CPU (the float64 transform of the digits by
            # NeighborEmbeddingAE was 10 times slower than the float32 one).
            for parent in list(module.modules()):
                for name, child in parent.named_children():
                    if type(child) is torch.nn.GELU and child.approximate == "none":
                        setattr(parent, name, _ErfGELU())
            cache["float64"] = module
        return cache["float64"]

    def _map_batches(self, fn, X, extra=None):
        """Apply ``fn(module, tensor)`` to ``X`` in batches, gradients off.

        ``extra`` (a dict of arrays with ``X``'s rows, e.g. a condition) is
        batched alongside, in ``X``'s dtype, and passed as keyword
        arguments: ``fn(module, tensor, **extra_batch)``. Returns a NumPy
        array of ``X``'s dtype on the CPU, preallocated: memory is one batch
        plus the output, however many rows.
        """
        dtype = torch.float64 if X.dtype == np.float64 else torch.float32
        module = self._eval_module(dtype)
        device = self.net_.device
        out = None

        def tensor(A, start):
            batch = np.array(A[start : start + _PREDICT_BATCH_SIZE], dtype=X.dtype, order="C")
            return torch.from_numpy(batch).to(device=device, dtype=dtype)

        with torch.no_grad():
            for start in range(0, len(X), _PREDICT_BATCH_SIZE):
                kwargs = {name: tensor(A, start) for name, A in (extra or {}).items()}
                result = fn(module, tensor(X, start), **kwargs)
                result = result.cpu().numpy()
                if out is None:
                    out = np.empty((len(X), *result.shape[1:]), dtype=X.dtype)
                out[start : start + len(result)] = result
        return out

    def _validate_X(self, X):
        check_is_fitted(self)
        X = validate_data(self, flatten_images(X), dtype=[np.float64, np.float32], reset=False)
        X = self._network_input(X, fit=False)
        # The range the model was trained for (e.g. [0, 1] for cross-entropy),
        # checked at prediction as at fit.
        self._check_range(X)
        return X

    def transform(self, X):
        """Encode ``X``: the code ``h(x)`` of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Codes, of the input's float dtype.
        """
        X = self._validate_X(X)
        return self._map_batches(lambda m, x: m.encode(x), X)

    def inverse_transform(self, X):
        """Decode codes back to input space: the decoder's mean ``g(z)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            Reconstructions in the units of the training data.
        """
        check_is_fitted(self)
        Z = check_array(
            X, dtype=[np.float64, np.float32], input_name="X",
            estimator=self,
        )
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"{type(self).__name__}.inverse_transform: X has {Z.shape[1]} "
                f"features, but codes of this estimator have "
                f"n_components={self.n_components_}."
            )
        return self._map_batches(lambda m, z: m.decode(z), Z)

    def score_samples(self, X):
        """Log-likelihood of each sample, in nats of the data in their own units.

        ``log p(x | g(h(x)))`` under the likelihood of ``loss``: independent
        Gaussian (``"mse"``) or Laplace (``"mae"``) features centred on the
        reconstruction, with the noise scale ``noise_scale_`` fitted by
        maximum likelihood on the training data (in the units the network
        sees, so ``noise_scale_ * scale_`` per feature in the data's units
        when ``standardize`` is on), or Bernoulli features (``"bce"``). Being
        a density of the raw data, it compares models of any ``loss``,
        ``standardize`` or architecture (``score``, and so ``GridSearchCV``,
        maximise it). For a fitted model it is an increasing affine function
        of minus the mean reconstruction error, so it ranks samples as that
        error does.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        X = self._validate_X(X)
        return self._map_batches(self._sample_scores, X)

    def feature_errors(self, X):
        """Reconstruction loss of each feature of each sample.

        The per-feature terms behind :meth:`score_samples` (in the units the
        network sees: standardised when ``standardize`` is on), to see which
        columns a sample is badly explained on.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to explain.

        Returns
        -------
        errors : ndarray of shape (n_samples, n_features)
        """
        X = self._validate_X(X)
        return self._map_batches(lambda m, x: m.feature_errors(x), X)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    def __getstate__(self):
        state = super().__getstate__()
        if "_predict_cache" in state:
            state["_predict_cache"] = {}
        return state

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
