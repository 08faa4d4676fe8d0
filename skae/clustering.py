"""Adversarial autoencoder clustering as a scikit-learn clusterer."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClusterMixin, clone
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import _BaseAE
from ._data import ArrayDataset
from ._docstrings import fill_doc
from .adversarial import _ADVERSARIAL_SCORES, _AdversarialMixin, _AdversarialNet
from .modules.adversarial import ClusteringModel
from .neighbors import NeighborEmbeddingAE
from .priors import Categorical, Gaussian
from .utils.validation import HasMethods, Interval, StrOptions

#: The neighbour embedding of ``embedding="neighbors"``: parametric UMAP
#: codes, 10-D, 30 epochs (about three minutes for 8,000 MNIST images on
#: one CPU thread).
_NEIGHBOR_EMBEDDING = dict(n_components=10, max_epochs=30)


class _ClusteringNet(_AdversarialNet):
    """The adversarial net, with each sample's neighbours within reach.

    A batch is a dict: the data ``X`` and, per sample, the row indices of
    its nearest neighbours in the training set (``neighbors``). The net
    keeps a reference to the training set's rows while it trains (only
    then: a fitted net holds no data) and gives the model one of them per
    sample, drawn at each step.
    """

    _scores = _ADVERSARIAL_SCORES + ("reconstruction_loss", "neighbor_loss", "balance_loss")

    def __init__(self, module, *args, balance_anneal_start=1.0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.balance_anneal_start = balance_anneal_start

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        data = getattr(X, "X", None)
        self._rows = data["X"] if isinstance(X, ArrayDataset) and isinstance(data, dict) else None
        # The balance forces anneal over the epochs of this call.
        self._anneal = (len(self.history), self.max_epochs if epochs is None else epochs)
        self._balance_weight = self.criterion_.weights.get("balance", 1.0)
        try:
            return super().fit_loop(X, y, epochs, **fit_params)
        finally:
            self._rows = None
            self.criterion_.weights["balance"] = self._balance_weight
            self._anneal_factor = 1.0

    def _factor(self):
        """Factor of the balance forces in the current epoch: 1 for the
        first ``balance_anneal_start`` of the run's epochs, then falling
        linearly to 0 at its last epoch."""
        first, n_epochs = self._anneal
        epoch = len(self.history) - 1 - first
        start = int(self.balance_anneal_start * n_epochs)
        if epoch < start:
            return 1.0
        return max(0.0, 1.0 - (epoch - start) / max(1, n_epochs - 1 - start))

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        self._anneal_factor = self._factor()
        self.criterion_.weights["balance"] = self._anneal_factor * self._balance_weight
        self.history.record("balance_anneal", self._anneal_factor)

    def _adversarial_loss(self, module, parts, generator):
        factor = getattr(self, "_anneal_factor", 1.0)
        if factor == 1.0:
            return generator
        # The cluster code's adversary anneals with the balance term; the
        # style code's keeps its weight.
        return module.generator_terms(parts, [factor, 1.0]).mean()

    def _generator_weight(self, X):
        # Against the per-feature reconstruction loss, as the neighbour and
        # balance terms' weights: the terms that shape the clusters stay in
        # the same proportions whatever the data's width.
        return self.adversarial_weight

    def _inputs(self, Xi):
        if not isinstance(Xi, dict):
            return Xi, {}
        X = Xi["X"]
        rows = self.module_.pick_neighbors(Xi["neighbors"])
        data = self._rows
        if isinstance(data, torch.Tensor):
            neighbors = data.index_select(0, rows.to(data.device)).to(X.device)
        else:  # streamed from host memory
            neighbors = torch.as_tensor(
                np.asarray(data[rows.cpu().numpy()], dtype=np.float32), device=X.device
            )
        return X, {"neighbors": neighbors}

    def _record(self, prefix, disc, generator, terms):
        super()._record(prefix, disc, generator, terms)
        for name, value in zip(terms._fields, terms):
            self.history.record_batch(f"{prefix}{name}_loss", value.mean().item())

    def __getstate__(self):
        state = super().__getstate__()
        for name in ("_rows", "_anneal", "_anneal_factor", "_balance_weight"):
            state.pop(name, None)
        return state


@fill_doc
class AdversarialClustering(ClusterMixin, _AdversarialMixin, _BaseAE):
    """Clustering by an adversarial autoencoder with a categorical prior.

    The unsupervised clustering of Makhzani et al. [1]_: the encoder maps
    each sample to a cluster code, a softmax over ``n_clusters``
    categories, and a continuous style code of ``n_components`` values; the
    decoder rebuilds the sample from both. Two discriminators, one per
    part, push the cluster codes towards the uniform categorical prior
    (one-hot vectors, equally frequent: confident and balanced
    assignments) and the style codes towards ``N(0, I)``. With little room
    in the style code, what the decoder most needs to know, which mode of
    the data a sample comes from, goes into the cluster code.

    Two terms not in the paper make it cluster well on small data and
    short training (see the user guide): a neighbour-consistency term [2]_
    (each sample's assignment is pulled towards that of one of its nearest
    neighbours in the training set) and a balance term (each batch's mean
    assignment is pulled towards uniform). ``neighbor_weight=0,
    balance_weight=0, balance_anneal_start=1`` is the paper's model. Both
    balance forces, the balance term and the cluster code's adversary,
    anneal to zero over the last 70% of the epochs
    (``balance_anneal_start``): they keep the clusters from merging while
    they form, then let their sizes follow the data.

    By default the model clusters not the data but their codes in a
    neighbour embedding (``embedding="neighbors"``: a
    :class:`~skae.NeighborEmbeddingAE`, parametric UMAP, fitted first), as
    N2D [3]_ clusters a UMAP of autoencoder codes: the embedding gathers
    each group of neighbours into a compact blob, which the adversarial
    clustering then separates. On MNIST this took the accuracy with 16
    clusters from 0.77 to 0.89, mean of three seeds (see the user guide).
    ``embedding=None`` clusters the data themselves.

    Training is that of :class:`~skae.AdversarialAE`: per batch, one step
    of the autoencoder on the reconstruction, adversarial and clustering
    terms together, then one step of both discriminators.

    :meth:`predict` gives the most probable cluster, :meth:`predict_proba`
    the softmax, :meth:`transform` the whole code (probabilities, then
    style) and :meth:`inverse_transform` decodes such codes.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters (categories of the cluster code).
    n_components : int, default=1
        Dimension of the style code. Small values leave the decoder no
        other place than the cluster code for the coarse structure of the
        data (with a style code as wide as the data, the clusters need
        carry nothing).
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    activation : {"relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu"}, \
            default="relu"
        Hidden activation of the encoder and decoder.
    %(architecture)s
    loss : {"mse", "mae", "bce"}, default="mse"
        Reconstruction loss of what the network reads (the embedding's
        codes, or the data with ``embedding=None``): squared error,
        absolute error, or cross-entropy for data in [0, 1] (only with
        ``embedding=None``).
    embedding : "neighbors", transformer or None, default="neighbors"
        What the network reads and clusters. ``"neighbors"``: the codes of
        a :class:`~skae.NeighborEmbeddingAE` (10-D, 30 epochs, on
        ``device``, seeded from ``random_state``) fitted on ``X`` first. A
        scikit-learn transformer: its clone, fitted on ``X``, then its
        ``transform``. None: the data themselves. :meth:`inverse_transform`
        and :meth:`sample` decode through the embedding's
        ``inverse_transform``; :meth:`score_samples` rates the codes. With
        :meth:`partial_fit` or ``warm_start`` the embedding is fitted by the
        first fit only.
    discriminator_hidden_layer_sizes : tuple of int, default=(64, 64)
        Widths of the hidden layers of each discriminator (ReLU).
    adversarial_weight : float, default=0.25
        Weight of the encoder's adversarial loss (both parts) against the
        per-feature reconstruction loss, as the neighbour and balance
        weights (unlike :class:`~skae.AdversarialAE`'s, which weighs it
        against the summed loss): the terms that shape the clusters keep
        their proportions whatever the data's width. Much stronger and the
        discriminators' game takes over (on MNIST, 1 instead of 0.25 made
        the clusters far worse; on 2-D blobs, 100 put every sample in one
        cluster). The cluster code's part anneals with the balance term
        (``balance_anneal_start``).
    discriminator_lr : float or None, default=3e-4
        Learning rate of the discriminators; None means ``lr``.
    neighbor_weight : float, default=1.0
        Weight of the neighbour-consistency term, ``-log <p(x), p(x')>``
        for ``x'`` one of the ``n_neighbors`` nearest neighbours of ``x``
        in the training set (drawn at each step; distances in the space
        the network reads), against the per-feature reconstruction loss.
        Not in the paper (it is SCAN's [2]_): samples that are each other's
        nearest neighbours nearly always belong to the same cluster, and
        this says so to the encoder directly, where the paper's terms alone
        cluster by whatever the decoder needs most, often the style. 0
        computes no neighbours (with ``balance_weight=0`` and
        ``balance_anneal_start=1``, it trains the paper's model).
    n_neighbors : int, default=10
        Number of nearest neighbours of each sample that the
        neighbour-consistency term draws from.
    balance_weight : float, default=5.0
        Weight of ``log n_clusters - H(mean p)``, the divergence of each
        batch's mean assignment from uniform, against the per-feature
        reconstruction loss. The categorical discriminator asks for
        balanced clusters too, but too weakly to hold the pull of the
        neighbour term, which alone would put every sample in one
        cluster. 0 leaves balance to the discriminator. Anneals after
        ``balance_anneal_start``.
    balance_anneal_start : float in [0, 1], default=0.3
        Fraction of the epochs after which the two forces that ask for
        equal clusters, the balance term and the cluster code's
        adversary, fall linearly to zero by the last epoch (the style
        code's adversary keeps its weight). While the clusters form, they
        keep the neighbour term from merging them; afterwards they would
        only force equal sizes on data whose natural groups are not
        ``n_clusters`` equal ones (with more clusters than groups, an
        equal-size partition has to pair the leftovers of two groups in
        one cluster), and the neighbour term alone moves the boundaries
        to where the data are sparse. 1 keeps them constant. The epochs
        counted are those of one ``fit`` (``partial_fit``'s single epoch
        keeps them whole).
    standardize : bool or "auto", default="auto"
        Standardise each feature before the network sees it (``"auto"``:
        True for ``"mse"`` and ``"mae"``, False for ``"bce"``).
    max_epochs : int, default=100
        Number of passes over the training data.
    batch_size : int, default=128
        Samples per step.
    lr : float, default=1e-3
        Learning rate of the autoencoder.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
            default="adam"
        The optimiser class, one instance for the autoencoder and one for
        the discriminators.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimisers.
    %(optimizer_params)s
    early_stopping : bool, default=False
        Stop when the reconstruction loss of a held-out
        ``validation_fraction`` has not improved by a relative ``tol`` for
        ``n_iter_no_change`` epochs, keeping the best epoch's weights.
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
        Seeds the initial weights, the validation split, the shuffling and
        the prior draws. The same value gives identical results on CPU.
    verbose : int, default=0
        1 prints skorch's per-epoch table (reconstruction, discriminator
        and generator losses, discriminator accuracy).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample (of the last chunk for
        :meth:`partial_fit`).
    embedding_ : transformer or None
        The fitted embedding whose codes the network reads (None with
        ``embedding=None``).
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the
        :class:`~skae.modules.ClusteringModel`, ``net_.discriminator_``
        its two discriminators (cluster code, style code).
    history_ : skorch.History
        Per-epoch record as for :class:`~skae.AdversarialAE`
        (``discriminator_loss`` and ``generator_loss`` summed over the two
        parts, ``discriminator_accuracy`` averaged), except that
        ``train_loss`` is the reconstruction loss plus the weighted
        neighbour and balance terms, recorded on their own as
        ``reconstruction_loss``, ``neighbor_loss`` and ``balance_loss``
        (``train_loss`` weighs the balance term by ``balance_weight``
        times ``balance_anneal``, the annealing factor of the epoch, also
        recorded).
    n_epochs_ : int
        Number of epochs run.
    n_components_ : int
        Dimension of the style code.
    noise_scale_ : float or None
        Noise scale of the likelihood behind :meth:`score_samples`.
    mean_ : ndarray or None
        Per-feature mean of what the network reads (the embedding's codes,
        or the data), used for standardisation (None when off).
    scale_ : ndarray or None
        Per-feature standard deviation used for standardisation.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.cluster.KMeans : Clusters as Voronoi cells around centroids.
    sklearn.mixture.GaussianMixture : Clusters as Gaussian components.
    AdversarialAE : The adversarial autoencoder with a continuous prior.

    Notes
    -----
    Cluster indices are arbitrary, as for any clusterer; compare them with
    labels through :func:`sklearn.metrics.adjusted_rand_score` or a
    matching. :meth:`score_samples` is the reconstruction log-likelihood
    plus the Gaussian log-density of the style code.

    References
    ----------
    .. [1] A. Makhzani, J. Shlens, N. Jaitly, I. Goodfellow and B. Frey,
       "Adversarial autoencoders", ICLR workshop 2016 (arXiv:1511.05644),
       section 6.
    .. [2] W. Van Gansbeke, S. Vandenhende, S. Georgoulis, M. Proesmans and
       L. Van Gool, "SCAN: learning to classify images without labels",
       ECCV 2020 (arXiv:2005.12320).
    .. [3] R. McConville, R. Santos-Rodriguez, R. J. Piechocki and I. Craddock,
       "N2D: (not too) deep clustering via clustering the local manifold of
       an autoencoded embedding", ICPR 2020 (arXiv:1908.05968).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skae import AdversarialClustering
    >>> X, _ = make_blobs(200, n_features=4, centers=3, random_state=0)
    >>> model = AdversarialClustering(n_clusters=3, embedding=None, max_epochs=2,
    ...                               random_state=0)
    >>> model.fit_predict(X).shape
    (200,)
    >>> model.predict_proba(X[:2]).shape
    (2, 3)
    >>> model.transform(X[:2]).shape
    (2, 4)
    """

    _parameter_constraints = {
        **_AdversarialMixin._parameter_constraints,
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "neighbor_weight": [Interval(Real, 0, None, closed="left")],
        "balance_weight": [Interval(Real, 0, None, closed="left")],
        "balance_anneal_start": [Interval(Real, 0, 1, closed="both")],
        "embedding": [StrOptions({"neighbors"}), HasMethods(["fit", "transform"]), None],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        n_components=1,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        architecture=None,
        loss="mse",
        embedding="neighbors",
        discriminator_hidden_layer_sizes=(64, 64),
        adversarial_weight=0.25,
        discriminator_lr=3e-4,
        neighbor_weight=1.0,
        n_neighbors=10,
        balance_weight=5.0,
        balance_anneal_start=0.3,
        standardize="auto",
        max_epochs=100,
        batch_size=128,
        lr=1e-3,
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
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.architecture = architecture
        self.loss = loss
        self.embedding = embedding
        self.discriminator_hidden_layer_sizes = discriminator_hidden_layer_sizes
        self.adversarial_weight = adversarial_weight
        self.discriminator_lr = discriminator_lr
        self.neighbor_weight = neighbor_weight
        self.n_neighbors = n_neighbors
        self.balance_weight = balance_weight
        self.balance_anneal_start = balance_anneal_start
        self.standardize = standardize
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
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

    def _network_input(self, X, fit):
        if fit:
            embedding = self.embedding
            if embedding is not None and self.loss == "bce":
                raise ValueError(
                    "AdversarialClustering: loss='bce' reconstructs the embedding's codes, "
                    "which are not in [0, 1]; use loss='mse' (or 'mae'), or embedding=None "
                    "to cluster data in [0, 1] themselves."
                )
            if embedding == "neighbors":
                seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
                embedding = NeighborEmbeddingAE(
                    **_NEIGHBOR_EMBEDDING, device=self.device, random_state=seed
                )
            elif embedding is not None:
                embedding = clone(embedding)
            self.embedding_ = None if embedding is None else embedding.fit(X)
        if self.embedding_ is None:
            return X
        return np.asarray(self.embedding_.transform(X), dtype=X.dtype)

    def _decode(self, Z):
        X = self._map_batches(lambda m, z: m.decode(z), Z)
        if self.embedding_ is None:
            return X
        if not hasattr(self.embedding_, "inverse_transform"):
            raise AttributeError(
                f"AdversarialClustering: the embedding {type(self.embedding_).__name__} has "
                "no inverse_transform, so codes cannot be decoded to the data's space."
            )
        return self.embedding_.inverse_transform(X)

    def _build_module(self, n_features, scaler, seed):
        spec = self._architecture()
        k, d = self.n_clusters, self.n_components
        return ClusteringModel(
            spec.encoder(n_features, k + d),
            spec.decoder(k + d, n_features),
            self.get_likelihood(),
            scaler,
            priors=[Categorical(k), Gaussian(d)],
            discriminators=[self._discriminator(k, batch_mean=True), self._discriminator(d)],
            n_clusters=k,
            seed=seed,
        )

    def _net_class(self):
        return _ClusteringNet

    def _net_params(self):
        return {**super()._net_params(), "balance_anneal_start": self.balance_anneal_start}

    def _criterion_weights(self):
        return {"neighbor": self.neighbor_weight, "balance": self.balance_weight}

    def _module_inputs(self, X, y, reset):
        # Each sample's n_neighbors nearest neighbours, in the space the
        # network reads (standardised or not), as row indices.
        k = min(self.n_neighbors, len(X) - 1)
        if self.neighbor_weight == 0 or k < 1:
            return {}
        Xs = X
        if self._use_standardize():
            stats = self._data_attributes(X)
            Xs = (X - stats["mean_"]) / stats["scale_"]
        index = NearestNeighbors(n_neighbors=k).fit(Xs).kneighbors(return_distance=False)
        # Float like every model input (exact for up to 2**24 rows).
        return {"neighbors": index.astype(np.float64)}

    def _fit_and_set(self, X, y, incremental):
        super()._fit_and_set(X, y, incremental)
        self.labels_ = self.predict(X)

    def fit(self, X, y=None):
        """Fit the model to ``X`` and set ``labels_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return super().fit(X, y)

    def predict_proba(self, X):
        """Cluster probabilities of each sample: the softmax of the cluster code.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to assign.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
            Rows sum to 1; of the input's float dtype.
        """
        X = self._validate_X(X)
        return self._map_batches(lambda m, x: m.cluster_probabilities(x), X)

    def predict(self, X):
        """The most probable cluster of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to assign.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster indices in ``[0, n_clusters)``, int64.
        """
        return np.argmax(self.predict_proba(X), axis=1).astype(np.int64)

    def transform(self, X):
        """The whole code: cluster probabilities, then the style code.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters + n_components)
            Of the input's float dtype.
        """
        return super().transform(X)

    def inverse_transform(self, X):
        """Decode codes (cluster probabilities, then style) to input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_clusters + n_components)
            Codes, e.g. from :meth:`transform`; a one-hot cluster code gives
            the typical sample of that cluster at the given style.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            Reconstructions in the units of the training data.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32], input_name="X", estimator=self)
        width = self.n_clusters + self.n_components_
        if Z.shape[1] != width:
            raise ValueError(
                f"AdversarialClustering.inverse_transform: X has {Z.shape[1]} features, "
                f"but codes of this estimator have n_clusters + n_components = {width}."
            )
        return self._decode(Z)

    def sample(self, n_samples=1, random_state=None):
        """Generate data: a uniformly drawn cluster and a Gaussian style, decoded.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_)
            The decoder's mean for each draw, float64.
        """
        Z = self._prior_codes(n_samples, random_state, "AdversarialClustering.sample")
        return self._decode(Z)

    @property
    def _n_features_out(self):
        return self.n_clusters + self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
