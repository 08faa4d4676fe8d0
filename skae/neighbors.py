"""Neighbour-preserving autoencoder: parametric UMAP / t-SNE with a decoder."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors
from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import CosineAnnealingLR

from ._base import _BaseAE
from ._data import ArrayDataset, device_tensor, fits_on_device
from ._docstrings import fill_doc
from .graph import fuzzy_neighbor_graph, nearest_neighbors, tsne_affinities, umap_curve_params
from .losses import RECONSTRUCTION_LOSSES
from .modules.neighbors import OBJECTIVES, NeighborEmbeddingModel
from .utils.validation import Interval, StrOptions


#: Edge samples of a fit with max_epochs="auto" (about 23,000 steps of 512),
#: within 10 to 100 epochs (at most 50 for a graph of under ten batches).
_AUTO_EDGE_SAMPLES = 12_000_000

#: lr="auto": _AUTO_LR up to _AUTO_LR_STEPS gradient steps, then
#: _AUTO_LR * sqrt(_AUTO_LR_STEPS / steps), a fixed lr * sqrt(steps).
_AUTO_LR = 1e-2
_AUTO_LR_STEPS = 4000


class _CosineToZero(LRScheduler):
    """skorch's ``LRScheduler`` with ``CosineAnnealingLR`` over the net's
    ``max_epochs``, read when training begins (``max_epochs="auto"`` is
    resolved from the data)."""

    def __init__(self):
        super().__init__(policy=CosineAnnealingLR, T_max=1)

    def on_train_begin(self, net, **kwargs):
        self.T_max = net.max_epochs
        super().on_train_begin(net, **kwargs)


class _EdgeRows:
    """The edge samples of a neighbour graph as rows of a dataset.

    Indexing by positions gives a batch as a dict of keyword arguments of
    :class:`~skae.modules.NeighborEmbeddingModel`: the data rows at both
    ends of each edge, gathered from ``X`` (on the device when ``X`` is a
    tensor) only for the batch. No ``n_edges x n_features`` array is ever
    made, and the dataset lives only during the fit (the fitted net holds
    no training rows).
    """

    def __init__(self, X, heads, tails):
        self.X = X
        on_tensor = isinstance(X, torch.Tensor)
        device = X.device if on_tensor else "cpu"
        self.heads = torch.as_tensor(heads, dtype=torch.int64, device=device)
        self.tails = torch.as_tensor(tails, dtype=torch.int64, device=device)

    def __len__(self):
        return len(self.heads)

    def _rows(self, index):
        if isinstance(self.X, torch.Tensor):
            return self.X.index_select(0, index)
        # Host memory (stream_data): this batch's rows only, moved by the iterator.
        return self.X[index.numpy()]

    def __getitem__(self, idx):
        if not isinstance(idx, slice):
            idx = torch.as_tensor(np.asarray(idx), dtype=torch.int64, device=self.heads.device)
        return {
            "head": self._rows(self.heads[idx]),
            "tail": self._rows(self.tails[idx]),
        }


@fill_doc
class NeighborEmbeddingAE(_BaseAE):
    """Autoencoder whose codes keep each sample's neighbours (parametric UMAP or t-SNE).

    The loss of a neighbour embedding (UMAP's fuzzy-graph cross-entropy or
    t-SNE's KL divergence, on a k-nearest-neighbour graph of the training
    data) plus a weighted reconstruction term: the encoder ``h`` places
    samples that are neighbours in the data close together in the code
    space, as UMAP and t-SNE do, while the decoder ``g`` learns to map
    codes back to the data. Unlike UMAP and t-SNE, :meth:`transform` of new
    points is one forward pass of the encoder, and
    :meth:`inverse_transform` decodes any point of the code space.

    The graph is built at each :meth:`fit` (and on each chunk of
    :meth:`partial_fit`) with scikit-learn's exact
    :class:`~sklearn.neighbors.NearestNeighbors` on ``X`` as given
    (Euclidean distances in the data's own units, as UMAP; scale the
    features first if their units differ). An epoch is ``n_samples *
    n_neighbors`` edges, drawn in proportion to their weights as UMAP
    samples them, in batches of ``batch_size``; the network sees the data
    centred and divided by one common scale (``standardize``), the
    geometry the graph was built in.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the code.
    n_neighbors : int, default=15
        Neighbours per sample in UMAP's graph (at most ``n_samples - 1``).
        Fewer keep finer local structure, more keep more global structure.
    objective : {"umap", "tsne"}, default="umap"
        The neighbour term: UMAP's cross-entropy between the fuzzy graph
        and the codes' similarities ``1 / (1 + a d^(2b))``
        (:func:`skae.losses.umap_cross_entropy`), or t-SNE's KL divergence
        between the perplexity-calibrated affinities and the codes'
        Student-t similarities (:func:`skae.losses.tsne_kl_terms`).
    min_dist : float, default=0.1
        UMAP's minimum distance between codes of close neighbours: smaller
        values pack clusters more tightly (``objective="umap"``).
    spread : float, default=1.0
        UMAP's scale of the codes; with ``min_dist`` it sets the curve's
        ``a, b`` (:func:`skae.graph.umap_curve_params`).
    perplexity : float, default=30.0
        t-SNE's effective number of neighbours; the graph then has ``3 *
        perplexity`` neighbours per sample (``objective="tsne"``).
    negative_sample_rate : int, default=5
        Non-neighbour pairs drawn per edge, which push codes apart.
    input_noise : float, default=1.0
        Size of the Gaussian noise added to the encoder's inputs during
        training, relative to the data's typical spacing: the noise's
        expected length is ``input_noise`` times the median distance from a
        training sample to its nearest neighbour (``input_noise_scale_`` is
        the resulting per-feature standard deviation, in the units the
        network sees). The decoder still reconstructs the clean rows. An
        encoder trained on the training rows alone fits their graph but
        maps new rows less well (on the digits, trustworthiness 0.985 on
        the training codes, 0.943 on the test codes, without noise); with
        the noise it learns the map on a neighbourhood of each row, and new
        rows land beside their neighbours. Each row's noise is scaled by a
        factor drawn uniformly in ``[0, 2]``: Gaussian noise in many
        dimensions has an almost fixed length, and new rows lie at every
        distance from the training rows, near and far. Tied to the
        nearest-neighbour distance, the noise stays below the gaps between
        the layers of a thin manifold (a swiss roll) and between the
        clusters of the data. 0 turns it off.
    reconstruction_weight : float, default=0.1
        Weight of the reconstruction term (per feature) against the
        neighbour term (per edge). It trains the decoder for
        :meth:`inverse_transform` and :meth:`score_samples`, and keeps in
        the codes information the graph alone would drop; 0 gives
        parametric UMAP or t-SNE, whose decoder is then untrained.
    hidden_layer_sizes : tuple of int, default=(128, 128, 128)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    activation : {"relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu"}, \
            default="gelu"
        Hidden activation. The code layer is linear. A smooth activation
        maps new points better than ReLU's piecewise-linear map (on the
        digits, held-out trustworthiness 0.967 against 0.962 and 10-NN
        accuracy 0.964 against 0.946, mean of three seeds, and a lower
        reconstruction error). Float64 input is encoded by a float64 copy
        of the network whose GELUs are computed through ``torch.erf``
        (the same function; torch's float64 ``gelu`` kernel is about 25
        times slower on the CPU).
    %(architecture)s
    loss : {"mse", "mae", "bce"}, default="mse"
        Reconstruction loss (see :class:`AutoEncoderTransformer`).
    standardize : bool or "auto", default="auto"
        Centre each feature and divide all of them by one common scale (the
        root mean square of the per-feature deviations) before the network
        sees them: unlike the other autoencoders' per-feature scaling, this
        keeps the proportions of the distances the graph was built on
        (per-feature scaling magnified rare pixels and gave worse maps of
        the digits). ``"auto"`` means True for ``loss="mse"`` or ``"mae"``,
        False for ``"bce"``.
    max_epochs : int or "auto", default="auto"
        Passes over the graph's edges (an epoch samples ``n_samples *
        n_neighbors`` edges, in proportion to their weights). ``"auto"``
        gives about twelve million edge samples in all (23,000 steps of
        512), within 10 to 100 epochs: 100 for 1,347 digits and for 8,000
        MNIST images, 10 from 80,000 samples on, and at most 50 for a
        small graph (an epoch of fewer than ten batches). UMAP runs 500 epochs on
        data this small; the network, shared by all points, needs fewer (on
        8,000 MNIST images the held-out trustworthiness / 10-NN accuracy
        rose from 0.923 / 0.899 after 50 epochs to 0.932 / 0.919 after
        100).
    batch_size : int, default=512
        Edges per gradient step (each brings ``negative_sample_rate``
        negative pairs).
    lr : float or "auto", default="auto"
        Initial learning rate. ``"auto"`` is 1e-2 for a fit of up to 4,000
        gradient steps and ``1e-2 * sqrt(4000 / steps)`` for a longer one,
        ``steps = max_epochs * ceil(n_samples * n_neighbors / batch_size)``
        (``learning_rate_``): the noise of the stochastic steps accumulates
        as ``lr * sqrt(steps)``, so a longer fit takes smaller steps and its
        codes end as settled. 1e-2 for the 1,347 digits of the README demo
        (100 epochs of 40 batches), 4.1e-3 for 8,000 MNIST images (100
        epochs of 235 batches). On those MNIST images a fixed 1e-2 gave
        held-out trustworthiness / 10-NN accuracy 0.925 / 0.906 and 3e-3
        gave 0.940 / 0.934, while on the digits 3e-3 lost 10-NN accuracy
        (0.971 and 0.962 against 0.978 and 0.978, seeds 0 and 1).
    lr_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` lowers the learning rate from ``lr`` to 0 along a
        half cosine over ``max_epochs`` epochs (skorch's ``LRScheduler``
        with ``CosineAnnealingLR``), as UMAP lowers its own linearly: the
        codes settle at the end of training. ``"constant"`` keeps ``lr``
        (for ``partial_fit`` over a stream).
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
            default="adam"
        The optimiser.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimiser.
    %(optimizer_params)s
    early_stopping : bool, default=False
        Stop when the loss on held-out edges (``validation_fraction`` of
        them) has not improved by ``tol`` for ``n_iter_no_change`` epochs.
        Off by default: as UMAP, the neighbour loss is run for a fixed
        number of epochs.
    %(validation_fraction)s
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum relative improvement of the validation loss.
    %(warm_start)s
    %(stream_data)s
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, or ``(name, callback)`` tuples.
    %(device)s
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the order of the edges and the negative
        samples. The same value gives identical results on CPU.
    verbose : int, default=0
        1 prints skorch's per-epoch table.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is a
        :class:`skae.modules.NeighborEmbeddingModel`.
    history_ : skorch.History
        Per-epoch training record.
    n_epochs_ : int
        Number of epochs run.
    learning_rate_ : float
        The initial learning rate of the last fit (``lr``, resolved when
        ``"auto"``).
    n_components_ : int
        Dimension of the code.
    a_, b_ : float
        UMAP's curve ``1 / (1 + a d^(2b))`` (None for ``objective="tsne"``).
    noise_scale_ : float or None
        Noise scale of the likelihood behind :meth:`score_samples`.
    input_noise_scale_ : float
        Per-feature standard deviation of the training input noise, in the
        units the network sees (``input_noise`` times the median
        nearest-neighbour distance, divided by the root of the number of
        features).
    mean_ : ndarray of shape (n_features_in_,) or None
        Per-feature mean used for standardisation (None when off).
    scale_ : ndarray of shape (n_features_in_,) or None
        The common scale of the standardisation, repeated per feature.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column
        names.

    See Also
    --------
    AutoEncoderTransformer : The reconstruction term alone.
    sklearn.manifold.TSNE : t-SNE, without transform of new data.
    sklearn.manifold.Isomap : Embedding by geodesic distances.

    Notes
    -----
    The name says what the estimator is: an autoencoder trained as a
    *neighbour embedding*, the family of SNE, t-SNE, LargeVis and UMAP,
    whose losses attract the codes of graph neighbours and repel the
    others; ``objective`` picks the family member.

    References
    ----------
    .. [1] L. McInnes, J. Healy and J. Melville, "UMAP: Uniform manifold
       approximation and projection for dimension reduction",
       arXiv:1802.03426, 2018.
    .. [2] T. Sainburg, L. McInnes and T. Q. Gentner, "Parametric UMAP
       embeddings for representation and semisupervised learning", Neural
       Computation 33(11), 2021.
    .. [3] L. van der Maaten, "Learning a parametric embedding by
       preserving local structure", AISTATS 2009.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import NeighborEmbeddingAE
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X[:300]
    >>> ne = NeighborEmbeddingAE(n_components=2, max_epochs=2, random_state=0)
    >>> ne.fit_transform(X).shape
    (300, 2)
    >>> ne.inverse_transform(ne.transform(X[:5])).shape
    (5, 64)
    """

    _parameter_constraints = {
        **_BaseAE._parameter_constraints,
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "objective": [StrOptions(set(OBJECTIVES))],
        "min_dist": [Interval(Real, 0, None, closed="left")],
        "spread": [Interval(Real, 0, None, closed="neither")],
        "perplexity": [Interval(Real, 1, None, closed="neither")],
        "negative_sample_rate": [Interval(Integral, 1, None, closed="left")],
        "input_noise": [Interval(Real, 0, None, closed="left")],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
    }

    def __init__(
        self,
        n_components=2,
        *,
        n_neighbors=15,
        objective="umap",
        min_dist=0.1,
        spread=1.0,
        perplexity=30.0,
        negative_sample_rate=5,
        input_noise=1.0,
        reconstruction_weight=0.1,
        hidden_layer_sizes=(128, 128, 128),
        activation="gelu",
        architecture=None,
        loss="mse",
        standardize="auto",
        max_epochs="auto",
        batch_size=512,
        lr="auto",
        lr_schedule="cosine",
        optimizer="adam",
        weight_decay=0.0,
        optimizer_params=None,
        early_stopping=False,
        validation_fraction=None,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        stream_data="auto",
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.objective = objective
        self.min_dist = min_dist
        self.spread = spread
        self.perplexity = perplexity
        self.negative_sample_rate = negative_sample_rate
        self.input_noise = input_noise
        self.reconstruction_weight = reconstruction_weight
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.architecture = architecture
        self.loss = loss
        self.standardize = standardize
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.optimizer_params = optimizer_params
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.stream_data = stream_data
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------
    # Hooks of _BaseAE
    # ------------------------------------------------------------------
    def _check_input(self, X):
        if len(X) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples to build a "
                f"neighbour graph, got {len(X)} sample."
            )
        super()._check_input(X)

    def _data_attributes(self, X):
        attributes = super()._data_attributes(X)
        unit = 1.0
        if attributes["scale_"] is not None:
            # One scale for every feature: the network sees the geometry the
            # graph was built in (per-feature scaling would magnify rare
            # pixels that the graph's distances barely weigh).
            common = max(np.sqrt(np.mean(attributes["scale_"].astype(np.float64) ** 2)), 1e-12)
            attributes["scale_"] = np.full_like(attributes["scale_"], common)
            unit = common
        attributes["input_noise_scale_"] = self._noise_scale(X) / unit
        # Read by _build_module, which is called before the attributes are set.
        self._fit_input_noise = attributes["input_noise_scale_"]
        return attributes

    def _noise_scale(self, X):
        """Per-feature standard deviation of the input noise, in ``X``'s
        units: ``input_noise`` times the median distance from a sample to
        its nearest neighbour (up to 2,000 evenly spaced samples, against
        all), shared among the features (divided by their root count)."""
        if self.input_noise == 0:
            return 0.0
        n = len(X)
        queries = X[np.linspace(0, n - 1, min(n, 2000)).astype(np.int64)]
        nn = NearestNeighbors(n_neighbors=2).fit(X)
        distances = nn.kneighbors(queries)[0][:, 1]
        positive = distances[distances > 0]
        typical = float(np.median(positive)) if len(positive) else 0.0
        return self.input_noise * typical / np.sqrt(X.shape[1])

    def _curve(self):
        if self.objective != "umap":
            return None, None
        return umap_curve_params(self.spread, self.min_dist)

    def _build_module(self, n_features, scaler, seed):
        spec = self._architecture()
        a, b = self._curve()
        return NeighborEmbeddingModel(
            spec.encoder(n_features, self.n_components),
            spec.decoder(self.n_components, n_features),
            self.get_likelihood(),
            scaler,
            objective=self.objective,
            a=1.0 if a is None else a,
            b=1.0 if b is None else b,
            negative_sample_rate=self.negative_sample_rate,
            input_noise=getattr(self, "_fit_input_noise", 0.0),
            seed=seed,
        )

    def _callbacks(self):
        callbacks = super()._callbacks()
        if self.lr_schedule == "cosine":
            callbacks.append(("lr_schedule", _CosineToZero()))
        return callbacks

    def _n_epochs(self, n_samples):
        if self.max_epochs != "auto":
            return self.max_epochs
        per_epoch = n_samples * self.n_neighbors
        # A small graph (under ten batches) trains in fewer steps: at most 50
        # epochs, as many as the estimator checks' tiny data need.
        most = 100 if per_epoch >= 10 * self.batch_size else 50
        return int(np.clip(round(_AUTO_EDGE_SAMPLES / per_epoch), 10, most))

    def _learning_rate(self, n_samples):
        if self.lr != "auto":
            return self.lr
        # Adam's noisy steps wander as lr * sqrt(steps): a longer run takes
        # smaller steps, so that the codes end as settled.
        steps = self._n_epochs(n_samples) * -(-n_samples * self.n_neighbors // self.batch_size)
        return _AUTO_LR * min(1.0, np.sqrt(_AUTO_LR_STEPS / steps))

    def _make_net(self, module, n_samples, *args, **kwargs):
        net = super()._make_net(module, n_samples, *args, **kwargs)
        net.max_epochs = self._n_epochs(n_samples)
        return net

    def _criterion_weights(self):
        return {"reconstruction": self.reconstruction_weight}

    def _graph(self, X):
        """Edge samples of one epoch of ``X``'s graph: ``n_samples *
        n_neighbors`` (head, tail) pairs, each edge repeated in proportion
        to its weight."""
        n = len(X)
        if self.objective == "umap":
            distances, indices = nearest_neighbors(X, min(self.n_neighbors, n - 1))
            graph = fuzzy_neighbor_graph(distances, indices)[0]
        else:
            k = min(n - 1, int(3.0 * self.perplexity + 1))
            distances, indices = nearest_neighbors(X, k)
            graph = tsne_affinities(distances, indices, min(self.perplexity, max(k - 1, 1)))
        # Systematic sampling: edge e gets floor or ceil of m * w_e / sum(w)
        # of the m places, as UMAP samples edges in proportion to their
        # weight (and t-SNE's gradient weighs them), without a random draw.
        m = n * self.n_neighbors
        cumulative = np.floor(np.cumsum(graph.data) * (m / graph.data.sum()) + 0.5)
        counts = np.diff(cumulative, prepend=0.0).astype(np.int64)
        return np.repeat(graph.row, counts), np.repeat(graph.col, counts)

    def _dataset(self, X, y, device, extra=None):
        # ``extra`` (per-sample inputs besides X) is always empty here.
        heads, tails = self._graph(X)
        stream = self.stream_data
        if stream == "auto":
            stream = not fits_on_device(X, device)
        inputs = X if stream else device_tensor(X, device)
        return ArrayDataset(_EdgeRows(inputs, heads, tails))

    def _attributes_after_training(self, net, attributes):
        a, b = self._curve()
        return {"a_": a, "b_": b, "learning_rate_": float(net.lr)}
