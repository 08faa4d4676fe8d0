"""
=====================================================
Codes shaped by a prior: adversarial autoencoders
=====================================================

An adversarial autoencoder (:class:`skae.AdversarialAE`) is trained so
that the codes of the 8x8 digits of :func:`sklearn.datasets.load_digits`
follow a prior chosen in advance: here the paper's mixture of ten Gaussians
arranged on a circle, in two dimensions. A discriminator learns to tell
codes from draws of the prior and the encoder learns to fool it. We

* look at the codes against draws of the prior,
* decode the plane on a grid (:meth:`~skae.AdversarialAE.inverse_transform`),
* and cluster the digits with the categorical prior of
  :class:`skae.AdversarialClustering`, against KMeans.
"""

# %%
# Fit the adversarial autoencoder
# -------------------------------
# Pixel intensities are scaled to [0, 1] for the cross-entropy loss.
import numpy as np
from sklearn.datasets import load_digits

from skae import AdversarialAE

X, y = load_digits(return_X_y=True)
X = X / 16.0

aae = AdversarialAE(
    n_components=2,
    prior="mixture",
    n_modes=10,
    loss="bce",
    hidden_layer_sizes=(128, 64),
    max_epochs=100,
    random_state=0,
)
codes = aae.fit_transform(X)

# %%
# The discriminator's loss sits near log 4 = 1.386 when it can no longer
# tell codes from prior draws; its accuracy on its own batches near 0.5.
history = aae.history_
print(f"last epoch: discriminator loss {history[-1, 'discriminator_loss']:.3f}, "
      f"accuracy {history[-1, 'discriminator_accuracy']:.2f}, "
      f"reconstruction loss {history[-1, 'train_loss']:.3f}")

# %%
# Codes and prior draws
# ---------------------
# The codes fill the ten arms of the prior; digits of one class mostly
# share an arm, without any label having been used.
import matplotlib.pyplot as plt
import torch

draws = aae.net_.module_.priors[0].sample(len(X), torch.Generator().manual_seed(0))

fig, axes = plt.subplots(1, 2, figsize=(10, 5), sharex=True, sharey=True)
axes[0].scatter(*draws.numpy().T, s=3, c="grey")
axes[0].set_title("draws of the prior")
points = axes[1].scatter(*codes.T, s=3, c=y, cmap="tab10")
axes[1].set_title("codes of the digits (colour: class)")
fig.colorbar(points, ax=axes[1], ticks=range(10))
for ax in axes:
    ax.set_aspect("equal")
fig.savefig("adversarial_codes.png", dpi=100)

# %%
# Decoding the plane
# ------------------
# Every point of the plane decodes to an image; across the arms of the
# prior the digits change class, along an arm they change style.
grid = np.linspace(-6, 6, 15)
Z = np.array([[a, b] for b in grid[::-1] for a in grid])
images = aae.inverse_transform(Z).reshape(15, 15, 8, 8)

fig, ax = plt.subplots(figsize=(7, 7))
ax.imshow(images.transpose(0, 2, 1, 3).reshape(15 * 8, 15 * 8), cmap="gray_r")
ax.set_axis_off()
ax.set_title("decoder on a grid over [-6, 6]^2")
fig.savefig("adversarial_grid.png", dpi=100)

# %%
# Clustering with a categorical prior
# -----------------------------------
# :class:`skae.AdversarialClustering` first maps the digits to the codes
# of a neighbour embedding (a :class:`skae.NeighborEmbeddingAE`, 10-D),
# where each group of similar digits forms a compact blob. It then splits
# its own code of those codes into a softmax over ten clusters, matched to
# one-hot draws of a uniform categorical prior, and a one-value style code
# matched to a Gaussian. Two more terms, on by default, pull each digit's
# assignment towards that of one of its ten nearest neighbours and keep
# the clusters balanced while they form (that pull then fades, so that the
# sizes of the clusters follow the data). The adjusted Rand index compares
# its clusters and KMeans's with the classes.
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from skae import AdversarialClustering

clusterer = AdversarialClustering(n_clusters=10, random_state=0)
labels = clusterer.fit_predict(X)
kmeans = KMeans(10, n_init=10, random_state=0).fit_predict(X)
print(f"adjusted Rand index: AdversarialClustering {adjusted_rand_score(y, labels):.3f}, "
      f"KMeans {adjusted_rand_score(y, kmeans):.3f}")

# %%
# Six digits of each cluster, one cluster per row:
fig, axes = plt.subplots(10, 6, figsize=(5, 8))
rng = np.random.default_rng(0)
for row, cluster in enumerate(range(10)):
    members = np.flatnonzero(labels == cluster)
    chosen = rng.choice(members, size=min(6, len(members)), replace=False)
    for col in range(6):
        ax = axes[row, col]
        ax.set_axis_off()
        if col < len(chosen):
            ax.imshow(X[chosen[col]].reshape(8, 8), cmap="gray_r")
    axes[row, 0].set_title(f"cluster {cluster} ({len(members)})", fontsize=7, loc="left")
fig.tight_layout()
fig.savefig("adversarial_clusters.png", dpi=100)
plt.show()

# %%
# The clusters are found from the images alone; each row should hold
# mostly one digit, written in different styles, which KMeans on the pixels
# mixes more often.
