"""The shared base of every skae autoencoder estimator.

:class:`_BaseAE` owns the scikit-learn contract (parameter validation, input
validation, fitted state, feature names, ``set_output``), reproducibility,
the ``device`` parameter, internal standardisation and batched prediction,
and trains its network through a skorch :class:`~skae._net._AENet`.
A subclass supplies its network (``_build_module``) and its loss
(``_batch_loss``), and may add input checks (``_check_input``), fitted
attributes computed from the training data (``_fit_data_attributes``), a
per-sample score (``_sample_scores``) and its per-feature breakdown
(``_feature_errors``).
"""

import copy
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
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split

from ._net import _AENet, _BatchIterator, _CheckFiniteLoss, _TensorDataset, _to_tensor
from .losses import feature_reconstruction_error, reconstruction_error
from .modules.mlp import ACTIVATIONS, mlp_autoencoder
from .utils.validation import (
    Interval,
    StrOptions,
    check_device,
    check_unit_interval,
    validate_params,
)

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


class _BaseAE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the skae autoencoders. Not for direct use.

    Subclasses define ``__init__`` with their full signature (scikit-learn
    reads the parameters from it) and override the hooks below.
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "standardize": ["boolean", StrOptions({"auto"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), type],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "callbacks": [list, None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # ------------------------------------------------------------------
    # Hooks for subclasses
    # ------------------------------------------------------------------
    def _check_input(self, X):
        """Extra checks of the validated training data (raise ValueError)."""
        if getattr(self, "loss", None) == "bce":
            check_unit_interval(X, type(self).__name__, "loss='bce'", "loss='mse'")

    def _fit_data_attributes(self, X):
        """Set fitted attributes computed from the training data, before
        training (``X`` validated, in its own units; ``mean_`` and ``scale_``
        are already set, so ``self._scale(X)`` is what the network sees)."""

    def _use_standardize(self):
        """Whether to standardise features inside the estimator."""
        if self.standardize == "auto":
            return self.loss != "bce"
        if self.standardize and self.loss == "bce":
            raise ValueError(
                f"{type(self).__name__}: standardize=True moves data out of "
                "[0, 1], which loss='bce' needs; use standardize='auto' or "
                "False with loss='bce', or loss='mse'."
            )
        return bool(self.standardize)

    def _module_factory(self):
        """The function that builds the autoencoder from its sizes (the
        mirrored MLP; ContractiveAE swaps in the tied-weights one)."""
        return mlp_autoencoder

    def _build_module(self, n_features):
        """Return the untrained ``nn.Module`` for ``n_features`` inputs."""
        return self._module_factory()(
            n_features,
            self._hidden_layer_sizes(),
            self.n_components,
            self.activation,
            "sigmoid" if self.loss == "bce" else "identity",
        )

    def _batch_loss(self, module, X, training):
        """Scalar training loss of a batch ``X`` (already scaled, on device)."""
        return reconstruction_error(module(X), X, self.loss).mean()

    def _sample_scores(self, module, X):
        """Per-sample score, higher is better: minus the reconstruction error."""
        return -reconstruction_error(module(X), X, self.loss)

    def _feature_errors(self, module, X):
        """Per-sample, per-feature reconstruction error (higher is worse).

        Used by :class:`skae.AEOutlierDetector` to show which features make a
        sample abnormal. The default is the reconstruction loss of each
        feature; estimators whose ``forward`` is not the decoder's raw output
        of ``x`` override it.
        """
        return feature_reconstruction_error(module(X), X, self.loss)

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        try:
            sizes = tuple(sizes)
        except TypeError:
            sizes = (sizes,)
        if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise ValueError(
                f"{type(self).__name__}: hidden_layer_sizes must be a tuple of "
                f"positive ints, got {self.hidden_layer_sizes!r}."
            )
        return sizes

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
        validate_params(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        name = type(self).__name__
        device = check_device(self.device, name)
        self._hidden_layer_sizes()
        self._check_input(X)
        standardize = self._use_standardize()

        if standardize:
            self.mean_ = X.mean(axis=0)
            scale = X.std(axis=0)
            # Constant features keep their (zero) deviation instead of a
            # division by zero, as in StandardScaler.
            scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
            self.scale_ = scale
        else:
            self.mean_ = None
            self.scale_ = None
        self._fit_data_attributes(X)
        Xs = _to_tensor(self._scale(X), device)

        rng = check_random_state(self.random_state)
        init_seed, shuffle_seed, split_seed, noise_seed, eval_seed = rng.randint(
            np.iinfo(np.int32).max, size=5
        )
        # Seed of any randomness at prediction time (the VAE's importance
        # samples): fixed at fit, so that predictions are deterministic.
        self._eval_seed = int(eval_seed)
        # Weights are drawn from torch's global generator: fork it so that
        # the caller's global RNG state is left as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(init_seed))
            module = self._build_module(X.shape[1])

        n_valid = int(np.floor(self.validation_fraction * len(X)))
        use_valid = self.early_stopping and n_valid >= 1 and len(X) - n_valid >= 1
        callbacks = [("check_finite", _CheckFiniteLoss(name, self.lr))]
        if use_valid:
            perm = torch.from_numpy(np.random.default_rng(split_seed).permutation(len(X)))
            perm = perm.to(device)
            train_ds = _TensorDataset(Xs[perm[n_valid:]])
            train_split = predefined_split(_TensorDataset(Xs[perm[:n_valid]]))
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        threshold=self.tol,
                        threshold_mode="rel",
                        load_best=True,
                        sink=print if self.verbose else _silent,
                    ),
                )
            )
        else:
            train_ds = _TensorDataset(Xs)
            train_split = None
        callbacks += copy.deepcopy(self.callbacks or [])

        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = _OPTIMIZERS[optimizer]
        net = _AENet(
            module,
            batch_loss=self._batch_loss,
            criterion=torch.nn.MSELoss,  # unused: the loss is batch_loss
            optimizer=optimizer,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=_BatchIterator,
            iterator_train__shuffle=True,
            iterator_train__rng=np.random.default_rng(shuffle_seed),
            iterator_valid=_BatchIterator,
            train_split=train_split,
            callbacks=callbacks,
            device=str(device),
            verbose=self.verbose,
        )
        if not self.verbose:
            # PrintLog formats its table every epoch even when it prints
            # nothing; drop it when silent.
            net.set_params(callbacks__print_log=None)
        # Subclasses draw training noise from this generator (seeded, on the
        # device); it is removed after fit because generators do not pickle.
        self._noise_generator = torch.Generator(device=device).manual_seed(
            int(noise_seed)
        )
        try:
            with warnings.catch_warnings():
                # skorch warns when the module is passed as an instance.
                warnings.simplefilter("ignore", UserWarning)
                net.initialize()
            net.partial_fit(train_ds)
        finally:
            del self._noise_generator
        net.module_.eval()
        self.net_ = net
        self.history_ = net.history
        self.n_epochs_ = len(net.history)
        self.n_components_ = self.n_components
        return self

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def _scale(self, X):
        if self.mean_ is None:
            return X
        return (X - self.mean_) / self.scale_

    def _unscale(self, X):
        if self.mean_ is None:
            return X
        return X * self.scale_ + self.mean_

    def _map_batches(self, fn, X, scale=True):
        """Apply ``fn(module, tensor)`` to ``X`` in batches, gradients off.

        The network trains in float32; float64 input is evaluated by a
        float64 copy of it, so that results do not depend on how rows are
        grouped into batches beyond float64 round-off. Returns a NumPy
        array of ``X``'s dtype, on the CPU.
        """
        module = self.net_.module_
        device = self.net_.device
        dtype = torch.float64 if X.dtype == np.float64 else torch.float32
        if dtype == torch.float64:
            module = copy.deepcopy(module).to(dtype)
        out = []
        with torch.no_grad():
            for start in range(0, len(X), _PREDICT_BATCH_SIZE):
                batch = X[start : start + _PREDICT_BATCH_SIZE]
                if scale:
                    batch = self._scale(batch)
                batch = torch.as_tensor(np.asarray(batch), dtype=dtype, device=device)
                out.append(fn(module, batch).cpu().numpy())
        return np.concatenate(out).astype(X.dtype, copy=False)

    def _validate_X(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)

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
        Z = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"{type(self).__name__}.inverse_transform: X has {Z.shape[1]} "
                f"features, but codes of this estimator have "
                f"n_components={self.n_components_}."
            )
        X_rec = self._map_batches(lambda m, z: m.decode(z), Z, scale=False)
        return self._unscale(X_rec).astype(Z.dtype, copy=False)

    def score_samples(self, X):
        """Per-sample score: minus the reconstruction error (higher is better).

        The error is the estimator's training loss of each sample (squared
        or absolute error averaged over features for ``loss="mse"`` or
        ``"mae"``, in the standardised units when ``standardize`` is on;
        mean cross-entropy for ``loss="bce"``).

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

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


