"""
==============================================================
Autoencoders next to PCA, Isomap, UMAP and t-SNE on the digits
==============================================================

Which 2-D map of the digits keeps each digit's neighbours, and places new
digits where they belong? We fit each method on a training split of
scikit-learn's digits, embed the held-out digits with its ``transform``,
and compare

* the **trustworthiness** of the test embedding (10 neighbours): how well
  neighbourhoods of the 2-D codes are neighbourhoods of the original digits;
* the **accuracy** of a logistic regression and of a 10-nearest-neighbours
  classifier trained on the 2-D codes of the training digits and evaluated
  on those of the test digits.

The methods: PCA and Isomap (scikit-learn); UMAP (``umap-learn``) and
openTSNE, whose ``transform`` optimises the positions of each batch of new
points; :class:`skae.AutoEncoderTransformer`, trained on its reconstruction
error alone; and :class:`skae.NeighborEmbeddingAE`, an autoencoder trained
on UMAP's neighbour-graph loss plus a reconstruction term, whose
``transform`` is one pass of its encoder. scikit-learn's t-SNE has no
``transform``; it is shown embedding the test digits directly, for visual
comparison only.

This script is the demo of the README (the "main job"); it takes about ten
minutes of CPU time (measured: 605 s), most of it in the two autoencoders'
fits and UMAP's.
"""

# %%
# Data and models
# ---------------
# Raw pixel values (0 to 16) go in unscaled: the autoencoders scale their
# input themselves (``standardize="auto"``).
import time

import numpy as np
from openTSNE import TSNE as OpenTSNE
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE, Isomap, trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from umap import UMAP

from skae import AutoEncoderTransformer, NeighborEmbeddingAE

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)

models = {
    "PCA": PCA(n_components=2),
    "Isomap": Isomap(n_components=2, n_neighbors=10),
    "UMAP": UMAP(n_components=2, random_state=0),
    "openTSNE": OpenTSNE(n_components=2, random_state=0),
    "AutoEncoder": AutoEncoderTransformer(n_components=2, random_state=0),
    "NeighborEmbeddingAE": NeighborEmbeddingAE(n_components=2, random_state=0),
}


def fit_and_embed(model):
    """Fit on the training digits; return the codes of both splits."""
    if isinstance(model, OpenTSNE):  # its fit returns the embedding
        embedding = model.fit(X_train)
        return np.asarray(embedding), np.asarray(embedding.transform(X_test))
    model.fit(X_train)
    return model.transform(X_train), model.transform(X_test)


# %%
# Fit on the training digits, embed the test digits
# -------------------------------------------------
codes, scores = {}, {}
print(f"{'method':20} {'trustworthiness':>15} {'logistic':>8} {'10-NN':>6} {'fit s':>6}")
for name, model in models.items():
    start = time.perf_counter()
    Z_train, Z_test = fit_and_embed(model)
    seconds = time.perf_counter() - start
    codes[name] = Z_test
    trust = trustworthiness(X_test, Z_test, n_neighbors=10)
    logistic = make_pipeline(StandardScaler(), LogisticRegression())
    acc = logistic.fit(Z_train, y_train).score(Z_test, y_test)
    knn = KNeighborsClassifier(n_neighbors=10).fit(Z_train, y_train).score(Z_test, y_test)
    scores[name] = f"trust. {trust:.3f}, logistic {acc:.2f}, 10-NN {knn:.2f}"
    print(f"{name:20} {trust:15.3f} {acc:8.3f} {knn:6.3f} {seconds:6.1f}")

start = time.perf_counter()
codes["t-SNE (test set only)"] = TSNE(
    n_components=2, random_state=0, max_iter=1000
).fit_transform(X_test)
trust = trustworthiness(X_test, codes["t-SNE (test set only)"], n_neighbors=10)
scores["t-SNE (test set only)"] = f"trust. {trust:.3f} (no transform)"
print(f"{'t-SNE':20} {trust:15.3f} {'n/a':>8} {'n/a':>6} {time.perf_counter() - start:6.1f}"
      "  (no transform: embeds the test digits directly)")

# %%
# Plot the test embeddings side by side
# -------------------------------------
# Each panel's title repeats its figures. The axes span the 1st to 99th
# percentile of the codes, so that a few far-out test digits do not
# squeeze the rest into the centre.
import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(2, 4, figsize=(18, 9), layout="constrained")
for ax, (name, Z) in zip(axes.flat, codes.items()):
    scatter = ax.scatter(Z[:, 0], Z[:, 1], c=y_test, cmap="tab10", s=8)
    ax.set_title(f"{name}\n{scores[name]}", fontsize=10)
    lo, hi = np.percentile(Z, [1, 99], axis=0)
    pad = 0.05 * (hi - lo)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_xticks([])
    ax.set_yticks([])
axes.flat[-1].set_axis_off()
fig.colorbar(scatter, ax=axes, label="digit", ticks=np.arange(10))
fig.savefig("manifold_digits.png", dpi=100)
print("saved manifold_digits.png")

# %%
# PCA's linear projection overlaps most classes, and the autoencoder trained
# on reconstruction alone does better but still overlaps several. The
# neighbour-graph loss changes that: :class:`~skae.NeighborEmbeddingAE`
# keeps the test digits' neighbours much better than the autoencoder, though
# a little less well than UMAP and openTSNE, which optimise the position of
# each new digit against its training neighbours. In exchange its
# ``transform`` is one pass of the encoder (hundreds of times faster than
# UMAP's on 100,000 new points, see ``benchmarks/manifold.py``), and it
# keeps a decoder back to the pixels (``inverse_transform``).
