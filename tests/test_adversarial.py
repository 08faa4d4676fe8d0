"""Tests of AdversarialAE: codes shaped to a prior, checked by two-sample
tests, and the adversarial losses against independent computations."""

import pickle

import numpy as np
import pytest
import torch
from scipy.stats import norm
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from torch import nn

from skae import AdversarialAE, AEOutlierDetector
from skae.losses import discriminator_loss, generator_loss
from skae.modules import Discriminator
from skae.priors import GaussianMixture, SwissRoll, Uniform

SMALL = dict(hidden_layer_sizes=(32,), early_stopping=False, random_state=0)


def _data(n=600, seed=0):
    """A curved 2-D manifold in 10-D, with noise: the codes must be reshaped."""
    rng = np.random.RandomState(seed)
    latent = rng.uniform(-1, 1, size=(n, 2)) ** 3
    mixing = rng.normal(size=(2, 10))
    return np.tanh(latent @ mixing) + 0.05 * rng.normal(size=(n, 10))


def two_sample_accuracy(codes, draws):
    """Cross-validated accuracy of a k-NN classifier telling codes from draws
    (0.5: indistinguishable)."""
    X = np.vstack([codes, draws])
    y = np.r_[np.zeros(len(codes)), np.ones(len(draws))]
    return cross_val_score(KNeighborsClassifier(20), X, y, cv=4).mean()


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture(scope="module")
def trained(data):
    return AdversarialAE(prior="gaussian", max_epochs=60, batch_size=64, **SMALL).fit(data)


# ----------------------------------------------------------------------
# What it is for: the codes follow the prior
# ----------------------------------------------------------------------
def test_trained_codes_pass_a_two_sample_test_that_untrained_codes_fail(trained, data):
    """Check that a k-NN classifier cannot tell the trained codes from N(0, I)
    draws, while it tells apart the codes of the untrained network and those
    of the same network trained without the adversary."""
    draws = np.random.default_rng(1).standard_normal((len(data), 2))
    assert two_sample_accuracy(trained.transform(data), draws) < 0.62
    untrained = AdversarialAE(max_epochs=1, lr=1e-9, **SMALL).fit(data)
    assert two_sample_accuracy(untrained.transform(data), draws) > 0.8
    no_adversary = clone(trained).set_params(adversarial_weight=0.0).fit(data)
    assert two_sample_accuracy(no_adversary.transform(data), draws) > 0.7


def test_discriminator_accuracy_stays_away_from_0_and_1(trained):
    """Check that in a healthy run the discriminator neither wins (accuracy
    1: the encoder gave up) nor is ignored (0), in the history it records."""
    accuracy = np.array(trained.history_[:, "discriminator_accuracy"])
    assert np.all((accuracy[-20:] > 0.3) & (accuracy[-20:] < 0.85))
    # and its loss sits near log 4, the loss of a discriminator that cannot tell
    assert abs(np.mean(trained.history_[-10:, "discriminator_loss"]) - np.log(4)) < 0.15


@pytest.mark.parametrize("prior", ["mixture", "uniform"])
def test_changing_the_prior_changes_the_code_distribution(prior, data):
    """Check the codes take the prior's shape: on a circle of radius 4 in
    ten modes for the mixture, in the box [-2, 2]^2 for the uniform."""
    est = AdversarialAE(prior=prior, max_epochs=60, batch_size=64, **SMALL).fit(data)
    codes = est.transform(data)
    radius = np.linalg.norm(codes, axis=1)
    if prior == "mixture":
        assert 3.0 < np.median(radius) < 5.0
        angle = np.arctan2(codes[:, 1], codes[:, 0])
        modes = np.round(angle / (2 * np.pi / 10)) % 10
        assert len(np.unique(modes)) >= 8
    else:
        assert np.mean(np.abs(codes) <= 2.2) > 0.95
        # uniform on [-2, 2]: standard deviation 4 / sqrt(12) = 1.15
        assert np.all(np.abs(codes.std(axis=0) - 4 / np.sqrt(12)) < 0.3)
    draws = est.net_.module_.priors[0].sample(len(data), torch.Generator().manual_seed(0))
    assert two_sample_accuracy(codes, draws.numpy()) < 0.85


def test_user_prior_object_shapes_the_codes(data):
    """Check a user object with sample(n, generator) is a prior like any."""

    class Shifted:
        def sample(self, n, generator):
            return torch.randn(n, 2, generator=generator) * 0.5 + 3.0

    est = AdversarialAE(prior=Shifted(), max_epochs=40, batch_size=64, **SMALL).fit(data)
    np.testing.assert_allclose(est.transform(data).mean(axis=0), [3.0, 3.0], atol=0.4)


# ----------------------------------------------------------------------
# The three known pitfalls of public implementations
# ----------------------------------------------------------------------
def test_losses_call_prior_draws_real_and_codes_fake():
    """Check the discriminator loss against binary cross-entropies with
    prior draws labelled 1 and codes 0, and the generator loss as -log D."""
    real, fake = torch.randn(7), torch.randn(5)
    expected = -torch.log(torch.sigmoid(real)).mean() - torch.log(1 - torch.sigmoid(fake)).mean()
    torch.testing.assert_close(discriminator_loss(real, fake), expected)
    torch.testing.assert_close(generator_loss(fake), -torch.log(torch.sigmoid(fake)))


def test_generator_step_moves_codes_towards_the_prior(seeded_torch_rng):
    """Check the pair of losses with swapped labels fails: a discriminator
    trained by ``discriminator_loss`` on N(0, 1) draws against codes at 4,
    then a gradient step on ``generator_loss``, must move the codes to 0."""
    disc = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
    optimizer = torch.optim.Adam(disc.parameters(), lr=1e-2)
    codes = torch.full((64, 1), 4.0) + 0.1 * torch.randn(64, 1)
    for _ in range(200):
        optimizer.zero_grad()
        discriminator_loss(disc(torch.randn(64, 1)), disc(codes)).backward()
        optimizer.step()
    assert torch.sigmoid(disc(torch.zeros(1, 1))).item() > 0.9  # the prior is "real"
    z = codes.clone().requires_grad_(True)
    generator_loss(disc(z)).mean().backward()
    assert torch.all(z.grad > 0)  # descent lowers the codes, towards the prior


def test_discriminator_judges_codes_not_data(data, monkeypatch):
    """Check the discriminator's inputs during training are codes
    (n_components wide), never the data or reconstructions."""
    widths = []
    forward = Discriminator.forward

    def recording(self, z):
        widths.append(z.shape[1])
        return forward(self, z)

    monkeypatch.setattr(Discriminator, "forward", recording)
    est = AdversarialAE(n_components=3, max_epochs=1, **SMALL).fit(data)
    assert widths and set(widths) == {3}
    assert est.net_.discriminator_[0].layers[0].in_features == 3


# ----------------------------------------------------------------------
# Scores, samples, outliers
# ----------------------------------------------------------------------
def test_score_samples_is_reconstruction_log_likelihood_plus_prior_log_density(trained, data):
    """Check score_samples against scipy: a Gaussian log-density of the data
    around the reconstruction (noise scale in data units) plus log N(h(x))."""
    X = data[:50]
    codes = trained.transform(X)
    rebuilt = trained.inverse_transform(codes)
    sd = trained.noise_scale_ * trained.scale_
    expected = norm.logpdf(X, rebuilt, sd).sum(axis=1) + norm.logpdf(codes).sum(axis=1)
    np.testing.assert_allclose(trained.score_samples(X), expected, rtol=1e-4, atol=1e-3)


def test_prior_without_density_scores_reconstruction_only(data):
    """Check a uniform prior adds no density term: the score is the
    reconstruction log-likelihood alone."""
    est = AdversarialAE(prior="uniform", max_epochs=2, **SMALL).fit(data)
    X = data[:20]
    rebuilt = est.inverse_transform(est.transform(X))
    expected = norm.logpdf(X, rebuilt, est.noise_scale_ * est.scale_).sum(axis=1)
    np.testing.assert_allclose(est.score_samples(X), expected, rtol=1e-4, atol=1e-3)


def test_outlier_detector_ranks_off_manifold_points_low(trained, data):
    """Check AdversarialAE inside AEOutlierDetector flags points off the
    training manifold."""
    rng = np.random.RandomState(3)
    outliers = rng.uniform(-2, 2, size=(30, 10))
    det = AEOutlierDetector(clone(trained).set_params(max_epochs=30), random_state=0).fit(data)
    scores = det.score_samples(np.vstack([data[:100], outliers]))
    assert roc_auc_score(np.r_[np.ones(100), np.zeros(30)], scores) > 0.95


def test_sample_decodes_prior_draws_reproducibly(trained):
    """Check sample() is the decoder's mean at prior draws, and that the same
    random_state gives the same samples."""
    a = trained.sample(10, random_state=0)
    np.testing.assert_array_equal(a, trained.sample(10, random_state=0))
    assert not np.allclose(a, trained.sample(10, random_state=1))
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    draws = trained.net_.module_.priors[0].sample(10, torch.Generator().manual_seed(int(seed)))
    np.testing.assert_allclose(a, trained.inverse_transform(draws.double().numpy()), rtol=1e-6)


# ----------------------------------------------------------------------
# Priors
# ----------------------------------------------------------------------
def test_mixture_log_prob_is_a_density_matching_its_samples():
    """Check GaussianMixture.log_prob integrates to 1 on a grid and that its
    draws have the density's mean radius."""
    prior = GaussianMixture(2, n_modes=10)
    grid = torch.linspace(-9, 9, 361, dtype=torch.float64)
    xx, yy = torch.meshgrid(grid, grid, indexing="ij")
    density = prior.log_prob(torch.stack([xx.ravel(), yy.ravel()], 1)).exp()
    cell = (grid[1] - grid[0]) ** 2
    assert abs(float(density.sum() * cell) - 1) < 1e-3
    radius = torch.stack([xx.ravel(), yy.ravel()], 1).norm(dim=1)
    draws = prior.sample(20000, torch.Generator().manual_seed(0)).double()
    assert abs(float((density * radius).sum() * cell) - float(draws.norm(dim=1).mean())) < 0.03


def test_uniform_and_swiss_roll_draws():
    """Check the uniform's range and moments, and that the swiss roll is a
    2-D spiral whose radius grows with its angle."""
    g = torch.Generator().manual_seed(0)
    u = Uniform(3).sample(20000, g)
    assert u.min() >= -2 and u.max() <= 2 and abs(float(u.var()) - 16 / 12) < 0.05
    roll = SwissRoll(noise=0.0).sample(1000, g)
    assert roll.shape == (1000, 2)
    assert float(roll.norm(dim=1).max()) <= 4.0 + 1e-5


# ----------------------------------------------------------------------
# Contract, history, bad input
# ----------------------------------------------------------------------
def test_history_records_every_phase_and_verbose_shows_them(data, capsys):
    """Check the reconstruction, discriminator and generator losses are
    recorded per epoch, for validation too, and printed with verbose=1."""
    est = AdversarialAE(max_epochs=2, validation_fraction=0.2, verbose=1, **SMALL).fit(data)
    row = est.history_[-1]
    for key in ("train_loss", "discriminator_loss", "generator_loss", "discriminator_accuracy",
                "valid_loss", "valid_discriminator_loss", "valid_generator_loss"):
        assert np.isfinite(row[key])
    printed = capsys.readouterr().out
    assert "discriminator_loss" in printed and "generator_loss" in printed


def test_one_step_follows_reconstruction_plus_weighted_generator_loss(data):
    """Check one training step against autograd: with plain SGD the
    autoencoder moves along -grad(L + adversarial_weight / n_features *
    L_G) at the batch's codes, and the discriminator along -grad(L_D) at
    the same (pre-step) codes."""
    est = AdversarialAE(max_epochs=1, optimizer="sgd", lr=0.1, adversarial_weight=3.0,
                        **SMALL).fit(data)
    net, model = est.net_, est.net_.module_
    X = torch.as_tensor(data[:32], dtype=torch.float32)
    autoencoder = [p for n, p in model.named_parameters() if not n.startswith("discrim")]
    discriminator = list(model.discriminators.parameters())
    terms, parts = model.train_terms(X)
    encoder_loss = terms.reconstruction.mean() + 3.0 / X.shape[1] * generator_loss(
        model.discriminators[0](parts[0])).mean()
    expected_ae = torch.autograd.grad(encoder_loss, autoencoder)
    stream = model.generator.get("cpu")
    state = stream.get_state()
    draws = model.prior_draws(32)  # the draws the step will make
    stream.set_state(state)
    disc = model.discriminators[0]
    expected_d = torch.autograd.grad(
        discriminator_loss(disc(draws[0]), disc(parts[0].detach())), discriminator)
    before_ae = [p.detach().clone() for p in autoencoder]
    before_d = [p.detach().clone() for p in discriminator]
    net.history.new_batch()  # the step records its figures in it
    net.train_step((X, None))
    for p, p0, g in zip(autoencoder, before_ae, expected_ae):
        torch.testing.assert_close(p.detach(), p0 - 0.1 * g)
    for p, p0, g in zip(discriminator, before_d, expected_d):
        torch.testing.assert_close(p.detach(), p0 - 0.1 * g)


def test_same_seed_same_codes_and_pickled_net_continues(data):
    """Check reproducibility, and that a pickled model goes on training both
    networks with partial_fit."""
    a = AdversarialAE(max_epochs=3, **SMALL).fit(data)
    b = AdversarialAE(max_epochs=3, **SMALL).fit(data)
    np.testing.assert_array_equal(a.transform(data), b.transform(data))
    c = pickle.loads(pickle.dumps(a))
    before = [p.clone() for p in c.net_.discriminator_.parameters()]
    c.partial_fit(data)
    assert any(not torch.equal(x, y) for x, y in zip(before, c.net_.discriminator_.parameters()))
    assert not np.allclose(c.transform(data), a.transform(data))


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(prior="laplace"), ValueError, "prior"),
        (dict(prior="swiss_roll", n_components=3), ValueError, "needs n_components=2"),
        (dict(adversarial_weight=-1.0), ValueError, "adversarial_weight"),
        (dict(discriminator_hidden_layer_sizes=(0,)), ValueError,
         "discriminator_hidden_layer_sizes must be a tuple of positive ints"),
    ],
)
def test_bad_parameters_are_named_in_the_error(data, params, error, match):
    with pytest.raises(error, match=match):
        AdversarialAE(max_epochs=1, **{**SMALL, **params}).fit(data)


def test_user_prior_with_wrong_shape_is_refused(data):
    """Check a prior returning draws of the wrong width gets a clear error."""

    class Wrong:
        def sample(self, n, generator):
            return torch.zeros(n, 5)

    with pytest.raises(ValueError, match=r"returned shape \(\d+, 5\), expected"):
        AdversarialAE(prior=Wrong(), max_epochs=1, **SMALL).fit(data)
