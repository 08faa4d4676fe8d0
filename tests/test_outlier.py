"""Tests of AEOutlierDetector: the outlier contract and detection itself."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import RobustScaler

import skae
from skae import AEOutlierDetector, AutoEncoderTransformer


def _manifold_data(n_inliers=400, n_outliers=20, n_features=8, seed=0):
    """Inliers near a 2-D plane in ``n_features`` dimensions; outliers inside
    the inliers' marginal ranges but off the plane. The plane is the same
    for every ``seed``."""
    basis = np.linalg.qr(np.random.default_rng(42).normal(size=(n_features, 2)))[0].T
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n_inliers, 2))
    X_in = Z @ basis + 0.05 * rng.normal(size=(n_inliers, n_features))
    X_out = rng.uniform(-1.5, 1.5, size=(n_outliers, n_features))
    X = np.vstack([X_in, X_out])
    y = np.r_[np.zeros(n_inliers), np.ones(n_outliers)]
    perm = rng.permutation(len(X))
    return X[perm], y[perm]


def _small_ae(**kwargs):
    params = dict(n_components=2, hidden_layer_sizes=(16,), max_epochs=60, random_state=0)
    params.update(kwargs)
    return AutoEncoderTransformer(**params)


@pytest.fixture(scope="module")
def fitted():
    X, y = _manifold_data()
    # clip=None: these tests are about the contract and the reconstruction
    # of a manifold, which clipping the training data distorts.
    det = AEOutlierDetector(_small_ae(), contamination=0.1, clip=None, random_state=0)
    return det.fit(X), X, y


def test_contract_signs_and_offset_from_contamination(fitted):
    """Check that decision_function is score_samples - offset_, predict is its
    sign, and that the fraction of training samples flagged is contamination."""
    det, X, y = fitted
    scores = det.score_samples(X)
    decision = det.decision_function(X)
    np.testing.assert_allclose(decision, scores - det.offset_)
    np.testing.assert_array_equal(det.predict(X), np.where(decision < 0, -1, 1))
    assert set(np.unique(det.predict(X))) == {-1, 1}
    assert abs(np.mean(det.predict(X) == -1) - 0.1) <= 1 / len(X)
    # Lower score_samples is more abnormal: the planted outliers score low.
    assert scores[y == 1].mean() < scores[y == 0].mean()
    assert np.all(decision[y == 1][:5] < decision[y == 0].max())


def test_score_samples_is_the_log_likelihood_of_the_reconstruction(fitted):
    """Check score_samples and feature_errors against a reconstruction done
    by hand: robust scaling, encode, decode, squared error, and the Gaussian
    log-density of the scaled data with the autoencoder's noise scale."""
    from scipy.stats import norm

    det, X, _ = fitted
    gaussian_range = norm.ppf(0.95) - norm.ppf(0.05)
    Xs = (X - np.median(X, axis=0)) / (
        (np.percentile(X, 95, axis=0) - np.percentile(X, 5, axis=0)) / gaussian_range
    )
    rec = det.estimator_.inverse_transform(det.estimator_.transform(Xs))
    errors = (Xs - rec) ** 2
    np.testing.assert_allclose(det.feature_errors(X), errors, rtol=1e-5, atol=1e-8)
    s2 = det.estimator_.noise_scale_**2
    expected = -0.5 * (np.log(2 * np.pi * s2) + errors / s2).sum(axis=1)
    np.testing.assert_allclose(det.score_samples(X), expected, rtol=1e-5)


def test_auto_contamination_is_tukey_fence(fitted):
    """Check that contamination='auto' puts offset_ at Tukey's upper fence of
    the training anomaly scores."""
    det, X, y = fitted
    auto = AEOutlierDetector(_small_ae(), clip=None, random_state=0).fit(X)
    anomaly = -auto.score_samples(X)
    q1, q3 = np.percentile(anomaly, [25, 75])
    assert auto.offset_ == pytest.approx(-(q3 + 1.5 * (q3 - q1)))
    flagged = auto.predict(X) == -1
    # The planted outliers (5% of the data) are caught, with some inliers
    # from the skewed tail of the errors (measured: 10% flagged, all outliers).
    assert 0.03 < flagged.mean() < 0.2
    assert y[flagged].sum() >= 0.9 * y.sum()


def test_detects_planted_outliers(fitted):
    """Check that samples off the inliers' manifold get the lowest scores."""
    det, _, _ = fitted
    X_test, y_test = _manifold_data(seed=1)
    auc = roc_auc_score(y_test, -det.score_samples(X_test))
    assert auc > 0.95  # measured 1.0


def test_default_estimator_detects_planted_outliers():
    """Check that the default detector (estimator=None) works out of the box."""
    X, _ = _manifold_data(n_inliers=300)
    X_test, y_test = _manifold_data(seed=1)
    det = AEOutlierDetector(random_state=0).fit(X)
    assert isinstance(det.estimator_, AutoEncoderTransformer)
    assert roc_auc_score(y_test, -det.score_samples(X_test)) > 0.9
    # It trains and scores with the absolute error, which outliers in the
    # training data pull less than the squared error.
    assert det.estimator_.loss == "mae"
    errors = det.feature_errors(X_test)
    b = det.estimator_.noise_scale_  # the Laplace log-density of the scaled data
    expected = -(errors / b + np.log(2 * b)).sum(axis=1)
    np.testing.assert_allclose(det.score_samples(X_test), expected, rtol=1e-5)
    Xs = (X_test - det.center_) / det.scale_
    rebuilt = det.estimator_.inverse_transform(det.estimator_.transform(Xs))
    np.testing.assert_allclose(errors, np.abs(Xs - rebuilt), rtol=1e-5, atol=1e-8)


def test_unscaled_and_constant_columns():
    """Check that columns of wildly different scales and constant columns
    give finite scores and detection as good as on the unscaled data."""
    X, y = _manifold_data()
    X_test, y_test = _manifold_data(seed=1)
    scales = np.logspace(-4, 6, X.shape[1])

    def widen(A):
        # a constant column and a column that is mostly one value
        mostly = np.where(np.arange(len(A)) % 25 == 0, 5.0, 0.0)
        return np.column_stack([A * scales, np.full(len(A), 3e7), mostly])

    det = AEOutlierDetector(_small_ae(), random_state=0).fit(widen(X))
    scores = det.score_samples(widen(X_test))
    assert np.all(np.isfinite(scores))
    assert np.all(np.isfinite(det.feature_errors(widen(X_test))))
    assert det.scale_[-2] == 1.0  # constant column: divided by 1
    # 4% of the values differ: zero 5-95 range, divided by the deviation
    assert det.scale_[-1] == pytest.approx(widen(X)[:, -1].std())
    # The extra columns may cost some of the 1.0 this data gets unscaled.
    assert roc_auc_score(y_test, -scores) > 0.9


@pytest.mark.parametrize("scaling", ["robust", "standard"])
def test_scaling_statistics(scaling):
    """Check the scaling statistics against scikit-learn's scalers."""
    from sklearn.preprocessing import StandardScaler

    X, _ = _manifold_data()
    det = AEOutlierDetector(_small_ae(max_epochs=1), scaling=scaling).fit(X)
    if scaling == "robust":
        from scipy.stats import norm

        ref = RobustScaler(quantile_range=(5.0, 95.0)).fit(X)
        np.testing.assert_allclose(det.center_, ref.center_)
        gaussian_range = norm.ppf(0.95) - norm.ppf(0.05)
        np.testing.assert_allclose(det.scale_ * gaussian_range, ref.scale_, rtol=1e-6)
    else:
        ref = StandardScaler().fit(X)
        np.testing.assert_allclose(det.center_, ref.mean_)
        np.testing.assert_allclose(det.scale_, ref.scale_)
    # The work is not done twice: the estimator's own standardisation is off.
    assert det.estimator_.standardize is False


def test_scaling_none_leaves_standardisation_to_estimator():
    """Check that scaling=None passes raw data and keeps the estimator's
    standardize setting."""
    X, _ = _manifold_data()
    det = AEOutlierDetector(_small_ae(max_epochs=1), scaling=None).fit(X * 100)
    assert det.center_ is None and det.scale_ is None
    assert det.estimator_.standardize == "auto"
    np.testing.assert_allclose(det.estimator_.mean_, (X * 100).mean(axis=0))


def test_feature_errors_point_to_perturbed_column(fitted):
    """Check that the largest per-feature error is in the column that was
    pushed off the manifold."""
    det, X, y = fitted
    X_in = X[y == 0][:40].copy()
    rng = np.random.default_rng(0)
    cols = rng.integers(X.shape[1], size=len(X_in))
    X_in[np.arange(len(X_in)), cols] += 3 * X.std(axis=0)[cols]
    errors = det.feature_errors(X_in)
    assert errors.shape == X_in.shape
    assert np.mean(errors.argmax(axis=1) == cols) > 0.9  # measured 1.0


_SKAE_ESTIMATORS = ["AutoEncoderTransformer", "DenoisingAE", "ContractiveAE", "VAETransformer"]


@pytest.mark.parametrize("name", _SKAE_ESTIMATORS)
def test_works_with_each_skae_estimator(name):
    """Check that every skae autoencoder can be the detector's estimator, and
    detects the planted outliers."""
    if not hasattr(skae, name):
        pytest.skip(f"{name} is not part of skae yet")
    X, _ = _manifold_data()
    X_test, y_test = _manifold_data(seed=1)
    est = getattr(skae, name)(
        n_components=2, hidden_layer_sizes=(16,), max_epochs=60, random_state=0
    )
    det = AEOutlierDetector(est, contamination=0.05, random_state=0).fit(X)
    assert type(det.estimator_) is type(est) and det.estimator_ is not est
    scores = det.score_samples(X_test)
    assert scores.dtype == np.float64 and np.all(np.isfinite(scores))
    assert det.feature_errors(X_test).shape == X_test.shape
    assert roc_auc_score(y_test, -scores) > 0.85


@pytest.mark.parametrize("contamination", [0.0, 0.6, -0.1, "0.1", "high"])
def test_bad_contamination(contamination):
    """Check that contamination outside (0, 0.5] and 'auto' is refused."""
    X, _ = _manifold_data(n_inliers=50)
    det = AEOutlierDetector(_small_ae(max_epochs=1), contamination=contamination)
    with pytest.raises(ValueError, match="'contamination' parameter of AEOutlierDetector"):
        det.fit(X)


def test_bad_input_errors():
    """Check the messages for bad data and bad estimators."""
    X, _ = _manifold_data(n_inliers=50)
    det = AEOutlierDetector(_small_ae(max_epochs=1)).fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but AEOutlierDetector"):
        det.score_samples(X[:, :3])
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        AEOutlierDetector().fit(X_nan)
    with pytest.raises(ValueError, match="at least 2 features.*n_features=1"):
        AEOutlierDetector().fit(X[:, :1])
    with pytest.raises(TypeError, match="must be a skae autoencoder.*PCA"):
        from sklearn.decomposition import PCA

        AEOutlierDetector(PCA()).fit(X)
    with pytest.raises(ValueError, match="scaling='robust'.*loss='bce'.*scaling=None"):
        AEOutlierDetector(_small_ae(loss="bce")).fit(np.clip(X, 0, 1))
    with pytest.warns(UserWarning, match="n_components=2 is not smaller"):
        AEOutlierDetector(_small_ae()).fit(X[:, :2])


def test_reproducible_and_input_untouched():
    """Check that the same random_state gives identical scores, that it
    overrides the estimator's, and that the caller's data are not modified."""
    X, _ = _manifold_data(n_inliers=100)
    X_copy = X.copy()
    est = _small_ae(max_epochs=5, random_state=None)
    a = AEOutlierDetector(est, random_state=3).fit(X).score_samples(X)
    b = AEOutlierDetector(est, random_state=3).fit(X).score_samples(X)
    c = AEOutlierDetector(est, random_state=4).fit(X).score_samples(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    np.testing.assert_array_equal(X, X_copy)
    assert est.random_state is None  # the user's estimator is cloned, not set


def test_feature_names_and_fit_predict():
    """Check feature_names_in_ from a DataFrame and fit_predict == fit().predict()."""
    pd = pytest.importorskip("pandas")
    X, _ = _manifold_data(n_inliers=100)
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    det = AEOutlierDetector(_small_ae(max_epochs=5), contamination=0.1, random_state=0)
    labels = det.fit_predict(df)
    np.testing.assert_array_equal(det.feature_names_in_, df.columns)
    np.testing.assert_array_equal(labels, det.predict(df))
    assert det.n_features_in_ == X.shape[1]


def test_clipped_training_keeps_outlier_cluster_abnormal():
    """Check that clipping the training data stops the network from learning
    a tight cluster of extreme outliers in it, which unclipped training
    learns to rebuild."""
    X, _ = _manifold_data(n_inliers=300, n_outliers=0)
    # 4% of the data at one point on the inliers' plane, far out along it
    # (fewer than 5%, so that the 95th percentile of the scaling ignores it)
    far = 3 * X[np.argmax(np.linalg.norm(X, axis=1))]
    cluster = np.tile(far, (12, 1))
    X_train = np.vstack([X, cluster])
    big = dict(n_components=2, hidden_layer_sizes=(32,), max_epochs=150,
               early_stopping=False)
    ratio = {}
    for clip in (None, 1.5):
        det = AEOutlierDetector(_small_ae(**big), clip=clip, random_state=0)
        X_eval = np.vstack([X, cluster[:1]])
        scores = det.fit(X_train).score_samples(X_eval)
        if clip is not None:
            assert np.all(scores[-1] < scores[:-1])
        # the cluster's reconstruction error over the median inlier's
        errors = det.feature_errors(X_eval).mean(axis=1)
        ratio[clip] = errors[-1] / np.median(errors[:-1])
    assert ratio[1.5] > 100  # measured 1050
    assert ratio[1.5] > 20 * ratio[None]  # measured 8: the cluster was learned


def test_partial_fit_scales_on_the_first_chunk_and_thresholds_on_the_last():
    """Check partial_fit, what dask-ml's Incremental calls on each block:
    the first call fits the scaling on its chunk alone and builds the
    autoencoder, each call trains it one epoch, and offset_ is the
    contamination percentile of the last chunk's scores under the updated
    model; a later chunk of another width is refused."""
    X, _ = _manifold_data(n_inliers=300)
    chunks = np.array_split(X, 4)
    det = AEOutlierDetector(_small_ae(), contamination=0.1, random_state=0)
    for chunk in chunks:
        det.partial_fit(chunk)
    first = AEOutlierDetector(_small_ae(), contamination=0.1, random_state=0)
    center, scale = first._fit_scaling(chunks[0])
    np.testing.assert_array_equal(det.center_, center)
    np.testing.assert_array_equal(det.scale_, scale)
    assert det.estimator_.n_epochs_ == len(chunks)
    assert det.offset_ == pytest.approx(np.percentile(det.score_samples(chunks[-1]), 10))
    with pytest.raises(ValueError, match="features"):
        det.partial_fit(X[:, :-1])


def test_partial_fit_continues_a_fit_and_is_atomic():
    """Check that partial_fit after fit trains the fitted autoencoder one
    epoch further with the fitted scaling, and that a partial_fit that
    raises leaves the detector as it was."""
    X, _ = _manifold_data()
    det = AEOutlierDetector(_small_ae(max_epochs=5, early_stopping=False), random_state=0).fit(X)
    estimator, center = det.estimator_, det.center_
    det.partial_fit(X[:100])
    assert det.estimator_.n_epochs_ == 6
    assert det.center_ is center
    before = dict(vars(det))
    bad = X[:100].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        det.partial_fit(bad)
    assert vars(det) == before
    assert estimator.n_epochs_ == 5  # the fitted model of fit was not trained in place


def test_partial_fit_over_chunks_detects_planted_outliers():
    """Check that epochs of partial_fit over chunks learn a detector that
    ranks the planted outliers as fit does."""
    X, y = _manifold_data(n_inliers=400, n_outliers=20)
    det = AEOutlierDetector(_small_ae(), random_state=0)
    for _ in range(30):
        for chunk in np.array_split(X, 4):
            det.partial_fit(chunk)
    assert roc_auc_score(y, -det.score_samples(X)) > 0.95


def test_default_training_work_stops_growing_past_epoch_rows():
    """Check that the default autoencoder makes 20 passes over small data and,
    past 8,192 rows, as many as make 20 passes over 8,192 rows (at least 2),
    and that the training scores behind offset_, computed chunk by chunk,
    are those of score_samples."""
    from skae.outlier import _default_params

    epochs = {n: _default_params(4, n)["max_epochs"] for n in (100, 8192, 16385, 10**6)}
    assert epochs == {100: 20, 8192: 20, 16385: 10, 10**6: 2}
    assert _default_params(4)["max_epochs"] == 20
    X = np.random.default_rng(0).normal(size=(16385, 3))
    det = AEOutlierDetector(contamination=0.1, random_state=0).fit(X)
    assert det.estimator_.n_epochs_ == 10
    # 16,385 rows are scored in several chunks at fit
    assert det.offset_ == np.percentile(det.score_samples(X), 10.0)


def test_fit_holds_one_scaled_copy_of_the_data():
    """Check that fit scales and clips the training data in one copy: the
    NumPy memory it allocates at its peak is about one input's worth (the
    scaled copy), not the three of scaling, clipping and a float32 copy."""
    import tracemalloc

    X = np.random.default_rng(0).normal(size=(20000, 50)).astype(np.float32)
    det = AEOutlierDetector(_small_ae(max_epochs=1), random_state=0)
    det.fit(X[:500])  # torch's one-time initialisation
    tracemalloc.start()
    try:
        det.fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.6 * X.nbytes  # measured 1.22; 2.22 before
