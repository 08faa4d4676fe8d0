"""Tests of NeighborEmbeddingAE, its graph (skae.graph) and its loss terms."""

import copy
import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_swiss_roll
from sklearn.manifold import trustworthiness
from sklearn.model_selection import train_test_split

from skae import AutoEncoderTransformer, NeighborEmbeddingAE
from skae.graph import (
    fuzzy_neighbor_graph,
    nearest_neighbors,
    tsne_affinities,
    umap_curve_params,
)
from skae.losses import tsne_kl_terms, umap_cross_entropy
from skae.modules import MLPDecoder, MLPEncoder, NeighborEmbeddingModel
from skae.likelihoods import Gaussian


def _blobs(n=120, d=6, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=5.0, size=(3, d))
    return centers[rng.integers(3, size=n)] + rng.normal(size=(n, d))


# ----------------------------------------------------------------------
# The graph
# ----------------------------------------------------------------------
def test_fuzzy_graph_matches_umap_learn():
    """Check the fuzzy simplicial set, sigmas and rhos against umap-learn's."""
    umap_ = pytest.importorskip("umap.umap_")
    X = _blobs(80)
    distances, indices = nearest_neighbors(X, 9)
    graph, sigmas, rhos = fuzzy_neighbor_graph(distances, indices)
    # umap-learn counts each point as its own first neighbour.
    knn_d = np.hstack([np.zeros((len(X), 1)), distances])
    knn_i = np.hstack([np.arange(len(X))[:, None], indices])
    expected, sig, rho = umap_.fuzzy_simplicial_set(
        X, 10, 0, "euclidean", knn_indices=knn_i, knn_dists=knn_d
    )[:3]
    np.testing.assert_allclose(graph.toarray(), expected.toarray(), atol=1e-5)
    np.testing.assert_allclose(sigmas, sig, rtol=1e-4)
    np.testing.assert_allclose(rhos, rho, rtol=1e-5)


def test_fuzzy_graph_memberships_follow_the_definition():
    """Check that each directed membership's row sums to log2(k + 1), that
    the nearest neighbour has membership 1, and the fuzzy union."""
    X = _blobs(40)
    distances, indices = nearest_neighbors(X, 5)
    graph, sigmas, rhos = fuzzy_neighbor_graph(distances, indices)
    P = np.exp(-np.maximum(distances - rhos[:, None], 0) / sigmas[:, None])
    np.testing.assert_allclose(P.sum(axis=1), np.log2(6), rtol=1e-4)
    assert np.all(P[:, 0] == 1.0)
    D = np.zeros((40, 40))
    D[np.repeat(np.arange(40), 5), indices.ravel()] = P.ravel()
    np.testing.assert_allclose(graph.toarray(), D + D.T - D * D.T, atol=1e-12)


def test_umap_curve_params_match_umap_learn():
    """Check a, b against umap-learn's find_ab_params."""
    umap_ = pytest.importorskip("umap.umap_")
    for spread, min_dist in [(1.0, 0.1), (1.0, 0.5), (2.0, 0.01)]:
        np.testing.assert_allclose(
            umap_curve_params(spread, min_dist), umap_.find_ab_params(spread, min_dist),
            rtol=1e-6,
        )


def test_tsne_affinities_have_the_perplexity_and_sum_to_one():
    """Check each conditional's perplexity, symmetry and the total of 1,
    recomputing the conditionals from P's definition."""
    X = _blobs(60)
    distances, indices = nearest_neighbors(X, 30)
    P = tsne_affinities(distances, indices, perplexity=8).toarray()
    assert P.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(P, P.T)
    # Conditionals recomputed with the beta that P's rows imply: the
    # entropy of each row's Gaussian kernel over its neighbours.
    for i in range(0, 60, 7):
        d2 = distances[i] ** 2
        # find beta by bisection, independently of skae.graph
        lo, hi = 1e-8, 1e3
        for _ in range(200):
            beta = np.sqrt(lo * hi)
            p = np.exp(-beta * (d2 - d2[0]))
            p /= p.sum()
            H = -(p * np.log(p + 1e-300)).sum()
            lo, hi = (beta, hi) if H > np.log(8) else (lo, beta)
        assert np.exp(H) == pytest.approx(8, rel=1e-3)


# ----------------------------------------------------------------------
# The loss terms
# ----------------------------------------------------------------------
def test_umap_cross_entropy_matches_direct_computation():
    """Check the graph term against -log q(d) - sum log(1 - q(d_neg)) with
    q = 1 / (1 + a d^(2b)), computed from distances directly."""
    g = torch.Generator().manual_seed(0)
    head, tail = torch.randn(7, 2, generator=g), torch.randn(7, 2, generator=g)
    negatives = 3 * torch.randn(7, 4, 2, generator=g)
    a, b = 1.577, 0.895
    q = 1 / (1 + a * torch.linalg.norm(head - tail, dim=1) ** (2 * b))
    q_neg = 1 / (1 + a * torch.linalg.norm(head[:, None] - negatives, dim=2) ** (2 * b))
    expected = -torch.log(q) - torch.log(1 - q_neg).sum(dim=1)
    got = umap_cross_entropy(head, tail, negatives, a, b, eps=0.0)
    torch.testing.assert_close(got, expected)


def test_tsne_kl_terms_give_the_kl_divergence_on_a_tiny_graph():
    """Check that, with every ordered pair as an edge and as a negative,
    the weighted terms give KL(P || Q) of t-SNE computed directly."""
    n = 5
    rng = np.random.default_rng(0)
    P = rng.random((n, n))
    np.fill_diagonal(P, 0)
    P = (P + P.T) / (P + P.T).sum()
    Y = torch.tensor(rng.normal(size=(n, 2)))
    W = 1 / (1 + torch.cdist(Y, Y) ** 2)
    W.fill_diagonal_(0)
    Q = (W / W.sum()).numpy()
    off = ~np.eye(n, dtype=bool)
    kl = np.sum(P[off] * np.log(P[off] / Q[off]))
    i, j = np.nonzero(off)
    terms = tsne_kl_terms(Y[i], Y[j], Y[j][:, None])
    got = float((torch.tensor(P[i, j]) * terms).sum())
    got += np.sum(P[off] * np.log(P[off])) + np.log(n * (n - 1))
    assert got == pytest.approx(kl, rel=1e-10)


def test_model_terms_are_the_graph_term_and_head_reconstruction():
    """Check the module's two terms: the graph term on the encoded ends with
    its own negative draws, and the reconstruction of the heads."""
    torch.manual_seed(0)
    model = NeighborEmbeddingModel(
        MLPEncoder(4, (8,), 2), MLPDecoder(2, (8,), 4), Gaussian(),
        negative_sample_rate=3, seed=5,
    )
    head, tail = torch.randn(6, 4), torch.randn(6, 4)
    terms = model(head, tail)
    z_head, z_tail = model.encoder(head), model.encoder(tail)
    pick = torch.randint(6, (6, 3), generator=torch.Generator().manual_seed(5))
    expected = umap_cross_entropy(z_head, z_tail, z_tail[pick], model.a, model.b)
    torch.testing.assert_close(terms.neighbors, expected)
    rec = ((model.decoder(z_head) - head) ** 2).mean(dim=1)
    torch.testing.assert_close(terms.reconstruction, rec)


def test_input_noise_perturbs_the_encoder_inputs_in_training_only():
    """Check that, in training, the encoder sees the rows plus input_noise
    times Gaussian noise times a factor uniform in [0, 2] per row (drawn
    before the negatives, from the model's own generator) while the
    reconstruction target stays the clean row; in evaluation the rows go in
    clean."""
    torch.manual_seed(0)
    model = NeighborEmbeddingModel(
        MLPEncoder(4, (8,), 2), MLPDecoder(2, (8,), 4), Gaussian(),
        negative_sample_rate=3, input_noise=0.5, seed=5,
    )
    head, tail = torch.randn(6, 4), torch.randn(6, 4)
    terms = model.train()(head, tail)
    generator = torch.Generator().manual_seed(5)
    noise = torch.randn(12, 4, generator=generator)
    factor = torch.rand(12, 1, generator=generator)
    noisy = torch.cat([head, tail]) + 0.5 * (2 * factor) * noise
    pick = torch.randint(6, (6, 3), generator=generator)
    z = model.encoder(noisy)
    expected = umap_cross_entropy(z[:6], z[6:], z[6:][pick], model.a, model.b)
    torch.testing.assert_close(terms.neighbors, expected)
    rec = ((model.decoder(z[:6]) - head) ** 2).mean(dim=1)
    torch.testing.assert_close(terms.reconstruction, rec)
    model.eval()
    model.generator = type(model.generator)(5)
    clean = model(head, tail)
    z_head, z_tail = model.encoder(head), model.encoder(tail)
    pick = torch.randint(6, (6, 3), generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(
        clean.neighbors, umap_cross_entropy(z_head, z_tail, z_tail[pick], model.a, model.b)
    )


# ----------------------------------------------------------------------
# What the estimator is for
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def swiss_roll():
    """A swiss roll, rotated into 10 dimensions, split 600 / 300."""
    X, t = make_swiss_roll(900, noise=0.05, random_state=0)
    rotation = np.linalg.qr(np.random.default_rng(0).normal(size=(10, 10)))[0][:3]
    X = X @ rotation
    return train_test_split(X, t, test_size=300, random_state=0)


@pytest.fixture(scope="module")
def roll_embedding(swiss_roll):
    """NeighborEmbeddingAE (UMAP objective, default noise) fitted on the
    swiss roll's training part, with the network of the autoencoder it is
    compared with."""
    X_train = swiss_roll[0]
    return NeighborEmbeddingAE(max_epochs=40, **_ROLL_NETWORK).fit(X_train)


_ROLL_NETWORK = dict(hidden_layer_sizes=(256, 256), activation="relu", random_state=0)


@pytest.mark.xdist_group("roll_embedding")
def test_codes_keep_neighbours_that_the_autoencoder_tears(swiss_roll, roll_embedding):
    """Check that the held-out codes of a swiss roll keep their neighbours
    (trustworthiness) better than an AutoEncoderTransformer's with the same
    network: the reconstruction error alone lets the roll's layers overlap
    in 2-D (UMAP gets 0.993 here, the autoencoder about 0.962, the neighbour
    embedding about 0.98 after 40 epochs)."""
    X_train, X_test, _, _ = swiss_roll
    ae = AutoEncoderTransformer(max_epochs=100, early_stopping=False, **_ROLL_NETWORK)
    ae.fit(X_train)
    trust_ne = trustworthiness(X_test, roll_embedding.transform(X_test), n_neighbors=10)
    trust_ae = trustworthiness(X_test, ae.transform(X_test), n_neighbors=10)
    assert trust_ne > 0.975
    assert trust_ne > trust_ae + 0.01


def _neighbour_overlap(X, Z):
    _, idx_x = nearest_neighbors(X, 10)
    _, idx_z = nearest_neighbors(Z, 10)
    return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(idx_x, idx_z)])


@pytest.mark.xdist_group("roll_embedding")
def test_codes_of_neighbours_are_closer_than_codes_of_others(swiss_roll, roll_embedding):
    """Check, for both objectives, that a sample's 10 nearest neighbours in
    the data are mostly among its 10 nearest in the codes."""
    X_train = swiss_roll[0]
    assert _neighbour_overlap(X_train, roll_embedding.transform(X_train)) > 0.5
    ne = NeighborEmbeddingAE(
        objective="tsne", perplexity=10, hidden_layer_sizes=(64, 64), max_epochs=20,
        random_state=0,
    ).fit(X_train)
    assert _neighbour_overlap(X_train, ne.transform(X_train)) > 0.5


def test_reconstruction_term_trains_the_decoder(swiss_roll):
    """Check that the reconstruction term makes inverse_transform rebuild
    held-out points, which the graph term alone does not."""
    X_train, X_test, _, _ = swiss_roll
    errors = {}
    for weight in (0.0, 1.0):
        ne = NeighborEmbeddingAE(
            reconstruction_weight=weight, hidden_layer_sizes=(64, 64), max_epochs=10,
            random_state=0,
        ).fit(X_train)
        errors[weight] = np.mean((ne.inverse_transform(ne.transform(X_test)) - X_test) ** 2)
    assert errors[1.0] < 0.5 * errors[0.0]


# ----------------------------------------------------------------------
# The estimator's contract
# ----------------------------------------------------------------------
def test_same_random_state_gives_same_codes():
    """Check that two fits with the same random_state agree exactly and a
    third with another seed does not."""
    X = _blobs()
    kw = dict(hidden_layer_sizes=(16,), max_epochs=3)
    a = NeighborEmbeddingAE(random_state=0, **kw).fit_transform(X)
    b = NeighborEmbeddingAE(random_state=0, **kw).fit_transform(X)
    c = NeighborEmbeddingAE(random_state=1, **kw).fit_transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_streamed_data_give_the_same_fit():
    """Check that edges gathered from host memory (stream_data=True) train
    exactly as from the one tensor."""
    X = _blobs().astype(np.float32)
    kw = dict(hidden_layer_sizes=(16,), max_epochs=3, random_state=0)
    a = NeighborEmbeddingAE(stream_data=False, **kw).fit_transform(X)
    b = NeighborEmbeddingAE(stream_data=True, **kw).fit_transform(X)
    np.testing.assert_array_equal(a, b)


def test_fitted_model_holds_no_training_rows():
    """Check that the pickled model does not grow with the training data."""
    sizes = []
    for n in (100, 2000):
        X = _blobs(n)
        ne = NeighborEmbeddingAE(hidden_layer_sizes=(16,), max_epochs=1, random_state=0)
        sizes.append(len(pickle.dumps(ne.fit(X))))
    assert abs(sizes[1] - sizes[0]) < 2000


def test_partial_fit_trains_one_epoch_per_chunk():
    """Check that partial_fit trains one epoch on each chunk's graph."""
    X = _blobs(200)
    ne = NeighborEmbeddingAE(hidden_layer_sizes=(16,), random_state=0)
    ne.partial_fit(X[:100]).partial_fit(X[100:])
    assert ne.n_epochs_ == 2
    assert ne.transform(X).shape == (200, 2)


def test_fitted_attributes():
    """Check a_, b_ (UMAP's curve; None for t-SNE) and input_noise_scale_:
    input_noise times the median nearest-neighbour distance, per feature,
    in the standardised units, handed to the model."""
    X = _blobs()
    ne = NeighborEmbeddingAE(min_dist=0.5, hidden_layer_sizes=(8,), max_epochs=1).fit(X)
    assert (ne.a_, ne.b_) == pytest.approx(umap_curve_params(1.0, 0.5))
    gaps = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1)) + np.diag(np.full(len(X), np.inf))
    common = np.sqrt(np.mean(X.var(axis=0)))
    expected = 1.0 * np.median(gaps.min(axis=1)) / common / np.sqrt(X.shape[1])
    assert ne.input_noise_scale_ == pytest.approx(expected)
    assert ne.net_.module_.input_noise == pytest.approx(expected)
    ne = NeighborEmbeddingAE(input_noise=0, hidden_layer_sizes=(8,), max_epochs=1).fit(X)
    assert ne.input_noise_scale_ == 0 and ne.net_.module_.input_noise == 0
    ne = NeighborEmbeddingAE(objective="tsne", perplexity=5, hidden_layer_sizes=(8,),
                             max_epochs=1).fit(X)
    assert ne.a_ is None and ne.b_ is None


def test_bad_input_raises_clear_errors():
    """Check the messages for one sample and for a bad objective."""
    with pytest.raises(ValueError, match="at least 2 samples"):
        NeighborEmbeddingAE().fit(np.ones((1, 3)))
    with pytest.raises(ValueError, match="objective"):
        NeighborEmbeddingAE(objective="pca").fit(_blobs())


def test_few_samples_use_every_other_sample_as_neighbour():
    """Check that fewer samples than n_neighbors + 1 still fit."""
    X = _blobs(6)
    ne = NeighborEmbeddingAE(n_neighbors=15, hidden_layer_sizes=(8,), max_epochs=2).fit(X)
    assert np.all(np.isfinite(ne.transform(X)))


def test_auto_epochs_learning_rate_and_cosine_schedule():
    """Check that max_epochs="auto" gives about twelve million edge samples
    (within 10 to 100 epochs, at most 50 for a graph of under ten batches),
    that lr="auto" is 1e-2 up to 4,000 gradient steps and 1e-2 * sqrt(4000
    / steps) beyond, and that the cosine schedule ends near zero, while
    "constant" keeps the learning rate."""
    ne = NeighborEmbeddingAE(n_neighbors=25)
    assert ne._n_epochs(6000) == 80  # 12e6 / (6000 * 25)
    assert ne._n_epochs(1000) == 100 and ne._n_epochs(1_000_000) == 10
    assert ne._n_epochs(200) == 50  # 5,000 edges: under ten batches of 512
    ne = NeighborEmbeddingAE()
    assert ne._learning_rate(1347) == 1e-2  # 100 epochs of 40 batches: 4,000 steps
    steps = 100 * 235  # 8,000 samples: 120,000 edges, 235 batches of 512
    assert ne._learning_rate(8000) == pytest.approx(1e-2 * np.sqrt(4000 / steps))
    assert NeighborEmbeddingAE(lr=0.05)._learning_rate(8000) == 0.05
    X = _blobs(200, d=3)
    ne = NeighborEmbeddingAE(hidden_layer_sizes=(8,), n_neighbors=5, max_epochs=3,
                             random_state=0).fit(X)
    assert ne.n_epochs_ == 3
    assert ne.learning_rate_ == 1e-2  # 6 steps
    assert ne.net_.optimizer_.param_groups[0]["lr"] < 1e-2 * ne.learning_rate_
    ne = NeighborEmbeddingAE(hidden_layer_sizes=(8,), n_neighbors=5, max_epochs=3,
                             lr_schedule="constant", lr=3e-3, random_state=0).fit(X)
    assert ne.n_epochs_ == 3
    assert ne.learning_rate_ == ne.net_.optimizer_.param_groups[0]["lr"] == 3e-3


def test_float64_transform_computes_the_networks_gelu():
    """Check that float64 input, encoded by a float64 copy whose exact GELUs
    go through torch.erf (torch's float64 gelu kernel is slow on CPU),
    gets the codes of the trained network in float64 (torch's own GELU)
    to round-off, and that the trained network keeps its nn.GELU."""
    X = _blobs(60, d=4)
    ne = NeighborEmbeddingAE(hidden_layer_sizes=(8, 8), max_epochs=1, random_state=0).fit(X)
    reference = copy.deepcopy(ne.net_.module_).double().eval()
    with torch.no_grad():
        expected = reference.encode(torch.as_tensor(X, dtype=torch.float64)).numpy()
    codes = ne.transform(X.astype(np.float64))
    assert codes.dtype == np.float64
    np.testing.assert_allclose(codes, expected, rtol=0, atol=1e-12)
    assert any(type(m) is torch.nn.GELU for m in ne.net_.module_.encoder.modules())
    copy64 = ne._predict_cache["float64"]
    assert not any(type(m) is torch.nn.GELU for m in copy64.modules())
