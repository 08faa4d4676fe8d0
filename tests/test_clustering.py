"""Tests of AdversarialClustering: the clusterer's contract, blobs recovered,
and the categorical half of the adversarial game."""

import numpy as np
import pytest
import torch
from scipy.stats import chisquare
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.decomposition import PCA
from sklearn.preprocessing import Normalizer
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from skae import AdversarialClustering, NeighborEmbeddingAE
from skae.losses import cluster_balance_loss, neighbor_consistency_loss
from skae.modules import ClusteringModel, Discriminator
from skae.priors import Categorical

# The clustering network on the data themselves (the default's neighbour
# embedding has tests of its own below).
SMALL = dict(hidden_layer_sizes=(32,), max_epochs=30, early_stopping=False, random_state=0,
             embedding=None)


@pytest.fixture(scope="module")
def blobs4():
    return make_blobs(400, n_features=10, centers=4, random_state=0)


@pytest.fixture(scope="module")
def fitted(blobs4):
    X, _ = blobs4
    return AdversarialClustering(4, **SMALL).fit(X)


def test_recovers_well_separated_blobs(fitted, blobs4):
    """Check the clusters of four well-separated blobs are found: a high
    adjusted Rand index, every cluster used, confident assignments."""
    X, y = blobs4
    assert adjusted_rand_score(y, fitted.labels_) > 0.9
    assert len(np.unique(fitted.labels_)) == 4
    assert fitted.predict_proba(X).max(axis=1).mean() > 0.6  # uniform: 0.25


def test_clusterer_contract(fitted, blobs4):
    """Check labels_, predict, fit_predict, predict_proba, transform and
    inverse_transform agree with each other."""
    X, _ = blobs4
    np.testing.assert_array_equal(fitted.labels_, fitted.predict(X))
    assert fitted.labels_.dtype == np.int64
    np.testing.assert_array_equal(clone(fitted).fit_predict(X), fitted.labels_)
    proba = fitted.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), fitted.labels_)
    codes = fitted.transform(X)
    assert codes.shape == (400, 4 + 1)
    np.testing.assert_allclose(codes[:, :4], proba, rtol=1e-6)
    assert fitted.inverse_transform(codes).shape == X.shape
    with pytest.raises(ValueError, match="n_clusters \\+ n_components = 5"):
        fitted.inverse_transform(codes[:, :4])
    assert fitted.sample(5, random_state=0).shape == (5, 10)


def test_categorical_prior_draws_uniform_one_hot_vectors():
    """Check the categorical prior: one-hot rows, categories equally likely
    (chi-square test)."""
    draws = Categorical(7).sample(7000, torch.Generator().manual_seed(0))
    assert torch.all(draws.sum(dim=1) == 1) and set(draws.unique().tolist()) == {0.0, 1.0}
    assert chisquare(draws.sum(dim=0).numpy()).pvalue > 0.01


def test_cluster_discriminator_tells_one_hot_draws_from_softmax_codes(blobs4, monkeypatch):
    """Check the categorical discriminator sees n_clusters-wide rows: one-hot
    prior draws against softmax codes (rows summing to 1), never class
    indices or the style code."""
    X, _ = blobs4
    seen = []
    forward = Discriminator.forward

    def recording(self, z):
        if self.batch_mean:
            seen.append(z.detach().clone())
        return forward(self, z)

    monkeypatch.setattr(Discriminator, "forward", recording)
    AdversarialClustering(4, **{**SMALL, "max_epochs": 1}).fit(X)
    assert seen and all(z.shape[1] == 4 for z in seen)
    assert all(torch.allclose(z.sum(dim=1), torch.ones(len(z))) for z in seen)
    one_hot = [z for z in seen if set(z.unique().tolist()) <= {0.0, 1.0}]
    soft = [z for z in seen if not set(z.unique().tolist()) <= {0.0, 1.0}]
    assert one_hot and soft  # both the prior's draws and the encoder's codes


def test_history_records_both_discriminators_and_every_term(fitted):
    """Check the discriminators' summed loss and mean accuracy are recorded,
    and train_loss is the reconstruction plus the weighted other terms."""
    row = fitted.history_[-1]
    assert row["discriminator_loss"] > 0 and 0 < row["discriminator_accuracy"] < 1
    assert len(fitted.net_.discriminator_) == 2
    for row in (fitted.history_[0], fitted.history_[20], fitted.history_[-2]):  # annealing
        expected = (row["reconstruction_loss"] + fitted.neighbor_weight * row["neighbor_loss"]
                    + fitted.balance_weight * row["balance_anneal"] * row["balance_loss"])
        assert row["train_loss"] == pytest.approx(expected, rel=1e-5)


def test_balance_forces_anneal_linearly_after_balance_anneal_start(blobs4, monkeypatch):
    """Check the balance term's weight and the cluster code's adversarial
    weight stay whole for the first balance_anneal_start of the epochs, then
    fall linearly to 0 at the last, the style code's adversary untouched;
    balance_anneal_start=1 keeps them constant."""
    X, _ = blobs4
    weights = []
    generator_terms = ClusteringModel.generator_terms

    def recording(self, parts, weights_=None):
        if torch.is_grad_enabled():
            weights.append(None if weights_ is None else list(weights_))
        return generator_terms(self, parts, weights_)

    monkeypatch.setattr(ClusteringModel, "generator_terms", recording)
    small = {**SMALL, "max_epochs": 5, "batch_size": 200}
    model = AdversarialClustering(4, balance_anneal_start=0.4, **small).fit(X)
    # int(0.4 * 5) = 2 whole epochs, then 1 - (e - 2) / (5 - 1 - 2).
    np.testing.assert_allclose(model.history_[:, "balance_anneal"], [1, 1, 1, 0.5, 0])
    assert [w for w in weights if w is not None] == [[0.5, 1.0]] * 2 + [[0.0, 1.0]] * 2
    assert model.net_.criterion_.weights["balance"] == model.balance_weight  # restored
    weights.clear()
    model = AdversarialClustering(4, balance_anneal_start=1.0, **small).fit(X)
    np.testing.assert_allclose(model.history_[:, "balance_anneal"], 1)
    assert all(w is None for w in weights)


def test_clustering_terms_match_independent_computation(seeded_torch_rng):
    """Check the neighbour term is -log of the probability that a sample and
    its neighbour draw the same cluster, and the balance term the KL
    divergence from the uniform distribution to the mean assignment."""
    p = torch.softmax(torch.randn(6, 4), dim=1)
    q = torch.softmax(torch.randn(6, 4), dim=1)
    same = torch.stack([(p[i] * q[i]).sum() for i in range(6)])
    torch.testing.assert_close(neighbor_consistency_loss(p, q), -torch.log(same))
    uniform = torch.distributions.Categorical(probs=torch.full((4,), 0.25))
    mean = torch.distributions.Categorical(probs=p.mean(dim=0))
    torch.testing.assert_close(cluster_balance_loss(p),
                               torch.distributions.kl_divergence(mean, uniform))


def test_neighbor_term_sees_nearest_neighbors_from_the_training_set(blobs4, monkeypatch):
    """Check the neighbour of each sample that the model is given is one of
    its n_neighbors nearest neighbours in the training set, and that the
    fitted net keeps no reference to the training data."""
    X, _ = blobs4
    X = X.astype(np.float32)
    index = NearestNeighbors(n_neighbors=3).fit(X).kneighbors(return_distance=False)
    pairs = []
    train_terms = ClusteringModel.train_terms

    def recording(self, X_batch, neighbors=None):
        if self.training:
            pairs.append((X_batch.numpy().copy(), neighbors.numpy().copy()))
        return train_terms(self, X_batch, neighbors)

    monkeypatch.setattr(ClusteringModel, "train_terms", recording)
    model = AdversarialClustering(
        4, n_neighbors=3, standardize=False, **{**SMALL, "max_epochs": 1}).fit(X)
    rows = {x.tobytes(): i for i, x in enumerate(X)}
    for batch, neighbors in pairs:
        for x, neighbor in zip(batch, neighbors):
            assert rows[neighbor.tobytes()] in index[rows[x.tobytes()]]
    assert getattr(model.net_, "_rows", None) is None


def test_paper_terms_only_computes_no_neighbors(blobs4, monkeypatch):
    """Check neighbor_weight=0 trains the paper's model: no neighbour search,
    a zero neighbour term."""
    X, _ = blobs4

    def fail(*args, **kwargs):
        raise AssertionError("neighbours searched")

    monkeypatch.setattr(NearestNeighbors, "fit", fail)
    model = AdversarialClustering(
        4, neighbor_weight=0.0, balance_weight=0.0, **{**SMALL, "max_epochs": 1}).fit(X)
    assert model.history_[-1]["neighbor_loss"] == 0


@pytest.mark.parametrize(
    "params, match",
    [(dict(n_clusters=0), "n_clusters"), (dict(n_components=0), "n_components"),
     (dict(n_neighbors=0), "n_neighbors"), (dict(neighbor_weight=-1.0), "neighbor_weight"),
     (dict(balance_weight=-1.0), "balance_weight"),
     (dict(balance_anneal_start=1.5), "balance_anneal_start"),
     (dict(embedding="umap"), "embedding"),
     (dict(embedding=PCA(2), loss="bce"), "loss='bce' reconstructs the embedding's codes")],
)
def test_bad_parameters_are_named_in_the_error(blobs4, params, match):
    X, _ = blobs4
    with pytest.raises(ValueError, match=match):
        AdversarialClustering(**{**SMALL, "max_epochs": 1, **params}).fit(X)


def test_neighbor_embedding_clusters_digits_better_than_the_pixels():
    """Check clustering the codes of a neighbour embedding finds the digits
    far better than clustering their pixels (adjusted Rand index)."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:800], y[:800]
    raw = AdversarialClustering(10, embedding=None, max_epochs=40, random_state=0).fit(X)
    embedding = NeighborEmbeddingAE(n_components=10, max_epochs=10, random_state=0)
    embedded = AdversarialClustering(10, embedding=embedding, max_epochs=40,
                                     random_state=0).fit(X)
    raw_ari = adjusted_rand_score(y, raw.labels_)
    embedded_ari = adjusted_rand_score(y, embedded.labels_)
    assert embedded_ari > 0.75 and embedded_ari > raw_ari + 0.1, (raw_ari, embedded_ari)


def test_default_embedding_is_a_seeded_neighbor_embedding(blobs4):
    """Check embedding="neighbors" fits a NeighborEmbeddingAE on X, seeded
    from random_state (the same random_state, the same labels), and
    recovers well-separated blobs."""
    X, y = blobs4
    params = dict(max_epochs=30, random_state=0)
    model = AdversarialClustering(4, **params).fit(X)
    assert isinstance(model.embedding_, NeighborEmbeddingAE)
    assert model.embedding_.n_components_ == model.mean_.shape[0]
    assert adjusted_rand_score(y, model.labels_) > 0.9
    np.testing.assert_array_equal(AdversarialClustering(4, **params).fit_predict(X),
                                  model.labels_)


def test_network_reads_the_embedding_codes_and_decodes_through_it(blobs4):
    """Check a given transformer is cloned and fitted on X, the network reads
    its codes (predictions equal those of the network on them) and codes are
    decoded back through its inverse_transform."""
    X, _ = blobs4
    pca = PCA(3)
    model = AdversarialClustering(4, **{**SMALL, "embedding": pca}).fit(X)
    assert not hasattr(pca, "components_")  # the caller's estimator is left unfitted
    codes = model.embedding_.transform(X)
    np.testing.assert_allclose(model.embedding_.components_, PCA(3).fit(X).components_,
                               atol=1e-6)
    assert model.n_features_in_ == 10 and model.mean_.shape == (3,)
    inner = AdversarialClustering(4, **SMALL)
    inner.__dict__.update({**model.__dict__, "embedding": None, "_predict_cache": {}})
    inner.embedding_, inner.n_features_in_ = None, 3  # the same network, reading codes
    np.testing.assert_array_equal(inner.predict(codes), model.predict(X))
    decoded = model.inverse_transform(model.transform(X[:5]))
    np.testing.assert_allclose(
        decoded, model.embedding_.inverse_transform(inner.inverse_transform(inner.transform(codes[:5]))),
        rtol=1e-6)
    assert decoded.shape == (5, 10)


def test_decoding_through_an_embedding_without_inverse_is_refused(blobs4):
    """Check sample (decoding to the data's space) names the embedding that
    has no inverse_transform instead of returning codes of the wrong space."""
    X, _ = blobs4
    model = AdversarialClustering(4, **{**SMALL, "max_epochs": 1, "embedding": Normalizer()})
    model.fit(X)
    with pytest.raises(AttributeError, match="Normalizer has no inverse_transform"):
        model.sample(3, random_state=0)
