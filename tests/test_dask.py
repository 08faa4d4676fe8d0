"""Dask: training over the blocks of a dask.array or a Dask DataFrame with
dask-ml's ``Incremental``, prediction on the workers with ``ParallelPostFit``
(models pickled to worker processes), and hyperparameter search under
joblib's dask backend, on an in-process ``distributed.LocalCluster``."""

import numpy as np
import pytest

_REASON = "the dask extra is not installed (pip install 'skae[dask]')"
da = pytest.importorskip("dask.array", reason=_REASON)
dd = pytest.importorskip("dask.dataframe", reason=_REASON)
distributed = pytest.importorskip("distributed", reason=_REASON)
wrappers = pytest.importorskip("dask_ml.wrappers", reason=_REASON)

import os  # noqa: E402

import joblib  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.stats import loguniform  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV  # noqa: E402

from skae import (  # noqa: E402
    AEOutlierDetector,
    AutoEncoderTransformer,
    ContractiveAE,
    DenoisingAE,
    VAETransformer,
)

Incremental, ParallelPostFit = wrappers.Incremental, wrappers.ParallelPostFit

FAST = dict(n_components=2, hidden_layer_sizes=(8,), max_epochs=2, random_state=0)
ESTIMATORS = [
    AutoEncoderTransformer(**FAST),
    DenoisingAE(**FAST, n_noise_samples=2),
    ContractiveAE(**FAST),
    VAETransformer(**FAST, n_importance_samples=4),
    AEOutlierDetector(AutoEncoderTransformer(**FAST), contamination=0.1, random_state=0),
]
IDS = ["ae", "dae", "cae", "vae", "detector"]
N_BLOCKS, BLOCK = 4, 60


@pytest.fixture(scope="module")
def client():
    """A cluster of threads in this process: quick to start."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def data():
    """Inliers with a 2-D structure in 6 features, and shifted outliers
    (the last tenth of the rows)."""
    rng = np.random.default_rng(0)
    n = N_BLOCKS * BLOCK
    X = np.tanh(rng.normal(size=(n, 2)) @ rng.normal(size=(2, 6))) + 0.1 * rng.normal(size=(n, 6))
    y = np.zeros(n, dtype=int)
    y[-n // 10 :] = 1
    X[y == 1] += 3.0
    order = rng.permutation(n)
    return X[order].astype(np.float32), y[order]


def _outputs(est, X):
    """What a fitted estimator computes: codes and scores."""
    if isinstance(est, AEOutlierDetector):
        return est.score_samples(X), est.decision_function(X)
    return est.transform(X), est.score_samples(X)


def _incremental(estimator, **params):
    """Incremental(estimator): a detector has no ``score`` (as IsolationForest),
    and Incremental wants a scorer: accuracy of predict's labels, +1
    (inlier) and -1 (outlier)."""
    if isinstance(estimator, AEOutlierDetector):
        params.setdefault("scoring", "accuracy")
    return Incremental(clone(estimator), **params)


def _sequential(estimator, blocks):
    est = clone(estimator)
    for block in blocks:
        est.partial_fit(block)
    return est


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_incremental_trains_as_partial_fit_over_the_blocks(estimator, data, client):
    """Check that Incremental on a dask.array trains, on the cluster, the
    model that partial_fit over the same blocks in the same order trains in
    this process: one epoch per block, the same weights."""
    X, _ = data
    Xd = da.from_array(X, chunks=(BLOCK, -1))
    inc = _incremental(estimator, shuffle_blocks=False).fit(Xd)
    ref = _sequential(estimator, np.split(X, N_BLOCKS))
    fitted = inc.estimator_
    inner = fitted.estimator_ if isinstance(fitted, AEOutlierDetector) else fitted
    assert inner.n_epochs_ == N_BLOCKS
    for got, expected in zip(_outputs(fitted, X), _outputs(ref, X)):
        np.testing.assert_array_equal(got, expected)


def test_incremental_shuffles_the_blocks_with_its_random_state(data, client):
    """Check that with shuffle_blocks=True the blocks are fed in the order
    that Incremental's random_state draws, reproducibly."""
    X, _ = data
    Xd = da.from_array(X, chunks=(BLOCK, -1))
    est = AutoEncoderTransformer(**FAST)
    first = Incremental(est, random_state=3).fit(Xd).estimator_.transform(X)
    again = Incremental(est, random_state=3).fit(Xd).estimator_.transform(X)
    order = list(range(N_BLOCKS))
    np.random.RandomState(3).shuffle(order)
    blocks = np.split(X, N_BLOCKS)
    ref = _sequential(est, [blocks[i] for i in order])
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, ref.transform(X))


def test_incremental_on_a_dask_dataframe_keeps_feature_names(data, client):
    """Check that Incremental trains on the partitions of a Dask DataFrame
    as partial_fit on the pandas chunks does, and that the model keeps the
    column names (pandas output included)."""
    X, _ = data
    columns = [f"f{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    ddf = dd.from_pandas(frame, npartitions=N_BLOCKS, sort=False)
    est = AutoEncoderTransformer(**FAST).set_output(transform="pandas")
    inc = Incremental(est, shuffle_blocks=False).fit(ddf)
    parts = [ddf.get_partition(i).compute() for i in range(N_BLOCKS)]
    ref = _sequential(est, parts)
    assert list(inc.estimator_.feature_names_in_) == columns
    codes = inc.transform(ddf).compute()
    assert list(codes.columns) == ["autoencodertransformer0", "autoencodertransformer1"]
    np.testing.assert_array_equal(codes.to_numpy(), ref.transform(frame).to_numpy())


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_parallel_post_fit_predicts_block_by_block(estimator, data, client):
    """Check that ParallelPostFit's transform (transformers) and predict
    (the detector), and score_samples mapped over the blocks, give on the
    workers what the model gives on the whole array in memory."""
    X, _ = data
    est = clone(estimator).fit(X)
    Xd = da.from_array(X, chunks=(BLOCK, -1))
    post = ParallelPostFit(est)
    method = "predict" if isinstance(est, AEOutlierDetector) else "transform"
    result = getattr(post, method)(Xd)
    assert isinstance(result, da.Array)
    np.testing.assert_array_equal(result.compute(), getattr(est, method)(X))
    scores = Xd.map_blocks(est.score_samples, drop_axis=1, dtype=X.dtype)
    np.testing.assert_allclose(scores.compute(), est.score_samples(X), rtol=1e-6)


def test_models_travel_to_worker_processes(data):
    """Check, with a worker in another process (every model pickled to it
    and back), that Incremental trains the detector as partial_fit does
    here, and that it labels and scores the outliers on the worker."""
    X, y = data
    est = ESTIMATORS[-1]
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as client:
        assert os.getpid() not in client.run(os.getpid).values()
        Xd = da.from_array(X, chunks=(BLOCK, -1))
        inc = _incremental(est, shuffle_blocks=False).fit(Xd)
        labels = inc.predict(Xd).compute()
        scores = Xd.map_blocks(inc.estimator_.score_samples, drop_axis=1, dtype=X.dtype).compute()
        truth = np.where(y == 1, -1, 1)
        accuracy = inc.score(Xd, da.from_array(truth, chunks=BLOCK))
    ref = _sequential(est, np.split(X, N_BLOCKS))
    np.testing.assert_array_equal(labels, ref.predict(X))
    assert accuracy == pytest.approx(np.mean(ref.predict(X) == truth))
    np.testing.assert_allclose(scores, ref.score_samples(X), rtol=1e-6)
    assert roc_auc_score(y, -scores) > 0.9


def _same_cv_results(a, b):
    assert [p for p in a["params"]] == [p for p in b["params"]]
    for key in a:
        if "test_score" in key or key.startswith("rank_"):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_grid_search_on_the_cluster_matches_n_jobs_1(data, client):
    """Check that GridSearchCV under joblib's dask backend gives the same
    cv_results_ (params, per-split scores, ranks) as n_jobs=1."""
    X, _ = data
    grid = {"n_components": [1, 3], "lr": [1e-3, 1e-2]}
    est = AutoEncoderTransformer(**{**FAST, "max_epochs": 3})
    local = GridSearchCV(est, grid, cv=3, n_jobs=1).fit(X)
    with joblib.parallel_backend("dask"):
        spread = GridSearchCV(est, grid, cv=3, n_jobs=-1).fit(X)
    _same_cv_results(spread.cv_results_, local.cv_results_)
    assert spread.best_params_ == local.best_params_


def test_randomized_search_on_the_cluster_matches_n_jobs_1(data, client):
    """Check that RandomizedSearchCV with a fixed random_state draws the
    same candidates under joblib's dask backend and scores them as n_jobs=1."""
    X, _ = data
    dists = {"lr": loguniform(1e-4, 1e-1), "n_components": [1, 2, 3]}
    est = VAETransformer(**FAST, n_importance_samples=4)
    local = RandomizedSearchCV(est, dists, n_iter=4, cv=2, random_state=0, n_jobs=1).fit(X)
    with joblib.parallel_backend("dask"):
        spread = RandomizedSearchCV(
            est, dists, n_iter=4, cv=2, random_state=0, n_jobs=-1
        ).fit(X)
    _same_cv_results(spread.cv_results_, local.cv_results_)
