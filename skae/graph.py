"""Neighbour graphs of the training data, and the curve of UMAP's low-dimensional similarity.

The neighbour-preserving autoencoder (:class:`skae.NeighborEmbeddingAE`)
learns codes that keep the neighbours of a k-nearest-neighbour graph of
the training data. This module builds that graph with scikit-learn's
:class:`~sklearn.neighbors.NearestNeighbors` and weighs its edges in one of
two ways:

* :func:`fuzzy_neighbor_graph`: UMAP's fuzzy simplicial set (McInnes et
  al. 2018), the membership ``exp(-(d_ij - rho_i) / sigma_i)`` of each
  directed edge, symmetrised by the fuzzy union
  ``w_ij = p_ij + p_ji - p_ij p_ji``;
* :func:`tsne_affinities`: t-SNE's joint probabilities (van der Maaten and
  Hinton 2008) restricted to ``3 * perplexity`` neighbours, the
  conditionals ``p_j|i`` of a Gaussian kernel whose width gives the
  perplexity, symmetrised ``p_ij = (p_j|i + p_i|j) / (2 n)``.

:func:`umap_curve_params` fits the ``a, b`` of UMAP's similarity
``1 / (1 + a d^(2b))`` in the embedding to ``min_dist`` and ``spread``.
The functions are small NumPy/SciPy code, so the library needs no
``umap-learn``; the tests check them against it.
"""

import numpy as np
from scipy import sparse
from scipy.optimize import curve_fit
from sklearn.neighbors import NearestNeighbors

__all__ = ["fuzzy_neighbor_graph", "tsne_affinities", "umap_curve_params", "nearest_neighbors"]

_SMOOTH_K_TOLERANCE = 1e-5
# sigma_i is at least this fraction of the mean neighbour distance (UMAP's
# MIN_K_DIST_SCALE), so that a point in a tight cluster keeps a usable kernel.
_MIN_K_DIST_SCALE = 1e-3


def nearest_neighbors(X, n_neighbors):
    """The ``n_neighbors`` nearest neighbours of each row of ``X``, itself
    excluded, by exact Euclidean distance.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data.
    n_neighbors : int
        Neighbours per sample, at most ``n_samples - 1``.

    Returns
    -------
    distances, indices : ndarray of shape (n_samples, n_neighbors)
        Sorted by distance.
    """
    nn = NearestNeighbors(n_neighbors=n_neighbors).fit(X)
    # kneighbors() without X leaves each point out of its own neighbours,
    # duplicates included (they are neighbours at distance 0).
    distances, indices = nn.kneighbors()
    return distances.astype(np.float64), indices


def _binary_search(fun, target, n_iter=64):
    """Per-row scale ``s`` with ``fun(s) == target``, ``fun`` increasing in ``s``."""
    lo = np.zeros(len(target))
    hi = np.full(len(target), np.inf)
    mid = np.ones(len(target))
    for _ in range(n_iter):
        value = fun(mid)
        if np.all(np.abs(value - target) < _SMOOTH_K_TOLERANCE):
            break
        above = value > target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
        mid = np.where(np.isinf(hi), mid * 2, (lo + hi) / 2)
    return mid


def _symmetric(rows, cols, values, n, union):
    P = sparse.csr_matrix((values, (rows, cols)), shape=(n, n))
    P.eliminate_zeros()
    Pt = P.T.tocsr()
    if union:
        return (P + Pt - P.multiply(Pt)).tocoo()
    return ((P + Pt) / (2.0 * n)).tocoo()


def fuzzy_neighbor_graph(distances, indices):
    """UMAP's fuzzy simplicial set of a k-nearest-neighbour graph.

    For each sample ``i`` with neighbour distances ``d_i1 <= ... <= d_ik``:
    ``rho_i = d_i1`` (the nearest non-zero distance: every point is fully
    connected to its nearest neighbour, UMAP's ``local_connectivity=1``)
    and ``sigma_i`` solves ``sum_j exp(-max(0, d_ij - rho_i) / sigma_i) =
    log2(k + 1)`` (UMAP counts the point itself among its ``k + 1``
    neighbours). The directed memberships ``p_j|i = exp(-max(0, d_ij -
    rho_i) / sigma_i)`` are symmetrised by the fuzzy union
    ``w_ij = p_j|i + p_i|j - p_j|i p_i|j``.

    Parameters
    ----------
    distances, indices : ndarray of shape (n_samples, k)
        The neighbours of each sample, itself excluded, sorted by distance
        (:func:`nearest_neighbors`).

    Returns
    -------
    graph : scipy.sparse.coo_matrix of shape (n_samples, n_samples)
        Symmetric edge weights in (0, 1].
    sigmas, rhos : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from skae.graph import fuzzy_neighbor_graph, nearest_neighbors
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> graph, sigmas, rhos = fuzzy_neighbor_graph(*nearest_neighbors(X, 5))
    >>> graph.shape, bool(abs(graph - graph.T).max() < 1e-12)
    ((20, 20), True)
    """
    n, k = distances.shape
    target = np.log2(k + 1)
    nonzero = np.where(distances > 0, distances, np.inf)
    rhos = nonzero.min(axis=1)
    rhos[np.isinf(rhos)] = 0.0
    excess = np.maximum(distances - rhos[:, None], 0.0)
    sigmas = _binary_search(
        lambda s: np.exp(-excess / s[:, None]).sum(axis=1), np.full(n, target)
    )
    # As UMAP: sigma_i is at least a small fraction of the mean distance to
    # the neighbours (of all points when the row has only duplicates).
    mean_row = distances.mean(axis=1)
    floor = _MIN_K_DIST_SCALE * np.where(rhos > 0, mean_row, distances.mean())
    sigmas = np.maximum(sigmas, floor)
    memberships = np.exp(-excess / sigmas[:, None])
    rows = np.repeat(np.arange(n), k)
    graph = _symmetric(rows, indices.ravel(), memberships.ravel(), n, union=True)
    return graph, sigmas, rhos


def tsne_affinities(distances, indices, perplexity):
    """t-SNE's joint probabilities on a k-nearest-neighbour graph.

    ``p_j|i`` is proportional to ``exp(-beta_i d_ij^2)`` over the ``k``
    neighbours of ``i``, with ``beta_i`` set by binary search so that the
    perplexity ``2^H(P_i)`` equals ``perplexity``; then ``p_ij = (p_j|i +
    p_i|j) / (2 n)``, which sums to 1. scikit-learn's ``TSNE`` uses the
    same ``k = 3 * perplexity`` neighbours.

    Parameters
    ----------
    distances, indices : ndarray of shape (n_samples, k)
        The neighbours of each sample, itself excluded (:func:`nearest_neighbors`).
    perplexity : float
        The effective number of neighbours, below ``k``.

    Returns
    -------
    P : scipy.sparse.coo_matrix of shape (n_samples, n_samples)
        Symmetric joint probabilities summing to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skae.graph import nearest_neighbors, tsne_affinities
    >>> X = np.random.default_rng(0).normal(size=(30, 3))
    >>> P = tsne_affinities(*nearest_neighbors(X, 15), perplexity=5)
    >>> round(float(P.sum()), 6)
    1.0
    """
    n, k = distances.shape
    sq = distances**2
    sq = sq - sq[:, :1]  # shifted by the nearest: the same p_j|i, no underflow

    def entropy(beta):
        w = np.exp(-sq * beta[:, None])
        p = w / w.sum(axis=1, keepdims=True)
        return -(p * np.log(np.maximum(p, 1e-300))).sum(axis=1)

    # The entropy decreases with beta: search on 1 / beta, where it increases.
    inv_beta = _binary_search(lambda s: entropy(1.0 / s), np.full(n, np.log(perplexity)))
    w = np.exp(-sq / inv_beta[:, None])
    conditional = w / w.sum(axis=1, keepdims=True)
    rows = np.repeat(np.arange(n), k)
    return _symmetric(rows, indices.ravel(), conditional.ravel(), n, union=False)


def umap_curve_params(spread=1.0, min_dist=0.1):
    """``a, b`` of UMAP's similarity ``1 / (1 + a d^(2b))`` in the embedding.

    Least-squares fit, on 300 distances in ``[0, 3 spread]``, to 1 below
    ``min_dist`` and ``exp(-(d - min_dist) / spread)`` above: how tightly
    neighbours may pack (``min_dist``) and how far the similarity reaches
    (``spread``), as in umap-learn's ``find_ab_params``.

    Parameters
    ----------
    spread : float, default=1.0
        Scale of the embedded points: how far similarity reaches.
    min_dist : float, default=0.1
        Distance below which the target similarity is 1: how tightly
        neighbours may pack.

    Returns
    -------
    a, b : float

    Examples
    --------
    >>> from skae.graph import umap_curve_params
    >>> a, b = umap_curve_params(1.0, 0.1)
    >>> round(a, 2), round(b, 2)
    (1.58, 0.9)
    """

    def curve(x, a, b):
        return 1.0 / (1.0 + a * x ** (2 * b))

    xv = np.linspace(0, spread * 3, 300)
    yv = np.where(xv < min_dist, 1.0, np.exp(-(xv - min_dist) / spread))
    (a, b), _ = curve_fit(curve, xv, yv)
    return float(a), float(b)
