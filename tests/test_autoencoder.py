"""AutoEncoderTransformer: the scikit-learn contract and what it is for."""

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from skorch.callbacks import Callback
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skae import AutoEncoderTransformer

FAST = dict(hidden_layer_sizes=(16,), max_epochs=5, random_state=0)


# ----------------------------------------------------------------------
# What it is for
# ----------------------------------------------------------------------
def test_beats_pca_reconstruction_on_digits(digits_split):
    """Check that at 8 components the trained autoencoder reconstructs held-out
    digits better than PCA, its linear special case (measured: PCA 6.3, AE 4.1
    mean squared error per pixel)."""
    X_train, X_test, _, _ = digits_split
    pca = PCA(n_components=8).fit(X_train)
    ae = AutoEncoderTransformer(n_components=8, random_state=0).fit(X_train)
    err_pca = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
    err_ae = np.mean((ae.inverse_transform(ae.transform(X_test)) - X_test) ** 2)
    assert err_ae < 0.9 * err_pca


@pytest.mark.parametrize("loader", [load_digits, load_breast_cancer])
def test_pipeline_without_scaler_classifies_as_well_as_with_one(loader):
    """Check that raw features (digits 0..16, breast cancer 0.001..4000) need no
    scaler in front: internal standardisation makes the pipeline as good as
    one with StandardScaler, and much better than without standardisation
    (measured: digits 0.71 vs 0.20, breast cancer 0.94 vs 0.63)."""
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)

    def accuracy(*steps, **ae_params):
        pipe = Pipeline(
            [*steps, ("ae", AutoEncoderTransformer(random_state=0, **ae_params)),
             ("clf", LogisticRegression(max_iter=2000))]
        )
        return pipe.fit(X_train, y_train).score(X_test, y_test)

    raw = accuracy()
    scaled = accuracy(("scale", StandardScaler()))
    unstandardised = accuracy(standardize=False)
    assert raw >= scaled - 0.02
    assert raw > unstandardised + 0.15
    # 2-D codes: ~0.71 on digits (10 classes), ~0.94 on breast cancer.
    assert raw > (0.6 if loader is load_digits else 0.9)


def test_embedding_separates_classes_better_than_pca_2d(digits_split):
    """Check that the 2-D code is a useful embedding without tuning: a linear
    classifier on it beats one on PCA's 2-D projection."""
    X_train, X_test, y_train, y_test = digits_split
    clf = LogisticRegression(max_iter=2000)
    ae = AutoEncoderTransformer(n_components=2, random_state=0).fit(X_train)
    pca = PCA(n_components=2).fit(X_train)
    acc_ae = clf.fit(ae.transform(X_train), y_train).score(ae.transform(X_test), y_test)
    acc_pca = clf.fit(pca.transform(X_train), y_train).score(pca.transform(X_test), y_test)
    assert acc_ae > acc_pca


# ----------------------------------------------------------------------
# The scikit-learn contract
# ----------------------------------------------------------------------
def test_works_in_pipeline_with_scaler_and_classifier(digits_split):
    """Check the pipeline of the issue: MinMaxScaler, autoencoder, classifier."""
    X_train, X_test, y_train, y_test = digits_split
    pipe = Pipeline([("scale", MinMaxScaler()), ("ae", AutoEncoderTransformer(n_components=8, **FAST)),
                     ("clf", LogisticRegression(max_iter=500))])
    assert pipe.fit(X_train, y_train).score(X_test, y_test) > 0.5


def test_grid_search_in_parallel(digits_split):
    """Check GridSearchCV over n_components and hidden_layer_sizes, n_jobs=2."""
    X_train, _, y_train, _ = digits_split
    pipe = Pipeline([("ae", AutoEncoderTransformer(max_epochs=2, random_state=0)),
                     ("clf", LogisticRegression(max_iter=300))])
    grid = GridSearchCV(pipe, {"ae__n_components": [2, 8], "ae__hidden_layer_sizes": [(16,), (32, 16)]},
                        cv=2, n_jobs=2).fit(X_train[:200], y_train[:200])
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_estimator_.named_steps["ae"].n_components_ in (2, 8)


def test_clone_gives_unfitted_copy_with_same_params(blobs):
    ae = AutoEncoderTransformer(n_components=3, **FAST).fit(blobs)
    copy = clone(ae)
    assert copy.get_params() == ae.get_params()
    assert not hasattr(copy, "net_")


def test_joblib_round_trip_gives_identical_transform(blobs, tmp_path):
    """Check that a pickled and unpickled estimator encodes identically."""
    ae = AutoEncoderTransformer(n_components=3, **FAST).fit(blobs)
    path = tmp_path / "ae.joblib"
    joblib.dump(ae, path)
    np.testing.assert_array_equal(joblib.load(path).transform(blobs), ae.transform(blobs))


def test_set_output_pandas_uses_feature_names_out(blobs):
    ae = AutoEncoderTransformer(n_components=3, **FAST).set_output(transform="pandas")
    out = ae.fit_transform(pd.DataFrame(blobs, columns=[f"c{i}" for i in range(10)]))
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["autoencodertransformer0", "autoencodertransformer1", "autoencodertransformer2"]
    assert list(ae.get_feature_names_out()) == list(out.columns)
    assert list(ae.feature_names_in_) == [f"c{i}" for i in range(10)]


def test_same_seed_same_codes_different_seed_different_codes(blobs):
    a = AutoEncoderTransformer(n_components=2, **FAST).fit_transform(blobs)
    b = AutoEncoderTransformer(n_components=2, **FAST).fit_transform(blobs)
    c = AutoEncoderTransformer(n_components=2, **{**FAST, "random_state": 1}).fit_transform(blobs)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_leaves_global_rng_state_alone(blobs):
    """Check that seeding is private: torch's and NumPy's global generators
    are where the caller left them."""
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    AutoEncoderTransformer(n_components=2, **FAST).fit(blobs)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)


def test_callers_array_is_not_modified(blobs):
    X = blobs.copy()
    ae = AutoEncoderTransformer(n_components=2, **FAST).fit(X)
    ae.transform(X)
    ae.score_samples(X)
    np.testing.assert_array_equal(X, blobs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_keep_the_input_float_dtype(blobs, dtype):
    X = blobs.astype(dtype)
    ae = AutoEncoderTransformer(n_components=2, **FAST).fit(X)
    Z = ae.transform(X)
    assert Z.dtype == dtype
    assert ae.inverse_transform(Z).dtype == dtype
    assert ae.score_samples(X).dtype == dtype


def test_prediction_in_batches_matches_one_pass(blobs, monkeypatch):
    """Check that transform gives the same codes whatever the batch size used
    to run the network, so memory can stay that of one batch."""
    import skae._base

    ae = AutoEncoderTransformer(n_components=2, **FAST).fit(blobs)
    whole = ae.transform(blobs)
    monkeypatch.setattr(skae._base, "_PREDICT_BATCH_SIZE", 7)
    np.testing.assert_allclose(ae.transform(blobs), whole, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_score_samples_is_the_log_density_of_the_raw_data(blobs, loss):
    """Check score_samples against torch.distributions: the log-density, in
    nats of the raw data, of independent Gaussian (Laplace) features centred
    on the reconstruction, with scale noise_scale_ * scale_ (the fitted
    noise scale, in standardised units, times each feature's scale), and
    noise_scale_ against its maximum-likelihood value on the training data."""
    ae = AutoEncoderTransformer(n_components=2, loss=loss, **FAST).fit(blobs)
    rebuilt = torch.tensor(ae.inverse_transform(ae.transform(blobs)))
    residual = (blobs - rebuilt.numpy()) / ae.scale_
    mle = np.sqrt(np.mean(residual**2)) if loss == "mse" else np.mean(np.abs(residual))
    assert ae.noise_scale_ == pytest.approx(mle, rel=1e-5)
    dist = torch.distributions.Normal if loss == "mse" else torch.distributions.Laplace
    scale = torch.tensor(ae.noise_scale_ * ae.scale_)
    expected = dist(rebuilt, scale).log_prob(torch.tensor(blobs)).sum(1).numpy()
    np.testing.assert_allclose(ae.score_samples(blobs), expected, rtol=1e-5)
    assert ae.score(blobs) == pytest.approx(expected.mean(), rel=1e-5)


def test_scores_compare_losses_and_scalings_in_a_grid_search():
    """Check that score is comparable across loss and standardize: on data
    with Gaussian noise the search picks loss='mse', on data with Laplace
    noise loss='mae', and both pick the scaling in which the noise is
    isotropic (the raw units here)."""
    rng = np.random.default_rng(0)
    Z, W = rng.normal(size=(600, 2)), rng.normal(size=(2, 12))
    grid = {"loss": ["mse", "mae"], "standardize": [True, False]}
    for noise, expected in [(rng.normal, "mse"), (rng.laplace, "mae")]:
        E = noise(size=(600, 12)) * (0.3 if expected == "mse" else 0.3 / np.sqrt(2))
        X = np.tanh(Z @ W) + E
        est = AutoEncoderTransformer(2, hidden_layer_sizes=(32,), max_epochs=60, random_state=0)
        search = GridSearchCV(est, grid, cv=3).fit(X)
        assert search.best_params_ == {"loss": expected, "standardize": False}


def test_absolute_error_loss_resists_gross_outliers():
    """Check that loss='mae' fits the bulk of contaminated data where
    loss='mse' is pulled towards 5% of gross outliers: clean held-out
    samples near a plane are rebuilt several times better."""
    basis = np.linalg.qr(np.random.default_rng(42).normal(size=(6, 2)))[0].T

    def plane(n, seed):
        rng = np.random.default_rng(seed)
        return rng.normal(size=(n, 2)) @ basis + 0.05 * rng.normal(size=(n, 6))

    outliers = 8 * np.random.default_rng(1).standard_normal(size=(15, 6))
    X_train, X_test = np.vstack([plane(300, 0), outliers]), plane(300, 1)
    error = {}
    for loss in ("mse", "mae"):
        ae = AutoEncoderTransformer(
            n_components=2, hidden_layer_sizes=(16,), loss=loss, standardize=False,
            max_epochs=100, early_stopping=False, random_state=0,
        ).fit(X_train)
        rebuilt = ae.inverse_transform(ae.transform(X_test))
        error[loss] = np.median(np.abs(rebuilt - X_test))
    assert error["mse"] > 2 * error["mae"]  # measured 3.5 to 5.7 times over 3 seeds


def test_bce_loss_uses_sigmoid_decoder(digits_split):
    """Check that loss='bce' trains on [0, 1] data and decodes into [0, 1]."""
    X = digits_split[0] / 16.0
    ae = AutoEncoderTransformer(n_components=4, loss="bce", **FAST).fit(X)
    assert ae.mean_ is None  # 'auto' does not standardise for bce
    rebuilt = ae.inverse_transform(ae.transform(X))
    assert rebuilt.min() >= 0.0 and rebuilt.max() <= 1.0


# ----------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------
def test_history_records_train_and_validation_loss(blobs):
    ae = AutoEncoderTransformer(n_components=2, **FAST).fit(blobs)
    assert ae.n_epochs_ == len(ae.history_) == 5
    assert len(ae.history_[:, "train_loss"]) == 5
    assert len(ae.history_[:, "valid_loss"]) == 5


def test_training_loss_decreases(digits_split):
    """Check that the net learns: the loss at least halves over training."""
    ae = AutoEncoderTransformer(n_components=8, max_epochs=30, early_stopping=False, random_state=0)
    ae.fit(digits_split[0])
    losses = ae.history_[:, "train_loss"]
    assert losses[-1] < 0.5 * losses[0]


def test_early_stopping_stops_and_restores_best_epoch(blobs):
    """Check that training stops after n_iter_no_change epochs without
    improvement and that the kept weights are those of the best epoch."""

    class RecordValidRows(Callback):
        def on_epoch_begin(self, net, dataset_valid=None, **kwargs):
            self.rows = dataset_valid.indices

    ae = AutoEncoderTransformer(n_components=2, hidden_layer_sizes=(16,), max_epochs=500,
                                lr=1e-2, n_iter_no_change=3, random_state=0,
                                callbacks=[("rows", RecordValidRows())]).fit(blobs)
    valid = np.array(ae.history_[:, "valid_loss"])
    assert ae.n_epochs_ < 500
    best = int(np.argmin(valid))
    assert ae.n_epochs_ - 1 - best >= 3
    # Recompute the validation loss of the kept weights on the held-out rows.
    net = ae.net_
    X_valid = torch.tensor(blobs[dict(net.callbacks_)["rows"].rows], dtype=torch.float32)
    with torch.no_grad():
        loss = net.get_loss(net.infer(X_valid), None, X=X_valid, training=False).item()
    assert loss == pytest.approx(valid[best], rel=1e-5)


def test_early_stopping_off_runs_max_epochs(blobs):
    ae = AutoEncoderTransformer(n_components=2, **{**FAST, "max_epochs": 4}, early_stopping=False).fit(blobs)
    assert ae.n_epochs_ == 4
    assert "valid_loss" not in ae.history_[-1]


def test_verbose_prints_skorch_epoch_table(blobs, capsys):
    AutoEncoderTransformer(n_components=2, **FAST, verbose=1).fit(blobs)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out and "dur" in out


def test_verbose_zero_prints_nothing(blobs, capsys):
    AutoEncoderTransformer(n_components=2, **FAST).fit(blobs)
    assert capsys.readouterr().out == ""


def test_user_callbacks_run_and_are_not_mutated(blobs):
    """Check that skorch callbacks given by the user are called each epoch,
    on a copy, so the parameter stays as given."""

    class CountEpochs(Callback):
        def __init__(self):
            self.count = 0

        def on_epoch_end(self, net, **kwargs):
            self.count += 1

    counter = CountEpochs()
    ae = AutoEncoderTransformer(n_components=2, **FAST, callbacks=[counter]).fit(blobs)
    assert counter.count == 0
    used = dict(ae.net_.callbacks_)["CountEpochs"]
    assert used.count == ae.n_epochs_


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "rmsprop", torch.optim.Adagrad])
def test_optimizer_choices(blobs, optimizer):
    ae = AutoEncoderTransformer(n_components=2, **FAST, optimizer=optimizer, weight_decay=1e-4).fit(blobs)
    opt = ae.net_.optimizer_
    expected = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
                "rmsprop": torch.optim.RMSprop}.get(optimizer, optimizer)
    assert type(opt) is expected
    assert opt.param_groups[0]["weight_decay"] == 1e-4


def test_runs_on_each_available_device(blobs, device):
    ae = AutoEncoderTransformer(n_components=2, **FAST, device=device).fit(blobs)
    assert next(ae.net_.module_.parameters()).device.type == device
    Z = ae.transform(blobs)
    assert isinstance(Z, np.ndarray) and Z.shape == (120, 2)


# ----------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[1.0, np.nan, 0.0]] * 5), "Input X contains NaN"),
        (np.array([[1.0, np.inf, 0.0]] * 5), "Input X contains infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.arange(6.0), "Expected 2D array, got 1D array instead"),
        (np.array([["a", "b", "c"]] * 5), "could not convert string to float"),
    ],
)
def test_bad_training_data_raises_clear_value_error(X, match):
    with pytest.raises(ValueError, match=match):
        AutoEncoderTransformer(n_components=1, **FAST).fit(X)


def test_wrong_number_of_features_at_transform(blobs):
    ae = AutoEncoderTransformer(n_components=2, **FAST).fit(blobs)
    with pytest.raises(ValueError, match="X has 9 features, but AutoEncoderTransformer is expecting 10"):
        ae.transform(blobs[:, :9])
    with pytest.raises(ValueError, match="X has 3 features, but codes of this estimator have n_components=2"):
        ae.inverse_transform(np.zeros((4, 3)))


def test_code_as_wide_as_the_input_warns(blobs):
    """Check that n_components >= n_features fits (as PCA accepts
    n_components == n_features) but warns that the code can copy the input."""
    with pytest.warns(UserWarning, match="n_components=10 is not smaller than n_features=10"):
        ae = AutoEncoderTransformer(n_components=10, **FAST).fit(blobs)
    assert ae.transform(blobs).shape == (120, 10)


def test_bce_on_data_outside_unit_interval(blobs):
    msg = r"loss='bce' needs data in \[0, 1\], but X ranges from -.*use loss='mse'"
    with pytest.raises(ValueError, match=msg):
        AutoEncoderTransformer(n_components=2, loss="bce", **FAST).fit(blobs)


def test_bce_with_forced_standardisation(digits_split):
    with pytest.raises(ValueError, match="standardize=True moves data out of"):
        AutoEncoderTransformer(loss="bce", standardize=True, **FAST).fit(digits_split[0] / 16)


def test_diverging_loss_stops_with_epoch_and_lr_advice(blobs):
    with pytest.raises(ValueError, match=r"training diverged, the (train|valid) loss became (nan|inf) at epoch 1\. "
                                         r"Try a lower learning rate \(lr=1e\+30\)"):
        AutoEncoderTransformer(n_components=2, **FAST, optimizer="sgd", lr=1e30).fit(blobs)


def test_sparse_input_is_refused_with_type_error(blobs):
    with pytest.raises(TypeError, match="Sparse data was passed"):
        AutoEncoderTransformer(n_components=2, **FAST).fit(sp.csr_matrix(blobs))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA, so it is available")
def test_unavailable_device(blobs):
    with pytest.raises(ValueError, match="device='cuda' was requested but CUDA is not available"):
        AutoEncoderTransformer(n_components=2, **FAST, device="cuda").fit(blobs)


def test_unknown_device_string(blobs):
    with pytest.raises(ValueError, match="device='gpu0' is not a valid torch device"):
        AutoEncoderTransformer(n_components=2, **FAST, device="gpu0").fit(blobs)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"lr": -1.0}, "The 'lr' parameter of AutoEncoderTransformer must be a float in the range"),
        ({"activation": "swish"}, "The 'activation' parameter of AutoEncoderTransformer must be a str among"),
        ({"hidden_layer_sizes": (16, 0)}, "hidden_layer_sizes must be a tuple of positive ints"),
        ({"validation_fraction": 1.5}, "The 'validation_fraction' parameter"),
        ({"optimizer": "lbfgs"}, "The 'optimizer' parameter"),
    ],
)
def test_bad_parameters_are_named_in_the_error(blobs, params, match):
    with pytest.raises(ValueError, match=match):
        AutoEncoderTransformer(n_components=2, **{**FAST, **params}).fit(blobs)


def test_unfitted_estimator_says_so(blobs):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        AutoEncoderTransformer().transform(blobs)
