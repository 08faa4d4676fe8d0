"""The networks of the adversarial autoencoders (Makhzani et al., 2015).

An adversarial model is an autoencoder whose code (or each part of it) has
a prior, which it only has to sample, and a discriminator telling the
codes from the prior's draws. The model computes every term: the
reconstruction loss (``forward``, what the skorch criterion sees), the
discriminators' losses and the encoder's adversarial (generator) loss; the
net (:class:`skae.adversarial._AdversarialNet`) steps the autoencoder on
the reconstruction and generator losses together, then the
discriminators.
"""

from collections import namedtuple

import torch
from torch import nn

from .. import losses
from ..utils.random import TorchGenerator
from .mlp import _mlp
from .models import ReconstructionModel, ReconstructionTerms

#: Per-code-part losses of the discriminators, and their accuracy on the
#: batch (prior draws called real, codes fake), before their step.
DiscriminatorTerms = namedtuple("DiscriminatorTerms", ["loss", "accuracy"])
#: Per-sample loss terms of adversarial clustering besides the adversarial
#: game: reconstruction, neighbour consistency, and the batch's cluster
#: balance (one value, repeated per sample).
ClusteringTerms = namedtuple("ClusteringTerms", ["reconstruction", "neighbor", "balance"])


class Discriminator(nn.Module):
    """An MLP giving the logit that a code is a draw of the prior.

    Parameters
    ----------
    n_components : int
        Width of the codes it judges (never the data's).
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Widths of its hidden layers.
    activation : str, default="relu"
        Hidden activation, a key of :data:`skae.modules.ACTIVATIONS`.
    batch_mean : bool, default=False
        Also show it the mean of the batch it judges, next to each code
        (minibatch discrimination, Salimans et al. 2016): a batch of codes
        is then told from one of prior draws by its proportions too, which
        is what keeps the categorical codes of
        :class:`~skae.AdversarialClustering` from collapsing onto a few
        categories.

    Examples
    --------
    >>> import torch
    >>> from skae.modules import Discriminator
    >>> Discriminator(2, (8,))(torch.zeros(5, 2)).shape
    torch.Size([5])
    """

    def __init__(self, n_components, hidden_layer_sizes=(64, 64), activation="relu",
                 batch_mean=False):
        super().__init__()
        self.n_components = n_components
        self.batch_mean = batch_mean
        n_inputs = 2 * n_components if batch_mean else n_components
        self.layers = _mlp((n_inputs, *hidden_layer_sizes, 1), activation, activate_last=False)

    def forward(self, z):
        if self.batch_mean:
            z = torch.cat([z, z.mean(dim=0, keepdim=True).expand_as(z)], dim=1)
        return self.layers(z).squeeze(-1)


class AdversarialModel(ReconstructionModel):
    """An autoencoder whose codes are matched to a prior by a discriminator.

    Parameters
    ----------
    encoder, decoder, likelihood, scaler
        As for :class:`ReconstructionModel`.
    priors : list of nn.Module
        One prior per part of the code (one for the adversarial
        autoencoder), each with ``sample(n, generator)``.
    discriminators : list of nn.Module
        One discriminator per part, mapping codes to logits.
    seed : int, default=0
        Seed of the prior draws.

    Examples
    --------
    >>> import torch
    >>> from skae.likelihoods import Gaussian
    >>> from skae.modules import AdversarialModel, Discriminator, MLPDecoder, MLPEncoder
    >>> from skae.priors import GaussianMixture
    >>> model = AdversarialModel(MLPEncoder(4, (8,), 2), MLPDecoder(2, (8,), 4), Gaussian(),
    ...                          priors=[GaussianMixture(2)], discriminators=[Discriminator(2)])
    >>> terms, parts = model.train_terms(torch.zeros(3, 4))
    >>> terms.reconstruction.shape, parts[0].shape
    (torch.Size([3]), torch.Size([3, 2]))
    >>> model.discriminator_terms(parts, model.prior_draws(3)).loss.shape
    torch.Size([1])
    """

    def __init__(self, encoder, decoder, likelihood, scaler=None, *, priors, discriminators,
                 seed=0):
        super().__init__(encoder, decoder, likelihood, scaler)
        self.priors = nn.ModuleList(priors)
        self.discriminators = nn.ModuleList(discriminators)
        self.generator = TorchGenerator(seed)

    # The code and its parts -------------------------------------------
    def code_parts(self, h):
        """The parts of the encoder's output that the discriminators judge.

        Parameters
        ----------
        h : Tensor of shape (n_samples, n_outputs)
            The encoder's output.

        Returns
        -------
        tuple of Tensor
            One per prior, in the order of ``priors``.
        """
        return (h,)

    def decoder_input(self, parts):
        """What the decoder reads: the parts, concatenated.

        Parameters
        ----------
        parts : tuple of Tensor
            From :meth:`code_parts`.

        Returns
        -------
        Tensor of shape (n_samples, n_components)
        """
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)

    def encode(self, x):
        """Code of ``x``: the decoder's input.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Data in their own units.

        Returns
        -------
        Tensor of shape (n_samples, n_components)
        """
        return self.decoder_input(self.code_parts(self.encoder(self.scaler(x))))

    def _raw(self, xs):
        return self.decoder(self.decoder_input(self.code_parts(self.encoder(xs))))

    # Loss terms (forward and feature_errors: ReconstructionModel's, through _raw)
    def train_terms(self, X):
        """Reconstruction terms of a batch and the code parts they came from.

        Parameters
        ----------
        X : Tensor of shape (n_samples, n_features)
            Data in their own units.

        Returns
        -------
        terms : ReconstructionTerms
            Per-sample reconstruction loss.
        parts : tuple of Tensor
            The code parts, still in the graph (for the generator loss).
        """
        xs = self.scaler(X)
        parts = self.code_parts(self.encoder(xs))
        raw = self.decoder(self.decoder_input(parts))
        return ReconstructionTerms(self.likelihood.loss(raw, xs).mean(dim=1)), parts

    def prior_draws(self, n_samples, device="cpu", dtype=torch.float32):
        """One batch of draws of each prior, from the model's own stream.

        Parameters
        ----------
        n_samples : int
            Draws per prior.
        device : str or torch.device, default="cpu"
            Where the draws are made.
        dtype : torch.dtype, default=torch.float32
            Their type.

        Returns
        -------
        tuple of Tensor
            One ``(n_samples, width)`` tensor per prior.
        """
        generator = self.generator.get(device)
        return tuple(
            p.sample(n_samples, generator).to(device=device, dtype=dtype) for p in self.priors
        )

    def discriminator_terms(self, parts, draws):
        """Each discriminator's loss on prior draws (real) against the
        (detached) code parts (fake), and its accuracy on them.

        Parameters
        ----------
        parts : tuple of Tensor
            The code parts, from :meth:`train_terms`.
        draws : tuple of Tensor
            As many prior draws, from :meth:`prior_draws`.

        Returns
        -------
        DiscriminatorTerms
            ``loss`` and ``accuracy``, each a Tensor of shape (n_parts,).
        """
        loss, accuracy = [], []
        for disc, code, draw in zip(self.discriminators, parts, draws):
            if getattr(disc, "batch_mean", False):  # each batch judged on its own
                real, fake = disc(draw), disc(code.detach())
            else:  # one pass over both
                real, fake = disc(torch.cat([draw, code.detach()])).split([len(draw), len(code)])
            loss.append(losses.discriminator_loss(real, fake))
            with torch.no_grad():
                correct = (real > 0).sum() + (fake < 0).sum()
                accuracy.append(correct / (len(real) + len(fake)))
        return DiscriminatorTerms(torch.stack(loss), torch.stack(accuracy))

    def generator_terms(self, parts, weights=None):
        """Per-sample adversarial loss of the encoder.

        Parameters
        ----------
        parts : tuple of Tensor
            The code parts, from :meth:`train_terms`.
        weights : sequence of float or None, default=None
            Weight of each part's loss; None weighs them all 1.

        Returns
        -------
        Tensor of shape (n_samples,)
            ``-log D(code)`` summed over the parts (weighted).
        """
        if weights is None:
            weights = [1.0] * len(parts)
        return sum(
            w * losses.generator_loss(disc(code))
            for w, disc, code in zip(weights, self.discriminators, parts)
        )

    # Scoring ------------------------------------------------------------
    def score_samples(self, x):
        """``log p(x | g(h(x))) + log p(h(x))``: the reconstruction
        log-likelihood of :class:`ReconstructionModel` plus the prior's
        log-density of each code part whose prior has one.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Data in their own units.

        Returns
        -------
        Tensor of shape (n_samples,)
        """
        xs = self.scaler(x)
        parts = self.code_parts(self.encoder(xs))
        raw = self.decoder(self.decoder_input(parts))
        score = self.likelihood.log_prob_scaled(raw, xs, float(self.noise_scale))
        score = score + self.scaler.log_abs_det_jacobian()
        for prior, code in zip(self.priors, parts):
            log_prob = getattr(prior, "log_prob", None)
            if log_prob is not None:
                score = score + log_prob(code)
        return score


class ClusteringModel(AdversarialModel):
    """Adversarial clustering: a categorical cluster code and a style code.

    The encoder's output is split into ``n_clusters`` logits, turned into
    cluster probabilities by a softmax, and a continuous style code; the
    decoder reads both. The priors are a uniform categorical (one-hot
    draws) for the first part and a Gaussian for the second, each with its
    own discriminator.

    Parameters
    ----------
    encoder : nn.Module
        Maps standardised data to ``n_clusters + n_components`` outputs.
    decoder, likelihood, scaler, priors, discriminators, seed
        As for :class:`AdversarialModel`.
    n_clusters : int
        Number of clusters.

    Examples
    --------
    >>> import torch
    >>> from skae.likelihoods import Gaussian
    >>> from skae.modules import ClusteringModel, Discriminator, MLPDecoder, MLPEncoder
    >>> from skae import priors
    >>> model = ClusteringModel(MLPEncoder(4, (8,), 5), MLPDecoder(5, (8,), 4), Gaussian(),
    ...                         priors=[priors.Categorical(3), priors.Gaussian(2)],
    ...                         discriminators=[Discriminator(3), Discriminator(2)],
    ...                         n_clusters=3)
    >>> p = model.cluster_probabilities(torch.zeros(2, 4))
    >>> p.shape, torch.allclose(p.sum(dim=1), torch.ones(2))
    (torch.Size([2, 3]), True)
    """

    def __init__(self, encoder, decoder, likelihood, scaler=None, *, priors, discriminators,
                 n_clusters, seed=0):
        super().__init__(encoder, decoder, likelihood, scaler, priors=priors,
                         discriminators=discriminators, seed=seed)
        self.n_clusters = n_clusters

    def code_parts(self, h):
        """Cluster probabilities (softmax of the first ``n_clusters``
        outputs) and the style code (the others).

        Parameters
        ----------
        h : Tensor of shape (n_samples, n_clusters + n_components)
            The encoder's output.

        Returns
        -------
        proba, style : Tensor
        """
        k = self.n_clusters
        return torch.softmax(h[:, :k], dim=1), h[:, k:]

    def train_terms(self, X, neighbors=None):
        """Loss terms of a batch and the code parts they came from.

        Parameters
        ----------
        X : Tensor of shape (n_samples, n_features)
            Data in their own units.
        neighbors : Tensor of shape (n_samples, n_features) or None
            One neighbour of each sample (data in their own units), for the
            neighbour-consistency term; None makes that term zero.

        Returns
        -------
        terms : ClusteringTerms
            Per-sample reconstruction loss, neighbour-consistency loss
            (:func:`skae.losses.neighbor_consistency_loss`) and the batch's
            :func:`skae.losses.cluster_balance_loss`, repeated per sample.
        parts : tuple of Tensor
            The code parts (cluster probabilities, style), still in the graph.
        """
        xs = self.scaler(X)
        parts = self.code_parts(self.encoder(xs))
        raw = self.decoder(self.decoder_input(parts))
        proba = parts[0]
        if neighbors is None:
            neighbor = proba.new_zeros(len(X))
        else:
            neighbor = losses.neighbor_consistency_loss(
                proba, self.cluster_probabilities(neighbors)
            )
        balance = losses.cluster_balance_loss(proba).expand(len(X))
        terms = ClusteringTerms(self.likelihood.loss(raw, xs).mean(dim=1), neighbor, balance)
        return terms, parts

    def pick_neighbors(self, candidates):
        """One of each row's candidate neighbours, drawn uniformly from the
        model's own stream.

        Parameters
        ----------
        candidates : Tensor of shape (n_samples, n_neighbors)
            Row indices (any numeric dtype) of each sample's neighbours.

        Returns
        -------
        Tensor of shape (n_samples,), int64
        """
        n, k = candidates.shape
        column = torch.randint(
            k, (n,), generator=self.generator.get(candidates.device), device=candidates.device
        )
        return candidates[torch.arange(n, device=candidates.device), column].long()

    def cluster_probabilities(self, x):
        """Softmax cluster probabilities of ``x`` (data in their own units).

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Data in their own units.

        Returns
        -------
        Tensor of shape (n_samples, n_clusters)
        """
        return self.code_parts(self.encoder(self.scaler(x)))[0]
