"""The model of the neighbour-preserving autoencoder: graph loss plus reconstruction."""

from collections import namedtuple

import torch

from .. import losses
from ..utils.random import TorchGenerator
from .models import ReconstructionModel

#: Loss terms of a neighbour-preserving autoencoder, per graph edge.
NeighborTerms = namedtuple("NeighborTerms", ["neighbors", "reconstruction"])

OBJECTIVES = ("umap", "tsne")


class NeighborEmbeddingModel(ReconstructionModel):
    """An autoencoder whose codes keep the edges of a neighbour graph.

    ``forward`` takes a batch of graph edges (drawn in proportion to their
    weights): the rows at both ends, ``head`` and ``tail``. It encodes both
    ends, draws
    ``negative_sample_rate`` negative samples per edge among the batch's
    tails (as parametric UMAP does: other edges' ends, almost never
    neighbours), and returns per edge

    * ``neighbors``: its graph term, :func:`skae.losses.umap_cross_entropy`
      (``objective="umap"``) or :func:`skae.losses.tsne_kl_terms`
      (``"tsne"``);
    * ``reconstruction``: the reconstruction loss of the head row.

    In training, ``input_noise`` adds Gaussian noise to the encoder's
    inputs (both ends), each row's noise scaled by a factor drawn uniformly
    in ``[0, 2]``: the encoder then learns the map on a neighbourhood of
    each training row, at every distance from it up to about twice the
    noise's typical length, not on the row alone, which is what places new
    rows beside their neighbours.

    Parameters
    ----------
    encoder, decoder, likelihood, scaler
        As for :class:`ReconstructionModel`.
    objective : {"umap", "tsne"}, default="umap"
        The graph term.
    a, b : float, default=1.577, 0.895
        UMAP's curve (``min_dist=0.1``, ``spread=1``); unused by ``"tsne"``.
    negative_sample_rate : int, default=5
        Negative samples per edge.
    input_noise : float, default=0.0
        Standard deviation of the Gaussian noise added, in training only,
        to the scaled rows before the encoder, times a factor uniform in
        ``[0, 2]`` per row; the reconstruction target stays the clean row.
    seed : int, default=0
        Seed of the negative samples.

    Examples
    --------
    >>> import torch
    >>> from skae.likelihoods import Gaussian
    >>> from skae.modules import MLPDecoder, MLPEncoder, NeighborEmbeddingModel
    >>> model = NeighborEmbeddingModel(MLPEncoder(4, (8,), 2), MLPDecoder(2, (8,), 4),
    ...                                Gaussian())
    >>> terms = model(torch.zeros(3, 4), torch.ones(3, 4))
    >>> terms._fields, terms.neighbors.shape
    (('neighbors', 'reconstruction'), torch.Size([3]))
    """

    def __init__(self, encoder, decoder, likelihood, scaler=None, *, objective="umap",
                 a=1.577, b=0.895, negative_sample_rate=5, input_noise=0.0, seed=0):
        super().__init__(encoder, decoder, likelihood, scaler)
        self.objective = objective
        self.a = a
        self.b = b
        self.negative_sample_rate = negative_sample_rate
        self.input_noise = input_noise
        self.generator = TorchGenerator(seed)

    def forward(self, head, tail):
        """Per-edge loss terms of a batch of edges.

        Parameters
        ----------
        head, tail : Tensor of shape (n_edges, n_features)
            Rows at the two ends of each edge, in the data's units.

        Returns
        -------
        NeighborTerms
        """
        n = len(head)
        xs = self.scaler(torch.cat([head, tail]))
        inputs = xs
        if self.training and self.input_noise > 0:
            generator = self.generator.get(xs.device)
            noise = torch.randn(xs.shape, generator=generator, device=xs.device, dtype=xs.dtype)
            # Each row's noise scaled by a factor uniform in [0, 2] (mean 1):
            # in many dimensions Gaussian noise has an almost fixed length, and
            # the encoder would learn the map on a thin shell around each row
            # only; new rows lie at every distance from the training rows.
            spread = 2 * torch.rand(
                (len(xs), 1), generator=generator, device=xs.device, dtype=xs.dtype
            )
            inputs = xs + self.input_noise * spread * noise
        codes = self.encoder(inputs)
        z_head, z_tail = codes[:n], codes[n:]
        pick = torch.randint(
            n, (n, self.negative_sample_rate), generator=self.generator.get(head.device),
            device=head.device,
        )
        negatives = z_tail[pick]
        if self.objective == "umap":
            graph = losses.umap_cross_entropy(z_head, z_tail, negatives, self.a, self.b)
        else:
            graph = losses.tsne_kl_terms(z_head, z_tail, negatives)
        reconstruction = self.likelihood.loss(self.decoder(z_head), xs[:n]).mean(dim=1)
        return NeighborTerms(graph, reconstruction)
