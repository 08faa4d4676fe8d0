"""Tests of AutoEncoderClassifier and AutoEncoderRegressor."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skae import AutoEncoderClassifier, AutoEncoderRegressor
from skae._data import ArrayDataset
from skae.modules import MLPDecoder, MLPEncoder
from skae.likelihoods import Gaussian
from skae.modules.supervised import SupervisedModel, masked_mean_terms
from skae.supervised import _SemiSupervisedSplit


def _small(cls=AutoEncoderClassifier, **params):
    defaults = dict(n_components=8, hidden_layer_sizes=(32,), pretraining_epochs=3,
                    max_epochs=3, batch_size=128, random_state=0)
    return cls(**{**defaults, **params})


@pytest.fixture(scope="module")
def few_labels(digits_split):
    """Digits scaled to [0, 1] with 5 labels per class, the rest -1."""
    X_train, X_test, y_train, y_test = digits_split
    rng = np.random.RandomState(0)
    y_few = np.full_like(y_train, -1)
    for c in range(10):
        y_few[rng.choice(np.flatnonzero(y_train == c), 5, replace=False)] = c
    return X_train / 16, y_few, X_test / 16, y_test


def test_unlabelled_rows_are_never_a_class(few_labels):
    """Check that -1 is not a class: not in classes_, never predicted, no
    column of predict_proba."""
    X, y_few, X_test, _ = few_labels
    clf = _small().fit(X, y_few)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert -1 not in set(clf.predict(np.vstack([X, X_test])))
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(np.log(proba), clf.predict_log_proba(X_test), atol=1e-4)


def test_unlabelled_rows_change_the_pretrained_encoder(few_labels):
    """Check that the unlabelled rows train the encoder: the same labelled
    rows with other unlabelled rows give other codes, before fine-tuning
    too (the pretraining's history differs)."""
    X, y_few, X_test, _ = few_labels
    labelled = y_few != -1
    other = X.copy()
    other[~labelled] = X[~labelled][:, ::-1]  # mirrored unlabelled images
    a = _small(pseudo_labels=False).fit(X, y_few)
    b = _small(pseudo_labels=False).fit(other, y_few)
    assert not np.allclose(a.pretraining_history_[0][:, "train_loss"],
                           b.pretraining_history_[0][:, "train_loss"])
    assert not np.allclose(a.transform(X_test), b.transform(X_test))
    # Labelled rows alone (no -1 at all) train too: a plain classifier.
    c = _small(pseudo_labels=False, max_epochs=20, batch_size=16, lr=1e-2).fit(
        X[labelled], y_few[labelled]
    )
    assert c.score(X[labelled], y_few[labelled]) > 0.5


def _hidden_blobs(n=600, seed=0):
    """Four classes of a 2-D latent variable, seen through a nonlinear map
    into 10 features beside 90 features of pure noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    latent = np.array([[2, 0], [-2, 0], [0, 2], [0, -2]])[y] + 0.6 * rng.normal(size=(n, 2))
    signal = np.tanh(latent @ rng.normal(size=(2, 10)) / 2)
    return np.c_[signal, 0.5 * rng.normal(size=(n, 90))].astype(np.float32), y


def test_pretraining_beats_random_initialisation_with_few_labels():
    """Check that pretraining on all rows lowers the fine-tuned test error
    of the same network against random initialisation, with two labels per
    class: the autoencoder's code finds the latent variable among the noise
    features, where eight labels alone cannot."""
    X, y = _hidden_blobs()
    y_few = np.full(300, -1)
    for c in range(4):
        y_few[np.flatnonzero(y[:300] == c)[:2]] = c
    params = dict(n_components=2, hidden_layer_sizes=(32,), noise=None, pseudo_labels=False,
                  consistency_weight=0.0, reconstruction_weight=0.0, pretraining_epochs=40, max_epochs=20,
                  freeze_epochs=15, batch_size=32, lr=3e-3)
    scores = {
        pretraining: np.mean([
            _small(pretraining=pretraining, random_state=seed, **params)
            .fit(X[:300], y_few).score(X[300:], y[300:])
            for seed in range(2)
        ])
        for pretraining in ("joint", None)
    }
    assert scores["joint"] > scores[None] + 0.2


def test_string_labels_and_transform_in_a_pipeline(few_labels):
    """Check that string classes work when every row is labelled, and that
    the fine-tuned codes feed another estimator in a Pipeline."""
    X, y_few, X_test, y_test = few_labels
    labelled = y_few != -1
    names = np.array(list("abcdefghij"))
    clf = _small(max_epochs=10).fit(X[labelled], names[y_few[labelled]])
    assert set(clf.predict(X_test)) <= set(names)
    pipe = make_pipeline(_small(), LogisticRegression(max_iter=200))
    pipe.fit(X[labelled], y_few[labelled])
    assert pipe[0].transform(X_test).shape == (len(X_test), 8)
    assert pipe.predict(X_test).shape == y_test.shape


@pytest.mark.parametrize(
    "y, match",
    [
        (np.full(60, -1), "every row of y is -1"),
        (np.r_[np.zeros(10, int), np.full(50, -1)], "at least 2 classes"),
        (np.array(["a", "b", -1] * 20, dtype=object), "mixes string labels with -1"),
        (np.array(["a", "b", "-1"] * 20), "mixes string labels with -1"),
        (np.zeros(59, int), "y has 59 rows but X has 60"),
        (np.linspace(0, 1, 60), "Unknown label type"),
    ],
)
def test_bad_labels_are_clear_errors(y, match):
    """Check the errors for unusable labels."""
    X = np.random.default_rng(0).random((60, 5))
    with pytest.raises(ValueError, match=match):
        _small().fit(X, y)


def test_regressor_bad_targets_are_clear_errors():
    """Check that NaN targets and wrong lengths are refused clearly."""
    X = np.random.default_rng(0).normal(size=(60, 5))
    y = X[:, 0].copy()
    y[3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite values at rows \\[3\\]"):
        _small(AutoEncoderRegressor).fit(X, y)
    with pytest.raises(ValueError, match="y has 10 rows but X has 60"):
        _small(AutoEncoderRegressor).fit(X, y[:10])


def test_regressor_learns_a_nonlinear_target():
    """Check that the regressor fits a smooth function of data on a
    curve, in the targets' own units, and predicts 2-D targets."""
    rng = np.random.default_rng(0)
    t = rng.uniform(-2, 2, 400)
    X = np.c_[np.cos(t), np.sin(t), t, t**2] + 0.01 * rng.normal(size=(400, 4))
    y = 100 + 30 * np.sin(2 * t)
    reg = _small(AutoEncoderRegressor, n_components=2, max_epochs=150,
                 noise=None).fit(X[:300], y[:300])
    assert reg.score(X[300:], y[300:]) > 0.9
    Y = np.c_[y, -y]
    reg2 = _small(AutoEncoderRegressor, noise=None).fit(X, Y)
    assert reg2.predict(X).shape == (400, 2)


def test_validation_split_holds_out_labelled_rows_stratified():
    """Check the stratified split of the labelled rows: unlabelled rows
    all train, the held-out rows are labelled with every class, and the
    labelled training rows are repeated to a quarter of an epoch."""
    y = np.full(1000, -1)
    y[:100] = np.repeat(np.arange(10), 10)
    dataset = ArrayDataset(np.zeros((1000, 1), dtype=np.float32), y)
    train, valid = _SemiSupervisedSplit(0.2, 0, stratify=True)(dataset)
    held_out = y[valid.indices]
    assert (held_out >= 0).all() and np.bincount(held_out).tolist() == [2] * 10
    assert set(np.flatnonzero(y < 0)) <= set(train.indices)
    assert not set(valid.indices) & set(train.indices)
    labelled_share = np.mean(y[train.indices] >= 0)
    assert 0.25 <= labelled_share < 0.3


def test_early_stopping_monitors_held_out_labels(few_labels):
    """Check that early stopping records a validation loss and restores
    the best epoch's weights."""
    X, y_few, _, _ = few_labels
    # A large step size overfits the 40 labelled training rows quickly.
    clf = _small(early_stopping=True, validation_fraction=0.2, max_epochs=30,
                 n_iter_no_change=2, lr=3e-2).fit(X, y_few)
    valid = clf.history_[:, "valid_loss"]
    assert len(valid) < 30 and np.isfinite(valid).all()


def test_freeze_epochs_keep_the_pretrained_encoder(few_labels):
    """Check that skorch's Freezer keeps the encoder at its pretrained
    weights during the first freeze_epochs: two fine-tunings with other
    objectives share the encoder but not the head."""
    X, y_few, _, _ = few_labels
    a = _small(freeze_epochs=3).fit(X, y_few)
    b = _small(freeze_epochs=3, pseudo_labels=False).fit(X, y_few)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert not np.allclose(a.predict_proba(X), b.predict_proba(X))
    c = _small(freeze_epochs=1).fit(X, y_few)
    assert not np.allclose(a.transform(X), c.transform(X))


def test_masked_mean_terms_average_over_the_mask():
    """Check the per-sample terms whose batch mean is the masked mean."""
    values = torch.tensor([1.0, 2.0, 3.0, 10.0])
    mask = torch.tensor([True, False, True, False])
    assert float(masked_mean_terms(values, mask).mean()) == pytest.approx(2.0)
    assert float(masked_mean_terms(values, torch.zeros(4, dtype=bool)).mean()) == 0.0


def _kl_rows(model, x, r):
    """KL divergence of the class probabilities at ``x + r`` from those at
    ``x``, row by row, by torch.distributions."""
    with torch.no_grad():
        p = torch.distributions.Categorical(logits=model.head(model.encoder(x)))
        q = torch.distributions.Categorical(logits=model.head(model.encoder(x + r)))
    return torch.distributions.kl_divergence(p, q)


def test_consistency_term_is_the_divergence_of_a_worst_case_perturbation():
    """Check the virtual adversarial term: zero in evaluation mode and
    without perturbation; in training, the divergence at a perturbation of
    the stated length that is far worse than random perturbations of that
    length (one power iteration finds the most sensitive direction)."""
    torch.manual_seed(0)
    model = SupervisedModel(MLPEncoder(50, (16,), 3), MLPDecoder(3, (16,), 50),
                            torch.nn.Linear(3, 4), Gaussian(), perturbation=0.3)
    x = torch.randn(64, 50)
    y = torch.full((64,), -1)
    model.train()
    terms = model(x, y)
    radius = 0.3 * x.pow(2).sum(dim=1).mean().sqrt()
    random = torch.stack([
        _kl_rows(model, x, radius * (d / d.norm(dim=1, keepdim=True)))
        for d in torch.randn(20, 64, 50)
    ])
    # In 50 dimensions the worst direction of a row is worse than the
    # worst of 20 random ones (for nearly every row: ReLU kinks), and far
    # worse than their mean.
    assert (terms.consistency > random.max(dim=0).values).float().mean() > 0.9
    assert terms.consistency.mean() > 3 * random.mean()
    # Its gradient reaches the network (the perturbation itself is fixed).
    terms.consistency.mean().backward()
    assert model.head.weight.grad.abs().sum() > 0
    model.eval()
    assert float(model(x, y).consistency.abs().sum()) == 0.0
    model.train()
    model.perturbation = 0.0
    assert float(model(x, y).consistency.abs().sum()) == 0.0


def test_batch_size_auto_gives_small_data_more_steps(few_labels):
    """Check that batch_size="auto" takes n_samples // 40 rows within
    [32, 128] for both stages, and that an integer is kept."""
    X, y_few, _, _ = few_labels
    clf = _small(pretraining_epochs=1, max_epochs=1, batch_size="auto").fit(X, y_few)
    assert clf.net_.batch_size == max(32, len(X) // 40)
    assert clf._batch_size(100_000) == 128 and clf._batch_size(100) == 32
    assert _small(batch_size=50).fit(X, y_few).net_.batch_size == 50
