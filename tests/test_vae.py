"""Tests of VAETransformer: what it is for, checked against exact densities."""


import joblib
import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline

from skae import VAETransformer

SMALL = dict(hidden_layer_sizes=(32,), early_stopping=False, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:500] / 16.0, y[:500]


@pytest.fixture(scope="module")
def trained(digits):
    X, _ = digits
    return VAETransformer(
        n_components=8, likelihood="bernoulli", max_epochs=15, n_importance_samples=20, **SMALL
    ).fit(X[:400])


# ----------------------------------------------------------------------
# A linear-Gaussian model, whose marginal is known: with decoder x = W z + b
# and noise variance s2, p(x) = N(b, W W^T + s2 I) and the posterior is
# N(A (x - b), Sigma) with Sigma = (I + W^T W / s2)^-1 and A = Sigma W^T / s2.
# ----------------------------------------------------------------------
def _linear_vae(
    X, W, b, s2, standardize, posterior_variance, n_importance_samples=10, random_state=0
):
    """A VAETransformer on X whose weights are then set by hand to the model."""
    p, d = W.shape
    vae = VAETransformer(
        n_components=d,
        hidden_layer_sizes=(),
        likelihood="gaussian",
        decoder_variance=s2,
        standardize=standardize,
        max_epochs=1,
        n_importance_samples=n_importance_samples,
        early_stopping=False,
        random_state=random_state,
    ).fit(X)
    Sigma = np.linalg.inv(np.eye(d) + W.T @ W / s2)
    A = Sigma @ W.T / s2
    module = vae.net_.module_
    with torch.no_grad():
        module.decoder.layers[0].weight.copy_(torch.tensor(W))
        module.decoder.layers[0].bias.copy_(torch.tensor(b))
        module.encoder.mu.weight.copy_(torch.tensor(A))
        module.encoder.mu.bias.copy_(torch.tensor(-A @ b))
        module.encoder.logvar.weight.zero_()
        module.encoder.logvar.bias.copy_(torch.tensor(np.log(posterior_variance(Sigma))))
    return vae


def _exact_log_density(vae, X, W, b, s2):
    """log p(x) of the original data: the network's N(b, C) mapped back
    through the standardisation x = mean_ + scale_ * x_s."""
    C = W @ W.T + s2 * np.eye(len(b))
    if vae.scale_ is None:
        return multivariate_normal(b, C).logpdf(X)
    D = np.diag(vae.scale_)
    return multivariate_normal(vae.mean_ + vae.scale_ * b, D @ C @ D).logpdf(X)


@pytest.fixture(scope="module")
def linear_data():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(5, 2))
    b = rng.normal(size=5)
    s2 = 0.3
    X = rng.multivariate_normal(b, W @ W.T + s2 * np.eye(5), size=300)
    # Shift and stretch the features so that standardisation matters.
    X = 3.0 * rng.normal(size=5) + np.exp(rng.normal(size=5)) * X
    return X, W, b, s2


@pytest.mark.parametrize("standardize", [False, True])
def test_score_samples_is_exact_with_the_exact_posterior(linear_data, standardize):
    """Check that score_samples equals the closed-form log-density (all
    constants and the standardisation's Jacobian included) when q(z|x) is
    the true posterior: the importance weights are then all p(x)."""
    X, W, b, s2 = linear_data
    # Orthogonal columns make the true posterior covariance diagonal.
    Q, _ = np.linalg.qr(W)
    W = Q * np.array([2.0, 0.7])
    vae = _linear_vae(X, W, b, s2, standardize, np.diag, n_importance_samples=3)
    exact = _exact_log_density(vae, X, W, b, s2)
    np.testing.assert_allclose(vae.score_samples(X), exact, rtol=0, atol=1e-5)
    assert vae.score(X) == pytest.approx(exact.mean(), abs=1e-5)


def test_importance_weighting_bounds_and_tightens_towards_exact(linear_data):
    """Check that, on average, ELBO <= IWAE(K) <= log p(x), that the gap
    shrinks as K grows and that large K is close to exact, for a mean-field
    posterior that cannot be exact (correlated true posterior)."""
    X, W, b, s2 = linear_data
    # The mean-field optimum: precisions = diagonal of the true precision.
    # Each random_state fixes other importance draws; the gaps are averaged
    # over five of them, since one set of draws scatters the K=1000 gap by
    # 0.006 nats (standard deviation; from -0.009 to 0.014 over twenty sets).
    gaps = {3: [], 30: [], 1000: []}
    elbo_gaps = []
    for seed in range(5):
        vae = _linear_vae(
            X, W, b, s2, True, lambda S: 1.0 / np.diag(np.linalg.inv(S)), random_state=seed
        )
        exact = _exact_log_density(vae, X, W, b, s2).mean()
        for K in gaps:
            gaps[K].append(exact - vae.set_params(n_importance_samples=K).score(X))
        elbo_gaps.append(exact - vae.elbo_terms(X).elbo.mean())
    gaps = {K: np.mean(g) for K, g in gaps.items()}
    elbo_gap = np.mean(elbo_gaps)
    # Means over twenty sets of draws: ELBO 0.27, K=3 0.15, K=30 0.04,
    # K=1000 0.004 nats below exact; the bounds on K=1000 are 3.5 standard
    # deviations of a five-set mean away.
    assert elbo_gap > gaps[3] + 0.05
    assert gaps[3] > gaps[30] + 0.03
    assert gaps[30] > gaps[1000] > -0.005
    assert gaps[1000] < 0.015


def test_sample_draws_from_the_model(linear_data):
    """Check that samples with observation noise have the model's mean
    mean_ + scale_ * b and covariance D (W W^T + s2 I) D, and decoder means
    the covariance D W W^T D, in the original units."""
    X, W, b, s2 = linear_data
    vae = _linear_vae(X, W, b, s2, True, np.diag)
    D = np.diag(vae.scale_)
    full = vae.sample(20_000, random_state=0, observation_noise=True)
    np.testing.assert_allclose(full.mean(axis=0), vae.mean_ + vae.scale_ * b, atol=0.1)
    C = D @ (W @ W.T + s2 * np.eye(5)) @ D
    # Relative to the largest entry (~8): measured error 1%.
    np.testing.assert_allclose(np.cov(full.T), C, atol=0.05 * np.abs(C).max())
    means = vae.sample(20_000, random_state=0)
    C = D @ W @ W.T @ D
    np.testing.assert_allclose(np.cov(means.T), C, atol=0.05 * np.abs(C).max())
    np.testing.assert_allclose(vae.decoder_variance_, s2 * vae.scale_**2, rtol=1e-5)


# ----------------------------------------------------------------------
# Sampling and scoring behaviour
# ----------------------------------------------------------------------
def test_sample_same_random_state_same_samples(trained):
    """Check that sample is reproducible with random_state and fresh without."""
    a = trained.sample(7, random_state=3)
    np.testing.assert_array_equal(a, trained.sample(7, random_state=3))
    assert not np.allclose(a, trained.sample(7, random_state=4))
    assert not np.allclose(trained.sample(7), trained.sample(7))
    rs = np.random.RandomState(0)
    assert not np.allclose(trained.sample(7, random_state=rs), trained.sample(7, random_state=rs))


def test_sample_returns_probabilities_or_binary_draws(trained):
    """Check that Bernoulli samples are means in (0, 1) by default and 0/1
    draws with observation_noise, and that draws average to the means."""
    means = trained.sample(5, random_state=0)
    assert means.shape == (5, 64)
    assert np.all((means > 0) & (means < 1))
    draws = trained.sample(4000, random_state=0, observation_noise=True)
    assert set(np.unique(draws)) <= {0.0, 1.0}
    # Same random_state: the same z, so the draws are Bernoulli(means).
    p = trained.sample(4000, random_state=0)
    assert abs(draws.mean() - p.mean()) < 4 * np.sqrt(0.25 / draws.size)


def test_scores_are_deterministic_and_independent_of_the_other_rows(trained, digits):
    """Check that score_samples gives the same values twice, on a subset and
    in another order: each row's Monte Carlo draws depend on the row only."""
    X = digits[0][400:]
    scores = trained.score_samples(X)
    np.testing.assert_array_equal(scores, trained.score_samples(X))
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(trained.score_samples(X[order]), scores[order], rtol=1e-6)
    np.testing.assert_allclose(trained.score_samples(X[:7]), scores[:7], rtol=1e-6)


def test_far_out_samples_get_finite_lowest_scores(digits):
    """Check that samples thousands of standard deviations away from the
    training data (an outlier detector's worst case) get finite scores, below
    every ordinary sample's, instead of NaN."""
    X = digits[0] * 16.0
    vae = VAETransformer(n_components=4, max_epochs=3, n_importance_samples=10, **SMALL)
    vae.fit(X[:300])
    far = X[300:305] + 1e5 * np.random.default_rng(0).standard_normal((5, X.shape[1]))
    scores = vae.score_samples(np.vstack([X[300:], far]))
    assert np.all(np.isfinite(scores))
    assert scores[-5:].max() < scores[:-5].min()


def test_trained_vae_scores_higher_than_untrained(trained, digits):
    """Check that training raises the held-out log-likelihood (measured:
    about -44 nats after 1 epoch, -30 after 15)."""
    X = digits[0]
    untrained = clone(trained).set_params(max_epochs=1).fit(X[:400])
    assert trained.score(X[400:]) > untrained.score(X[400:]) + 5.0


def test_elbo_terms_add_up_and_bound_the_score(trained, digits):
    """Check that elbo = reconstruction - kl, kl >= 0, and the ELBO lies
    below the importance-weighted estimate on average."""
    X = digits[0][400:]
    terms = trained.elbo_terms(X)
    np.testing.assert_allclose(terms.elbo, terms.reconstruction - terms.kl)
    assert np.all(terms.kl >= 0)
    assert terms.elbo.mean() < trained.score(X)


def test_transform_is_the_posterior_mean(trained, digits):
    """Check that transform returns the encoder's mu, and inverse_transform
    the decoder's Bernoulli probabilities."""
    X = digits[0][:10]
    with torch.no_grad():
        mu, _ = trained.net_.module_.encoder(torch.tensor(X, dtype=torch.float32))
    np.testing.assert_allclose(trained.transform(X), mu.numpy(), rtol=1e-4, atol=1e-5)
    X_rec = trained.inverse_transform(trained.transform(X))
    assert X_rec.shape == X.shape and np.all((X_rec > 0) & (X_rec < 1))


def test_beta_trades_kl_for_reconstruction(digits):
    """Check that a larger beta gives a smaller KL and a worse reconstruction."""
    X = digits[0][:300]
    terms = {
        beta: VAETransformer(
            n_components=4, likelihood="bernoulli", beta=beta, max_epochs=10,
            n_importance_samples=5, **SMALL
        ).fit(X).elbo_terms(X)
        for beta in (0.25, 4.0)
    }
    assert terms[4.0].kl.mean() < 0.5 * terms[0.25].kl.mean()
    assert terms[4.0].reconstruction.mean() < terms[0.25].reconstruction.mean()


def test_learned_decoder_variance_follows_the_noise_of_each_feature():
    """Check that decoder_variance='learned' gives quiet features smaller
    variances than noisy ones (noise std 0.05 vs 1; measured 0.07-0.29
    vs 0.79-1.0 after 60 epochs)."""
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(300, 2))
    X = Z @ rng.normal(size=(2, 4)) + rng.normal(size=(300, 4)) * [0.05, 0.05, 1.0, 1.0]
    vae = VAETransformer(
        hidden_layer_sizes=(16,), decoder_variance="learned", standardize=False,
        max_epochs=60, lr=1e-2, batch_size=50, early_stopping=False, random_state=0,
    ).fit(X)
    assert vae.decoder_variance_[:2].max() < 0.5 * vae.decoder_variance_[2:].min()


# ----------------------------------------------------------------------
# scikit-learn integration
# ----------------------------------------------------------------------
def test_grid_search_selects_by_held_out_log_likelihood(digits):
    """Check that GridSearchCV without a scorer ranks candidates by score,
    the held-out log-likelihood, and picks the better-trained model."""
    X = digits[0][:200]
    base = VAETransformer(
        n_components=2, likelihood="bernoulli", n_importance_samples=5,
        hidden_layer_sizes=(16,), early_stopping=False, random_state=0,
    )
    cv = KFold(2)
    grid = GridSearchCV(base, {"max_epochs": [1, 10]}, cv=cv).fit(X)
    for i, params in enumerate(grid.cv_results_["params"]):
        held_out = [
            clone(base).set_params(**params).fit(X[train]).score(X[test])
            for train, test in cv.split(X)
        ]
        assert grid.cv_results_["mean_test_score"][i] == pytest.approx(np.mean(held_out))
    assert grid.best_params_ == {"max_epochs": 10}


def test_pipeline_before_a_classifier(digits):
    """Check that the posterior means feed a classifier well above chance
    (measured 0.69 on 300 held-out digits with 600 training ones; here less
    data)."""
    X, y = digits
    pipe = make_pipeline(
        VAETransformer(n_components=8, likelihood="bernoulli", max_epochs=20, **SMALL),
        LogisticRegression(max_iter=1000),
    )
    assert pipe.fit(X[:400], y[:400]).score(X[400:], y[400:]) > 0.4


def test_float32_input_gives_float32_output(trained, digits):
    """Check that scores, terms and codes keep a float32 input's dtype."""
    X = digits[0][:5].astype(np.float32)
    assert trained.score_samples(X).dtype == np.float32
    assert trained.transform(X).dtype == np.float32
    assert trained.elbo_terms(X).elbo.dtype == np.float32


def test_fit_leaves_the_input_unchanged_and_is_reproducible(digits):
    """Check that fit does not modify X and that a refit with the same
    random_state gives identical codes and scores."""
    X = digits[0][:100].copy()
    X_before = X.copy()
    est = VAETransformer(likelihood="bernoulli", max_epochs=2, n_importance_samples=5, **SMALL)
    a = clone(est).fit(X)
    b = clone(est).fit(X)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))


def test_randomness_stays_private(digits):
    """Check that fitting, scoring and sampling (even with
    random_state=None) leave torch's and NumPy's global generators alone."""
    X = digits[0][:100]
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    est = VAETransformer(likelihood="bernoulli", max_epochs=2, n_importance_samples=5, **SMALL)
    est.fit(X).score_samples(X)
    est.sample(3)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)


def test_pickle_round_trip_gives_identical_scores(trained, digits, tmp_path):
    """Check that an unpickled estimator scores and samples identically (the
    seed of the scoring draws is part of the fitted state)."""
    path = tmp_path / "vae.joblib"
    joblib.dump(trained, path)
    loaded = joblib.load(path)
    X = digits[0][400:420]
    np.testing.assert_array_equal(loaded.score_samples(X), trained.score_samples(X))
    np.testing.assert_array_equal(loaded.sample(3, random_state=0), trained.sample(3, random_state=0))


def test_runs_on_each_available_device(digits, device):
    """Check that the VAE trains on the device and returns NumPy arrays."""
    X = digits[0][:100]
    vae = VAETransformer(
        likelihood="bernoulli", max_epochs=2, n_importance_samples=5, device=device, **SMALL
    ).fit(X)
    assert next(vae.net_.module_.parameters()).device.type == device
    for out, shape in [
        (vae.transform(X), (100, 2)),
        (vae.score_samples(X), (100,)),
        (vae.elbo_terms(X).kl, (100,)),
        (vae.sample(4, random_state=0, observation_noise=True), (4, 64)),
    ]:
        assert isinstance(out, np.ndarray) and out.shape == shape
    np.testing.assert_array_equal(vae.score_samples(X), vae.score_samples(X))


# ----------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------
def test_bernoulli_refuses_data_outside_the_unit_interval(trained):
    """Check that fitting and scoring data outside [0, 1] with the Bernoulli
    likelihood raise a ValueError naming the range found."""
    X = np.array([[0.0, 0.5], [1.0, -0.5]])
    msg = (
        r"likelihood='bernoulli' needs data in \[0, 1\], but X ranges from -0.5 to 1.0"
        r".*use likelihood='gaussian'"
    )
    with pytest.raises(ValueError, match=msg):
        VAETransformer(likelihood="bernoulli").fit(X)
    bad = np.full((2, 64), 0.5)
    bad[0, 0] = 2.0
    with pytest.raises(ValueError, match=r"ranges from 0.5 to 2.0"):
        trained.score_samples(bad)
    with pytest.raises(ValueError, match=r"ranges from 0.5 to 2.0"):
        trained.elbo_terms(bad)


def test_bernoulli_refuses_standardize():
    """Check that standardize=True with the Bernoulli likelihood is refused."""
    with pytest.raises(ValueError, match="standardize=True moves data out of"):
        VAETransformer(likelihood="bernoulli", standardize=True).fit(np.eye(3))


@pytest.mark.parametrize(
    "params, name",
    [
        ({"likelihood": "poisson"}, "likelihood"),
        ({"decoder_variance": 0.0}, "decoder_variance"),
        ({"decoder_variance": "fixed"}, "decoder_variance"),
        ({"beta": -1.0}, "beta"),
        ({"n_latent_samples": 0}, "n_latent_samples"),
        ({"n_importance_samples": 0}, "n_importance_samples"),
    ],
)
def test_bad_parameters_are_named(params, name):
    """Check that invalid parameters raise a ValueError naming them."""
    with pytest.raises(ValueError, match=f"'{name}' parameter of VAETransformer"):
        VAETransformer(**params).fit(np.eye(3))


def test_sample_refuses_bad_n_samples(trained):
    """Check that sample needs a positive int."""
    with pytest.raises(ValueError, match="n_samples must be a positive int, got 0"):
        trained.sample(0)


def test_diverging_loss_stops_with_a_clear_error():
    """Check that a loss that becomes NaN stops training with a ValueError."""
    X = np.random.default_rng(0).normal(size=(100, 4))
    with pytest.raises(ValueError, match="training diverged"):
        VAETransformer(optimizer="sgd", lr=1e3, max_epochs=5, random_state=0).fit(X)
