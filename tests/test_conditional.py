"""Tests of ConditionalVAE: what it is for, checked against independent computations."""

import joblib
import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from torch.distributions import Bernoulli, Categorical, Normal, kl_divergence

from skae import ConditionalVAE, VAETransformer
from skae.losses import hsic
from skae.modules import (
    ConditionalVariationalModel,
    ConditionFilter,
    GaussianEncoder,
    MLPDecoder,
)
from skae.vae import _row_seeds

SMALL = dict(hidden_layer_sizes=(32,), early_stopping=False, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="module")
def trained(digits):
    X, y = digits
    return ConditionalVAE(
        n_components=4, likelihood="bernoulli", max_epochs=30, n_importance_samples=20,
        **SMALL,
    ).fit(X, y)


TWO_BATCH_PARAMS = dict(n_components=2, decoder_variance=0.1, max_epochs=60, batch_size=64,
                        **SMALL)


@pytest.fixture(scope="module")
def batch_cvae(two_batches):
    """A ConditionalVAE fitted on the two-batch problem's first 400 rows
    with the batch as the condition."""
    X, batch, _ = two_batches
    return ConditionalVAE(**TWO_BATCH_PARAMS).fit(X[:400], batch[:400])


@pytest.fixture(scope="module")
def two_batches():
    """A 2-D latent structure seen through two 'instruments': batch 1 adds
    an offset and a gain to the features, so that a plain VAE's codes tell
    the batches apart."""
    rng = np.random.default_rng(0)
    n = 600
    u = rng.normal(size=(n, 2))
    X = np.tanh(u @ rng.normal(size=(2, 10))) + 0.05 * rng.normal(size=(n, 10))
    batch = rng.integers(0, 2, size=n)
    X[batch == 1] = 1.5 * X[batch == 1] + 2.0
    return X, batch, u


# ----------------------------------------------------------------------
# The mathematics, against torch.distributions
# ----------------------------------------------------------------------
def _onehot(y):
    return torch.nn.functional.one_hot(torch.as_tensor(y), 10).float()


def test_training_terms_are_the_conditional_elbo(trained, digits):
    """Check that forward's terms are -log p(x | z, c) at the
    reparameterised draw, the KL from q(z'|x, c) to the condition's prior
    N(m(c), s(c)^2) (the encoder's Gaussian over z' = m(c) + s(c) z), and
    the condition head's -log q(c|x), computed here with
    torch.distributions from the same standard-normal draws."""
    X, y = digits
    module = trained.net_.module_
    x = torch.as_tensor(X[:20], dtype=torch.float32)
    c = _onehot(y[:20])
    generator = module.generator.get(x.device)
    state = generator.get_state()
    with torch.no_grad():
        terms = module(x, c)
        generator.set_state(state)
        mu, logvar = module.encoder(torch.cat([x, c], dim=1))
        shift, log_scale = module.condition_prior(c).chunk(2, dim=1)
        eps = torch.randn(mu.shape, generator=generator)
        q = Normal(mu, torch.exp(0.5 * logvar))
        logits = module.decoder(torch.cat([q.loc + q.scale * eps, c], dim=1))
        rec = Bernoulli(logits=logits, validate_args=False).log_prob(x).sum(dim=1)
        kl = kl_divergence(q, Normal(shift, torch.exp(log_scale))).sum(dim=1)
        head = Categorical(logits=module.condition_head(x)).log_prob(torch.as_tensor(y[:20]))
    assert log_scale.abs().max() > 0.1  # the classes' priors were learned
    torch.testing.assert_close(terms.reconstruction, -rec)
    torch.testing.assert_close(terms.kl, kl)
    torch.testing.assert_close(terms.condition, -head)


def test_optional_terms_match_their_definitions(trained, digits):
    """Check the optional terms. At a prior draw, made after the posterior draw:
    the hybrid objective's -log p(x | z', c) and the consistency term, the
    fixed head's -log q(c | x') at the decoder's mean x' (torch.distributions),
    whose gradient reaches the decoder and the condition's prior but not
    the head; and the HSIC penalty on the codes."""
    X, y = digits
    module = trained.net_.module_
    x = torch.as_tensor(X[:20], dtype=torch.float32)
    c = _onehot(y[:20])
    generator = module.generator.get(x.device)
    state = generator.get_state()
    module.prior_reconstruction = module.independence = True
    try:
        terms = module(x, c)
    finally:
        module.prior_reconstruction = module.independence = False
    generator.set_state(state)
    with torch.no_grad():
        torch.randn((20, 4), generator=generator)  # the posterior draw
        shift, log_scale = module.condition_prior(c).chunk(2, dim=1)
        z = Normal(shift, torch.exp(log_scale)).loc + torch.exp(log_scale) * torch.randn(
            (20, 4), generator=generator)
        logits = module.decoder(torch.cat([z, c], dim=1))
        expected = Bernoulli(logits=logits, validate_args=False).log_prob(x).sum(dim=1)
        mean = Bernoulli(logits=logits).mean
        agree = Categorical(logits=module.condition_head(mean)).log_prob(
            torch.as_tensor(y[:20]))
    assert terms._fields == ("reconstruction", "kl", "condition", "prior_reconstruction",
                             "consistency", "independence")
    # The HSIC penalty is that of the batch's codes, the posterior means.
    with torch.no_grad():
        codes = module.encode(x, c)
    torch.testing.assert_close(terms.independence, hsic(codes, c, True).expand(20))
    torch.testing.assert_close(terms.prior_reconstruction, -expected)
    torch.testing.assert_close(terms.consistency, -agree)
    module.zero_grad()
    terms.consistency.sum().backward()
    assert all(p.grad is None or not p.grad.any() for p in module.condition_head.parameters())
    assert module.decoder.layers[0].weight.grad.abs().sum() > 0
    assert module.condition_prior.weight.grad.abs().sum() > 0
    module.zero_grad()


def test_score_samples_is_the_importance_weighted_conditional_likelihood(trained, digits):
    """Check score_samples and elbo_terms against the importance-weighted
    estimate of log p(x | c) = log E_q [p(x | z', c) p(z' | c) / q(z' | x, c)]
    computed with torch.distributions from the same draws (one generator
    per row, seeded as the estimator does), with the condition's prior
    p(z' | c) = N(m(c), s(c)^2)."""
    X, y = digits
    X, y = X[:10], y[:10]
    module = trained.net_.module_.double()
    K = trained.n_importance_samples
    try:
        with torch.no_grad():
            x = torch.as_tensor(X)
            c = _onehot(y).double()
            mu, logvar = module.encoder(torch.cat([x, c], dim=1))
            shift, log_scale = module.condition_prior(c).chunk(2, dim=1)
            q = Normal(mu, torch.exp(0.5 * logvar))
            prior = Normal(shift, torch.exp(log_scale))
            eps = torch.stack([
                torch.randn(K, mu.shape[1], generator=torch.Generator().manual_seed(s),
                            dtype=torch.float64)
                for s in _row_seeds(x, trained._eval_seed)
            ], dim=1)
            z = q.loc + q.scale * eps  # (K, n, d)
            logits = module.decoder(torch.cat([z, c.expand(K, -1, -1)], dim=-1))
            log_px_z = Bernoulli(logits=logits, validate_args=False).log_prob(x).sum(-1)
            log_w = log_px_z + prior.log_prob(z).sum(-1) - q.log_prob(z).sum(-1)
            expected = (torch.logsumexp(log_w, 0) - np.log(K)).numpy()
            kl = kl_divergence(q, prior).sum(-1).numpy()
            rec = log_px_z.mean(0).numpy()
    finally:
        module.float()
    np.testing.assert_allclose(trained.score_samples(X, y), expected, rtol=0, atol=1e-6)
    terms = trained.elbo_terms(X, y)
    np.testing.assert_allclose(terms.kl, kl, rtol=0, atol=1e-6)
    np.testing.assert_allclose(terms.reconstruction, rec, rtol=0, atol=1e-6)
    np.testing.assert_allclose(terms.elbo, rec - kl, rtol=0, atol=1e-6)


def test_uninformative_condition_gives_the_vae_elbo(digits):
    """Check that a conditional VAE whose encoder and decoder ignore c (zero
    weights on the condition's inputs) has exactly the ELBO and scores of
    the VAETransformer with the same weights, whatever the condition."""
    X, y = digits
    params = dict(n_components=3, likelihood="bernoulli", max_epochs=1,
                  n_importance_samples=10, **SMALL)
    vae = VAETransformer(**params).fit(X[:200])
    cvae = ConditionalVAE(**params).fit(X[:200], y[:200])
    source, target = vae.net_.module_, cvae.net_.module_
    with torch.no_grad():
        for name, p in source.named_parameters():
            q = dict(target.named_parameters())[name]
            if name == "decoder.layers.0.weight":  # (hidden, n_components + 10)
                q.zero_()
                q[:, :3] = p
            elif name == "encoder.trunk.0.weight":  # (hidden, n_features + 10)
                q.zero_()
                q[:, :64] = p
            else:
                q.copy_(p)
        for p in target.condition_prior.parameters():  # m(c) = 0, s(c) = 1
            p.zero_()
    cvae._eval_seed = vae._eval_seed
    expected = vae.elbo_terms(X[200:260])
    for condition in (y[200:260], 0, 9):
        terms = cvae.elbo_terms(X[200:260], condition)
        for key in ("elbo", "reconstruction", "kl"):
            np.testing.assert_allclose(terms[key], expected[key], rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(
            cvae.score_samples(X[200:260], condition), vae.score_samples(X[200:260]),
            rtol=1e-6, atol=1e-5,
        )


def test_constant_condition_trains_like_the_vae(digits):
    """Check that, fitted with a condition that carries no information (one
    class for every sample), the conditional VAE reaches the held-out ELBO
    of a VAETransformer of the same size (it may do better: the class's
    learned prior location and scale, the same for every sample, give the
    optimiser an affine map of the code for free)."""
    X, _ = digits
    params = dict(n_components=4, likelihood="bernoulli", max_epochs=20,
                  n_importance_samples=5, **SMALL)
    vae = VAETransformer(**params).fit(X[:1200])
    cvae = ConditionalVAE(**params).fit(X[:1200], np.zeros(1200, dtype=int))
    assert cvae.classes_.tolist() == [0]
    elbo_vae = vae.elbo_terms(X[1200:]).elbo.mean()
    elbo_cvae = cvae.elbo_terms(X[1200:], 0).elbo.mean()
    assert elbo_cvae >= elbo_vae - 0.02 * abs(elbo_vae)
    assert elbo_cvae == pytest.approx(elbo_vae, rel=0.05)


def test_hsic_matches_its_definition_and_vanishes_for_independent_data():
    """Check hsic against tr(K H L H) / (n - 1)^2 computed with NumPy, and
    that it is far larger for a dependent pair than for an independent one."""
    g = torch.Generator().manual_seed(0)
    z = torch.randn(60, 3, generator=g, dtype=torch.float64)
    c = torch.randn(60, 2, generator=g, dtype=torch.float64)

    def rbf(A):
        d2 = ((A[:, None] - A[None]) ** 2).sum(-1)
        off = np.sort(d2[~np.eye(len(A), dtype=bool)])
        return np.exp(-d2 / off[(len(off) - 1) // 2])  # torch's median: the lower middle

    H = np.eye(60) - 1 / 60
    expected = np.trace(rbf(z.numpy()) @ H @ rbf(c.numpy()) @ H) / 59**2
    assert float(hsic(z, c)) == pytest.approx(expected, rel=1e-10)
    onehot = torch.nn.functional.one_hot(torch.arange(60) % 3).double()
    expected = np.trace(rbf(z.numpy()) @ H @ (onehot @ onehot.T).numpy() @ H) / 59**2
    assert float(hsic(z, onehot, categorical=True)) == pytest.approx(expected, rel=1e-10)
    dependent = torch.nn.functional.one_hot((z[:, 0] > 0).long()).double()
    assert hsic(z, dependent, categorical=True) > 10 * hsic(z, onehot[:, :2], categorical=True)


def test_model_broadcasts_the_condition_over_stacked_draws():
    """Check that the model's decoder reads the same condition for every
    draw stacked on a leading dimension."""
    from skae.likelihoods import Bernoulli as BernoulliLikelihood

    model = ConditionalVariationalModel(
        GaussianEncoder(4, (8,), 2), MLPDecoder(2 + 3, (8,), 4), BernoulliLikelihood())
    z = torch.randn(5, 7, 2)
    c = torch.eye(3)[[0, 1, 2, 0, 1, 2, 0]]
    stacked = model._decoder_output(z, c)
    torch.testing.assert_close(stacked[2], model._decoder_output(z[2], c))


# ----------------------------------------------------------------------
# What it is for
# ----------------------------------------------------------------------
def test_samples_of_a_class_are_closest_to_that_class_mean(trained, digits):
    """Check that samples drawn for class k are nearer to the mean image of
    class k than to any other class's mean: most of them for every class,
    and overall at least 90% of them (the real digits: 90%)."""
    X, y = digits
    means = np.stack([X[y == k].mean(axis=0) for k in range(10)])
    classes = np.repeat(np.arange(10), 30)
    samples = trained.sample(len(classes), random_state=0, y=classes)
    nearest = ((samples[:, None, :] - means[None]) ** 2).sum(-1).argmin(axis=1)
    assert np.mean(nearest == classes) >= 0.9
    assert all(np.mean(nearest[classes == k] == k) > 0.5 for k in range(10))


def test_one_condition_for_all_samples(trained):
    """Check that a single condition serves every sample, and that sample
    is reproducible with random_state."""
    a = trained.sample(6, random_state=1, y=3)
    np.testing.assert_array_equal(a, trained.sample(6, random_state=1, y=[3] * 6))
    np.testing.assert_array_equal(a, trained.sample(6, random_state=1, y=[3]))
    assert not np.array_equal(a, trained.sample(6, random_state=2, y=3))


def test_conditional_likelihood_beats_the_marginal(trained, digits):
    """Check that the true labels give a higher log p(x | c) than wrong
    ones, and that without y the score is log sum_c p(c) p(x | c)."""
    X, y = digits
    X, y = X[-100:], y[-100:]
    right = trained.score_samples(X, y)
    wrong = trained.score_samples(X, (y + 1) % 10)
    assert np.mean(right > wrong) > 0.9
    per_class = np.stack([trained.score_samples(X, k) for k in range(10)], axis=1)
    marginal = logsumexp(per_class + np.log(trained.class_prior_), axis=1)
    np.testing.assert_allclose(trained.score_samples(X), marginal, rtol=1e-5)
    assert trained.score(X, y) > trained.score(X)


def test_codes_of_two_batches_mix_after_conditioning(two_batches, batch_cvae):
    """Check that a LogisticRegression tells the batches apart from a
    VAETransformer's codes but not from the codes of a ConditionalVAE given
    the batch (nor from those under the batch its head predicts), which
    still hold the latent structure."""
    X, batch, u = two_batches
    train, test = slice(0, 400), slice(400, None)

    def batch_accuracy(Z):
        clf = LogisticRegression().fit(Z[train], batch[train])
        return clf.score(Z[test], batch[test])

    Z_vae = VAETransformer(**TWO_BATCH_PARAMS).fit(X[train]).transform(X)
    Z = batch_cvae.transform(X, batch)
    assert batch_accuracy(Z_vae) > 0.95
    assert batch_accuracy(Z) < 0.65
    assert batch_accuracy(batch_cvae.transform(X)) < 0.65
    # The codes still hold the latent structure: u is linear in them (R^2).
    from sklearn.linear_model import LinearRegression

    assert LinearRegression().fit(Z[train], u[train]).score(Z[test], u[test]) > 0.7


def test_condition_filter_convolves_with_the_condition_s_filter():
    """Check ConditionFilter against scipy's 2-D cross-correlation with the
    filter K_0 + sum_k c_k D_k (zero padding, same size), plus the offset,
    for one-hot and numeric conditions and two-channel images."""
    from scipy.signal import correlate2d

    torch.manual_seed(0)
    layer = ConditionFilter(2, (2, 5, 6), 3)
    with torch.no_grad():
        layer.weight.normal_()
        layer.offset.weight.normal_()
    raw = torch.randn(4, 60, dtype=torch.float64)
    c = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.3, -1.2], [0.0, 0.0]], dtype=torch.float64)
    out = layer.double()(raw, c).detach().numpy()
    weight = layer.weight.detach().numpy()[:, 0]
    offset = layer.offset.weight.detach().numpy()
    for i in range(4):
        kernel = weight[0] + np.tensordot(c[i].numpy(), weight[1:], axes=1)
        images = raw[i].numpy().reshape(2, 5, 6)
        expected = np.stack([correlate2d(im, kernel, mode="same") for im in images])
        np.testing.assert_allclose(out[i], expected.ravel() + offset @ c[i].numpy(), atol=1e-10)


def test_filter_gives_the_digits_of_two_batches_one_layout(digits):
    """Check what condition_effect="filter" is for: digits of batch 1 are
    shifted by a pixel. With the batch at the decoder's input, each batch
    lays out its codes its own way, and a classifier fitted on batch 0's
    codes reads batch 1's badly; with the batch acting through the
    decoder's output filter, it reads them far better (0.16 to 0.23 against
    0.46 to 0.50 over three seeds)."""
    X, y = digits
    batch = (np.random.default_rng(0).permutation(len(X)) < len(X) // 2).astype(int)
    shifted = np.roll(X.reshape(-1, 8, 8), 1, axis=2).reshape(len(X), 64)
    Xb = np.where(batch[:, None] == 1, shifted, X)

    def across(effect):
        cvae = ConditionalVAE(
            n_components=4, likelihood="bernoulli", condition_effect=effect, filter_size=3,
            hidden_layer_sizes=(32,), max_epochs=20, early_stopping=False, random_state=0,
        ).fit(Xb, batch)
        Z = cvae.transform(Xb, batch)
        return np.mean([
            LogisticRegression(max_iter=1000).fit(Z[batch == b], y[batch == b])
            .score(Z[batch != b], y[batch != b])
            for b in (0, 1)
        ])

    assert across("filter") > across("input") + 0.15


def test_filter_refuses_rows_that_are_not_its_images(digits):
    """Check the clear errors of condition_effect="filter": rows that are
    not square images, an image_shape of another size, an even filter."""
    X, y = digits
    with pytest.raises(ValueError, match="not square single-channel images"):
        ConditionalVAE(condition_effect="filter").fit(X[:, :60], y)
    with pytest.raises(ValueError, match="holds 60 values but X has 64"):
        ConditionalVAE(condition_effect="filter", image_shape=(6, 10)).fit(X, y)
    with pytest.raises(ValueError, match="filter_size must be odd"):
        ConditionalVAE(condition_effect="filter", filter_size=4).fit(X, y)
    with pytest.raises(ValueError, match="image_shape must be"):
        ConditionalVAE(condition_effect="filter", image_shape=(8, 8, 1, 1)).fit(X, y)
    assert not hasattr(ConditionalVAE(condition_effect="filter"), "net_")


def test_transform_without_y_uses_the_predicted_condition(two_batches, batch_cvae):
    """Check that transform(X) encodes under the condition head's most
    probable class, and that the head learned the batches."""
    X, batch, _ = two_batches
    predicted = batch_cvae.predict_condition(X[400:])
    assert np.mean(predicted == batch[400:]) > 0.95
    np.testing.assert_array_equal(batch_cvae.transform(X[400:]),
                                  batch_cvae.transform(X[400:], predicted))


def test_inverse_transform_moves_a_sample_to_another_batch(two_batches, batch_cvae):
    """Check that decoding a sample's code under the other batch's condition
    gives what that batch's instrument shows (1.5 x + 2 of batch 0's)."""
    X, batch, _ = two_batches
    X0 = X[batch == 0]
    Z0 = batch_cvae.transform(X0, 0)
    moved = batch_cvae.inverse_transform(Z0, y=1)
    kept = batch_cvae.inverse_transform(Z0, y=0)
    assert np.mean((moved - (1.5 * kept + 2.0)) ** 2) < 0.1 * np.mean((moved - kept) ** 2)


def test_numeric_condition_is_standardised_and_used(digits):
    """Check numeric covariates: the condition's standardisation is fitted,
    a 1-D y of k values is one condition, and the decoder uses it."""
    X, y = digits
    C = np.column_stack([y, 100.0 * (y % 2)]).astype(float)
    cvae = ConditionalVAE(n_components=3, likelihood="bernoulli", max_epochs=10,
                          n_importance_samples=5, **SMALL).fit(X[:600], C[:600])
    assert cvae.condition_ == "numeric" and cvae.classes_ is None
    # "auto": no prior location-scale and no consistency term for covariates.
    assert cvae.net_.module_.condition_prior is None
    assert cvae.net_.module_(torch.zeros(2, 64), torch.zeros(2, 2))._fields == (
        "reconstruction", "kl", "condition")
    np.testing.assert_allclose(cvae.condition_mean_, C[:600].mean(axis=0))
    np.testing.assert_allclose(cvae.condition_scale_, C[:600].std(axis=0))
    Z = cvae.transform(X[:5])
    np.testing.assert_array_equal(
        cvae.inverse_transform(Z, y=C[0]), cvae.inverse_transform(Z, y=np.tile(C[0], (5, 1))))
    assert not np.allclose(cvae.inverse_transform(Z, y=C[0]), cvae.inverse_transform(Z, y=C[1]))
    assert cvae.score_samples(X[:5], C[:5]).shape == (5,)


def test_pipeline_passes_x_only_after_fit(digits):
    """Check that in a Pipeline the condition reaches fit, while transform
    and predict take X alone."""
    X, y = digits
    pipe = make_pipeline(
        ConditionalVAE(n_components=8, likelihood="bernoulli", max_epochs=5, **SMALL),
        LogisticRegression(max_iter=500),
    )
    pipe.fit(X[:400], y[:400])
    assert pipe.predict(X[400:]).shape == (len(X) - 400,)


def test_grid_search_selects_by_held_out_conditional_likelihood(digits):
    """Check that GridSearchCV's default scoring is score(X, y), the mean
    held-out log p(x | c), and that it prefers a trained model to a barely
    trained one."""
    X, y = digits
    search = GridSearchCV(
        ConditionalVAE(n_components=4, likelihood="bernoulli", n_importance_samples=5, **SMALL),
        {"max_epochs": [1, 15]}, cv=KFold(2),
    ).fit(X[:400], y[:400])
    assert search.best_params_ == {"max_epochs": 15}
    best = search.best_estimator_
    assert search.best_score_ == pytest.approx(
        np.mean(search.cv_results_["split0_test_score"][1:].tolist()
                + search.cv_results_["split1_test_score"][1:].tolist()))
    assert np.isfinite(best.score(X[400:], y[400:]))


def test_fit_is_reproducible_and_leaves_input_unchanged(digits):
    """Check that a refit with the same random_state gives identical codes,
    scores and samples, and that X and y are not modified."""
    X, y = digits[0][:200].copy(), digits[1][:200].copy()
    X0, y0 = X.copy(), y.copy()
    est = ConditionalVAE(likelihood="bernoulli", max_epochs=2, n_importance_samples=5, **SMALL)
    a, b = clone(est).fit(X, y), clone(est).fit(X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.score_samples(X, y), b.score_samples(X, y))
    np.testing.assert_array_equal(a.sample(4, random_state=0, y=1),
                                  b.sample(4, random_state=0, y=1))


def test_pickle_round_trip_and_string_labels(digits, tmp_path):
    """Check string class labels and that an unpickled model scores and
    samples identically."""
    X, y = digits
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                       "eight", "nine"])[y[:300]]
    est = ConditionalVAE(likelihood="bernoulli", max_epochs=2, n_importance_samples=5,
                         **SMALL).fit(X[:300], labels)
    assert set(est.classes_) == set(labels)
    joblib.dump(est, tmp_path / "cvae.joblib")
    loaded = joblib.load(tmp_path / "cvae.joblib")
    np.testing.assert_array_equal(loaded.score_samples(X[:20], labels[:20]),
                                  est.score_samples(X[:20], labels[:20]))
    np.testing.assert_array_equal(loaded.sample(3, random_state=0, y="seven"),
                                  est.sample(3, random_state=0, y="seven"))


def test_partial_fit_continues_with_the_first_classes(digits):
    """Check that partial_fit trains chunk by chunk and refuses a class its
    first chunk did not have."""
    X, y = digits
    est = ConditionalVAE(likelihood="bernoulli", n_importance_samples=5, **SMALL)
    est.partial_fit(X[:300], y[:300]).partial_fit(X[300:600], y[300:600])
    assert est.n_epochs_ == 2
    with pytest.raises(ValueError, match=r"classes not seen at fit: \['10'\]"):
        est.partial_fit(X[:3], [1, 2, 10])


# ----------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------
def test_fit_refuses_missing_nan_or_misshapen_conditions(digits):
    """Check clear ValueErrors for a missing y, NaN in y, a y of the wrong
    length, and 2-D labels for a categorical condition."""
    X, y = digits[0][:20], digits[1][:20]
    est = ConditionalVAE(max_epochs=1)
    with pytest.raises(ValueError, match="requires y to be passed"):
        est.fit(X)
    with pytest.raises(ValueError, match="y contains NaN or infinity"):
        est.fit(X, np.where(np.arange(20) == 3, np.nan, 1.0))
    with pytest.raises(ValueError, match="y has 19 conditions but X has 20 samples"):
        est.fit(X, y[:19])
    with pytest.raises(ValueError, match="one column of class labels"):
        ConditionalVAE(condition="categorical", max_epochs=1).fit(X, np.zeros((20, 2), int))
    with pytest.raises(ValueError, match="'condition' parameter of ConditionalVAE"):
        ConditionalVAE(condition="ordinal").fit(X, y)


def test_prediction_refuses_unknown_classes_and_wrong_conditions(trained, digits):
    """Check clear ValueErrors at sample, score_samples and inverse_transform
    for unknown classes, wrong lengths and a missing condition."""
    X = digits[0][:5]
    with pytest.raises(ValueError, match=r"classes not seen at fit: \['11'\]"):
        trained.sample(3, y=11)
    with pytest.raises(ValueError, match=r"classes not seen at fit: \['a'\]"):
        trained.score_samples(X, ["a", 1, 2, 3, 4])
    with pytest.raises(ValueError, match="y has 2 conditions for 5 samples"):
        trained.score_samples(X, [1, 2])
    with pytest.raises(ValueError, match="needs the condition y"):
        trained.inverse_transform(trained.transform(X))
    with pytest.raises(ValueError, match="n_samples must be a positive int"):
        trained.sample(0, y=1)


def test_numeric_conditions_refuse_wrong_width_nan_and_missing_y(digits):
    """Check that numeric conditions of the wrong width, with NaN, or
    missing at scoring (no prior to marginalise over) raise ValueErrors."""
    X = digits[0][:50]
    C = np.random.default_rng(0).normal(size=(50, 2))
    est = ConditionalVAE(max_epochs=1, n_importance_samples=5, **SMALL).fit(X, C)
    with pytest.raises(ValueError, match=r"must have 2 column\(s\), got shape \(5, 3\)"):
        est.score_samples(X[:5], np.zeros((5, 3)))
    with pytest.raises(ValueError, match="y contains NaN"):
        est.inverse_transform(np.zeros((2, 2)), y=[[np.nan, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="needs the condition y"):
        est.score_samples(X[:5])
    with pytest.raises(ValueError, match="needs the condition y"):
        est.sample(2)
