"""Anomaly detection by reconstruction, with scikit-learn's outlier contract."""

import copy
import functools
import math
from numbers import Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import _BaseAE
from .autoencoder import AutoEncoderTransformer
from .utils.validation import (
    HasMethods,
    Interval,
    StrOptions,
    flatten_images,
    validate_params,
)

# Robust scaling divides by the range between these percentiles, over its
# value for a standard Gaussian (3.29), so that robustly scaled columns have
# the units StandardScaler gives clean Gaussian data. The 5-95 range beat the
# interquartile range on ADBench (mean ROC-AUC over 25 datasets, one split:
# 0.758 against 0.749): sparse and multimodal columns get a sensible scale,
# and it still ignores the 5% most extreme values at each end.
_QUANTILE_RANGE = (5.0, 95.0)
_GAUSSIAN_RANGE = 3.289707253902945  # norm.ppf(0.95) - norm.ppf(0.05)

# Rows scaled and scored at a time at prediction: the inner estimator's own
# prediction batch, so that memory stays that of one chunk.
_CHUNK_ROWS = 4096


# The default autoencoder makes _EPOCHS passes over the data, or, on more
# than _EPOCH_ROWS rows, as many as make _EPOCHS passes over _EPOCH_ROWS rows
# (at least _MIN_EPOCHS): past that size the work of a fit stops growing
# with the data, as IsolationForest's trees each draw 256 rows. On ADBench
# (29 datasets, 3 splits) this cut the total fit CPU time by a quarter
# against 20 epochs everywhere, for a mean ROC-AUC within 0.001.
_EPOCHS, _EPOCH_ROWS, _MIN_EPOCHS = 20, 8192, 2


@functools.lru_cache(maxsize=None)
def _fused_adam():
    """``{"fused": True}`` where this torch has a fused Adam for the CPU
    (2.4 and later: one kernel per step for all the parameters instead of
    several per parameter; on ADBench's ALOI it took a third off the
    default network's fit time at batch size 256), else None."""
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True)
    except (RuntimeError, ValueError, TypeError):
        return None
    return {"fused": True}


def _default_params(n_features, n_samples=None):
    """Parameters of the default autoencoder for ``n_features`` inputs and
    ``n_samples`` training rows (None: a small set) (see Notes of
    :class:`AEOutlierDetector`; measured with benchmarks/outliers.py)."""
    epochs = _EPOCHS
    if n_samples is not None and n_samples > _EPOCH_ROWS:
        epochs = max(_MIN_EPOCHS, min(_EPOCHS, math.ceil(_EPOCHS * _EPOCH_ROWS / n_samples)))
    return dict(
        n_components=min(8, max(1, n_features // 2)),
        hidden_layer_sizes=(min(64, max(16, 2 * n_features)),),
        activation="elu",
        loss="mae",
        batch_size=1024,
        lr=3e-3,
        max_epochs=epochs,
        early_stopping=False,
        optimizer_params=_fused_adam(),
    )


class AEOutlierDetector(OutlierMixin, BaseEstimator):
    """Unsupervised outlier detection by autoencoder reconstruction.

    Fits a copy of a skae autoencoder to the (possibly contaminated) training
    data and scores each sample by how badly the autoencoder explains it: the
    reconstruction error for :class:`~skae.AutoEncoderTransformer` and its
    denoising and contractive variants, the negative log-likelihood estimate
    for the variational autoencoder. A network trained on mostly normal data
    rebuilds normal samples well and abnormal ones badly.

    The detector follows the contract of :class:`~sklearn.ensemble.IsolationForest`
    and of :class:`~sklearn.neighbors.LocalOutlierFactor` with
    ``novelty=True``: :meth:`score_samples` is the opposite of the anomaly
    score (lower is more abnormal), :meth:`decision_function` is
    ``score_samples(X) - offset_`` (negative for outliers) and
    :meth:`predict` returns -1 for outliers and +1 for inliers.

    Parameters
    ----------
    estimator : skae autoencoder, default=None
        The autoencoder to fit, cloned at each :meth:`fit`: any skae
        estimator with ``score_samples`` (higher is better explained).
        ``None`` means an :class:`~skae.AutoEncoderTransformer` sized for
        tabular detection from the number of features (see Notes).
    contamination : "auto" or float, default="auto"
        Expected proportion of outliers in the training data; it sets
        ``offset_`` and so only affects :meth:`predict` and
        :meth:`decision_function`, not :meth:`score_samples`. A float in
        (0, 0.5] puts the threshold at that percentile of the training
        scores. ``"auto"`` applies Tukey's boxplot rule to the training
        anomaly scores: a sample is an outlier when its anomaly score lies
        more than 1.5 interquartile ranges above the third quartile, so the
        fraction flagged adapts to the data.
    scaling : {"robust", "standard"} or None, default="robust"
        How features are scaled before the autoencoder sees them (fitted on
        the training data). ``"robust"`` centres on the median and divides
        by the range between the 5th and 95th percentiles (over 3.29, its
        value for a standard Gaussian), statistics that the outliers in the
        training data barely move; ``"standard"`` uses mean and standard deviation. A column
        whose spread is zero is divided by its standard deviation instead,
        and a constant column by 1, so that no NaN or inf appears. The
        estimator's own ``standardize`` is switched off when this is on, as
        the work is done here. ``None`` passes the data as they are and
        leaves standardisation to the estimator.
    clip : float or None, default=1.0
        The autoencoder is trained on the scaled data clipped to
        ``[-clip, clip]``, while samples are scored unclipped. The network
        so never sees, and cannot learn to rebuild, the extreme values of
        the outliers in the training data; a value beyond the clip is
        rebuilt at best at the clip and its error counts in full. None
        trains on the data as they are. Ignored when ``scaling=None``.
    random_state : int, RandomState instance or None, default=None
        When not None, seeds the estimator (its ``random_state`` is replaced
        by a seed drawn from this one), so that the same value gives the same
        scores. When None, the estimator's own ``random_state`` is used.

    Attributes
    ----------
    estimator_ : skae autoencoder
        The fitted autoencoder (trained on the scaled data).
    offset_ : float
        Threshold on :meth:`score_samples`: ``decision_function =
        score_samples - offset_``.
    center_ : ndarray of shape (n_features_in_,) or None
        Per-feature centre subtracted before the autoencoder (None when
        ``scaling=None``).
    scale_ : ndarray of shape (n_features_in_,) or None
        Per-feature scale divided by before the autoencoder.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.ensemble.IsolationForest : Outlier detection by random
        partitioning, the usual baseline on tabular data.
    sklearn.neighbors.LocalOutlierFactor : Density-based detection
        (use ``novelty=True`` to score new data).
    AutoEncoderTransformer : The default autoencoder.

    Notes
    -----
    **Sign convention.** As in scikit-learn, higher :meth:`score_samples` is
    more normal. PyOD's ``decision_function`` has the opposite sign (higher
    is more abnormal) and its ``predict`` returns 1 for outliers and 0 for
    inliers; ``-score_samples(X)`` is the PyOD-style anomaly score.

    **Default autoencoder.** With ``estimator=None`` the network has one
    hidden layer of ``min(64, max(16, 2 * n_features))`` ELU units and a
    code of ``min(8, max(1, n_features // 2))`` components, and is trained
    by Adam (``lr=3e-3``, fused where torch has a fused CPU Adam) in
    batches of 1024, without early stopping, for 20 epochs, or, on more than
    8,192 rows, for as many epochs as make 20 passes over 8,192 rows (at
    least 2), so that the work of a fit stops growing with the data past
    that size, as IsolationForest's trees each draw 256 rows. It trains on,
    and scores by, the absolute reconstruction error (``loss="mae"``, the
    Laplace likelihood). These values, and ``clip=1.0``, were
    chosen on the ADBench classical datasets (``benchmarks/outliers.py``):
    a narrow code, short training and clipped training data keep the
    network from learning to rebuild the outliers in its training data, and
    the absolute error lets the few outliers pull the fit less than the
    squared error does, while no single heavy-tailed column dominates the
    score. Side by side on that benchmark (the rows are in
    ``benchmarks/results/adbench_defaults.csv``), the mean ROC-AUC was 0.762
    for these defaults; 0.751 with ``loss="mse"``; 0.727 without clipping
    (``clip=None``), 0.754 with ``clip=2`` and 0.758 with ``clip=0.5``;
    0.749 with early stopping on a validation split (up to 200 epochs, at
    seven times the fit time: a validation split is as contaminated as the
    training data); 0.763 with 40 epochs, at twice the fit time; and 0.760
    with tanh units. Differences of 0.002 are within the spread between
    the three splits. Those figures were measured with batches of 256 and
    ``lr=1e-3`` for 20 epochs everywhere; the batches of 1024, ``lr=3e-3``
    and the epochs capped on large data cut the total fit CPU time 3.3
    times (wall-clock 3.0 times) for a mean ROC-AUC of 0.7612 against
    0.7616 (``benchmarks/results/adbench_speed_summary.txt``).

    **How it compares.** On the 29 ADBench datasets with at most 50,000
    rows (unsupervised protocol, three 70/30 splits, every method with its
    default parameters, side by side) the default detector's
    mean test ROC-AUC is 0.761, against 0.755 for
    :class:`~sklearn.ensemble.IsolationForest` (above it on each of the
    three splits and on 17 of the 29 datasets), at 1.5 times its total fit
    time (CPU seconds and wall-clock alike), and 0.729 for PyOD's
    ``AutoEncoder`` (measured with the previous, slower defaults, at 0.17
    of PyOD's fit time). It wins most on letter, Hepatitis, Wilt, wine
    and annthyroid, and loses most on Waveform, Cardiotocography and cardio
    (where ``VAETransformer``, whose score also counts how unlikely a code
    is under its prior, does better), on pendigits, and on the sparse
    columns of SpamBase and InternetAds. On the large ADBench sets at full
    size (``benchmarks/outliers.py --large``: up to 433,528 training rows)
    it fits each in at most 15 seconds on one thread, growing by at most
    1.3 times the dataset's float32 size during fit (mean ROC-AUC 0.821
    over the nine, against IsolationForest's 0.802).

    :meth:`feature_errors` gives the per-feature reconstruction errors behind
    the score, in the scaled units, to see which columns make a sample
    abnormal.

    References
    ----------
    .. [1] C. C. Aggarwal, "Outlier Analysis", 2nd ed., chapter 3, Springer,
       2017.
    .. [2] S. Han, X. Hu, H. Huang, M. Jiang and Y. Zhao, "ADBench: Anomaly
       Detection Benchmark", NeurIPS Datasets and Benchmarks, 2022.
    .. [3] J. W. Tukey, "Exploratory Data Analysis", Addison-Wesley, 1977.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AEOutlierDetector, AutoEncoderTransformer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> det = AEOutlierDetector(contamination=0.05, random_state=0).fit(X)
    >>> det.predict(X[:5]).shape
    (5,)
    >>> det.feature_errors(X[:5]).shape
    (5, 4)
    >>> det = AEOutlierDetector(
    ...     AutoEncoderTransformer(n_components=1, max_epochs=2), random_state=0
    ... )
    >>> det.fit(X).score_samples(X).shape
    (200,)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "score_samples"]), None],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "scaling": [StrOptions({"robust", "standard"}), None],
        "clip": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        contamination="auto",
        scaling="robust",
        clip=1.0,
        random_state=None,
    ):
        self.estimator = estimator
        self.contamination = contamination
        self.scaling = scaling
        self.clip = clip
        self.random_state = random_state

    def set_params(self, **params):
        """Set the parameters of this detector (and of its ``estimator``).

        Parameters
        ----------
        **params : dict
            Parameter names mapped to their values; ``estimator__<name>``
            reaches the autoencoder, which must then be given (the default
            one is sized at fit, from the data).

        Returns
        -------
        self : AEOutlierDetector
        """
        nested = sorted(k for k in params if k.startswith("estimator__"))
        if nested and params.get("estimator", self.estimator) is None:
            raise ValueError(
                f"AEOutlierDetector: cannot set {nested[0]!r} while estimator=None "
                "(the default autoencoder is sized at fit, from the data). Give an "
                "estimator, e.g. AEOutlierDetector(AutoEncoderTransformer(n_components="
                "4)), or search over estimator=[...] itself."
            )
        return super().set_params(**params)

    # ------------------------------------------------------------------
    def _make_estimator(self, n_samples, n_features):
        if self.estimator is None:
            if n_features < 2:
                raise ValueError(
                    "AEOutlierDetector: the default autoencoder needs at least 2 "
                    f"features to compress, got n_features={n_features}."
                )
            estimator = AutoEncoderTransformer(**_default_params(n_features, n_samples))
        else:
            if not isinstance(self.estimator, _BaseAE):
                raise TypeError(
                    "AEOutlierDetector: estimator must be a skae autoencoder "
                    "(AutoEncoderTransformer, DenoisingAE, ContractiveAE, "
                    f"VAETransformer...), got {type(self.estimator).__name__}."
                )
            estimator = clone(self.estimator)
        params = estimator.get_params(deep=False)
        if self.scaling is not None:
            if estimator.get_likelihood().bounded:
                param = next(p for p in ("loss", "likelihood") if p in params)
                value = params[param]
                raise ValueError(
                    f"AEOutlierDetector: scaling={self.scaling!r} moves data out "
                    f"of [0, 1], which the estimator's {param}={value!r} needs; "
                    f"use scaling=None with {param}={value!r}."
                )
            if "standardize" in params:
                # Scaled here already: a second standardisation is wasted work.
                estimator.set_params(standardize=False)
        if self.random_state is not None and "random_state" in params:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            estimator.set_params(random_state=int(seed))
        return estimator

    def _fit_scaling(self, X):
        """The centre and scale of ``scaling`` (both None when off)."""
        if self.scaling is None:
            return None, None
        std = X.std(axis=0)
        if self.scaling == "robust":
            lo, center, hi = np.percentile(
                X, [_QUANTILE_RANGE[0], 50, _QUANTILE_RANGE[1]], axis=0
            )
            scale = (hi - lo) / _GAUSSIAN_RANGE
        else:
            center, scale = X.mean(axis=0), std.copy()
        eps = 10 * np.finfo(X.dtype).eps
        # Columns mostly at one value (zero range) fall back to their standard
        # deviation; constant ones keep their values, as in StandardScaler.
        zero = scale <= eps * np.maximum(1.0, np.abs(center))
        scale[zero] = std[zero]
        zero = scale <= eps * np.maximum(1.0, np.abs(center))
        scale[zero] = 1.0
        return center.astype(X.dtype), scale.astype(X.dtype)

    def _scale(self, X, center, scale):
        if center is None:
            return X
        out = X - center  # a new array, divided in place
        out /= scale
        return out

    def fit(self, X, y=None):
        """Fit the autoencoder to ``X`` and set the threshold ``offset_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, possibly contaminated by outliers.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted detector.
        """
        return self._atomic(self._fit, X)

    def partial_fit(self, X, y=None):
        """Train the autoencoder for one epoch on ``X`` and update ``offset_``.

        For data fed chunk by chunk (``dask_ml.wrappers.Incremental`` calls
        it on each block of a Dask array). The first call fits the scaling
        (``center_``, ``scale_``) on this first chunk and builds the
        autoencoder, as :meth:`fit` does on all the data; every call then
        trains it for one epoch on the chunk (clipped as in :meth:`fit`),
        through the autoencoder's own ``partial_fit``, and sets ``offset_``
        from the scores of this chunk under the updated model, so that the
        threshold follows the model as it trains.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training data, possibly contaminated by outliers.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The updated detector.
        """
        return self._atomic(self._partial_fit, X)

    def _atomic(self, fit, X):
        before = self.__dict__.copy()
        try:
            fit(X)
        except BaseException:
            # Atomic: a failed fit (Ctrl-C included) leaves the detector as it was.
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        return self

    def _partial_fit(self, X):
        validate_params(self)
        first = not hasattr(self, "estimator_")
        X = validate_data(
            self, flatten_images(X), dtype=[np.float64, np.float32], reset=first
        )
        if first:
            estimator = self._make_estimator(*X.shape)
            center, scale = self._fit_scaling(X)
        else:
            # The fitted autoencoder is trained in place only once the chunk
            # is scored: a copy, so that a failure leaves the detector as it was.
            estimator = copy.deepcopy(self.estimator_)
            center, scale = self.center_, self.scale_
        self._train_and_threshold(estimator, X, center, scale, "partial_fit")

    def _fit(self, X):
        validate_params(self)
        X = validate_data(self, flatten_images(X), dtype=[np.float64, np.float32])
        estimator = self._make_estimator(*X.shape)
        center, scale = self._fit_scaling(X)
        self._train_and_threshold(estimator, X, center, scale, "fit")

    def _train_and_threshold(self, estimator, X, center, scale, method):
        """Train ``estimator`` by its ``method`` ("fit" or "partial_fit") on
        the scaled (and clipped) ``X``; set the fitted attributes, with
        ``offset_`` from the scores of ``X``."""
        # One scaled copy of the data, clipped in place: the training data
        # take the memory of the input once more, not three times.
        Xs = self._scale(X, center, scale)
        train = getattr(estimator, method)
        if Xs is X:
            train(X)
        else:
            if self.clip is not None:
                np.clip(Xs, -self.clip, self.clip, out=Xs)
            train(Xs)
        del Xs
        # Unclipped training scores, scaled chunk by chunk.
        scores = self._chunked(estimator, center, scale, "score_samples", X)
        if self.contamination == "auto":
            q1, q3 = np.percentile(-scores, [25, 75])
            offset = -float(q3 + 1.5 * (q3 - q1))
        else:
            offset = float(np.percentile(scores, 100.0 * self.contamination))
        self.estimator_ = estimator
        self.center_, self.scale_ = center, scale
        self.offset_ = offset

    # ------------------------------------------------------------------
    def _map_chunks(self, method, X):
        """``method`` of the fitted estimator on the scaled ``X``, chunk by
        chunk into a preallocated float64 output: memory is one chunk plus
        the output, however many rows."""
        check_is_fitted(self)
        X = validate_data(self, flatten_images(X), dtype=[np.float64, np.float32], reset=False)
        return self._chunked(self.estimator_, self.center_, self.scale_, method, X)

    def _chunked(self, estimator, center, scale, method, X):
        fn = getattr(estimator, method)
        out = None
        for start in range(0, len(X), _CHUNK_ROWS):
            part = fn(self._scale(X[start : start + _CHUNK_ROWS], center, scale))
            if out is None:
                out = np.empty((len(X), *part.shape[1:]), dtype=np.float64)
            out[start : start + len(part)] = part
        return out

    def score_samples(self, X):
        """Opposite of the anomaly score: lower is more abnormal.

        The estimator's own ``score_samples`` of the scaled data: its
        log-likelihood in nats (for the reconstruction autoencoders, an
        increasing affine function of minus the mean reconstruction error of
        :meth:`feature_errors`, so samples rank as by that error; for the
        variational one, the importance-weighted estimate).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Float64 scores; PyOD's anomaly score is their negative.
        """
        return self._map_chunks("score_samples", X)

    def decision_function(self, X):
        """Shifted score: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each sample: -1 for an outlier, +1 for an inlier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            -1 where :meth:`decision_function` is negative, else +1.
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def feature_errors(self, X):
        """Reconstruction error of each feature of each sample.

        Shows which columns make a sample abnormal. For the (denoising,
        contractive) autoencoders, :meth:`score_samples` decreases with the
        mean of these errors over features (an affine function of it).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to explain.

        Returns
        -------
        errors : ndarray of shape (n_samples, n_features)
            Errors in the scaled units of the network's input (absolute
            error for ``loss="mae"``, the default; squared error for
            ``loss="mse"``), float64.
        """
        return self._map_chunks("feature_errors", X)
