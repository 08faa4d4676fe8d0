"""
====================================================================
2-D maps of new digits: autoencoders beside PCA, Isomap, UMAP, t-SNE
====================================================================

An undercomplete autoencoder is a nonlinear generalisation of PCA: the
encoder ``h`` maps each 64-pixel digit to a 2-D code and the decoder ``g``
maps it back. Here we fit, on a training split of scikit-learn's digits,

* PCA and Isomap (scikit-learn),
* UMAP (``umap-learn``) and t-SNE as openTSNE implements it, both of which
  place new points by an optimisation against the training embedding,
* :class:`skae.AutoEncoderTransformer`, trained on the reconstruction alone,
* :class:`skae.NeighborEmbeddingAE`, an autoencoder trained on UMAP's
  neighbour loss plus the reconstruction,

embed the held-out digits with each ``transform``, and compare

* the **trustworthiness** of the test embedding (10 neighbours): how well
  neighbourhoods of the 2-D codes are neighbourhoods of the original digits;
* the **accuracy** of a logistic regression and of a 10-nearest-neighbours
  classifier trained on the 2-D codes of the training digits (each
  method's embedding of them) and evaluated on those of the test digits;
* the seconds each ``transform`` of the 450 test digits takes.

scikit-learn's ``TSNE`` has no ``transform`` for new data; it is shown in
the last panel, embedding the test digits directly, for visual comparison
only.

This script is the demo of the README (the "main job"); it needs the
``plot`` extra (``pip install "skae[plot]"``: matplotlib, umap-learn,
openTSNE). It takes about 70 seconds of CPU time on a 2-core machine,
numba's compilation of UMAP included.
"""

# %%
# Data and models
# ---------------
# Raw pixel values (0 to 16) go in unscaled: the autoencoders standardise
# their input themselves (``standardize="auto"``).
import time

import numpy as np
from openTSNE import TSNE as OpenTSNE
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, Isomap, trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from umap import UMAP

from skae import AutoEncoderTransformer, NeighborEmbeddingAE

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)


class OpenTSNETransformer:
    """openTSNE's fit returns an embedding object whose ``transform``
    places new points; this gives it scikit-learn's fit_transform /
    transform."""

    def fit_transform(self, X):
        self.embedding_ = OpenTSNE(random_state=0, n_jobs=2).fit(X)
        return np.asarray(self.embedding_)

    def transform(self, X):
        return np.asarray(self.embedding_.transform(X))


models = {
    "PCA": PCA(n_components=2),
    "Isomap": Isomap(n_components=2, n_neighbors=10),
    "UMAP": UMAP(n_components=2, random_state=0),
    "openTSNE": OpenTSNETransformer(),
    "AutoEncoder": AutoEncoderTransformer(n_components=2, random_state=0),
    "NeighborEmbeddingAE": NeighborEmbeddingAE(n_components=2, random_state=0),
}

# %%
# Fit on the training digits, embed the test digits
# -------------------------------------------------
codes, scores = {}, {}
print(f"{'method':20} {'trust':>6} {'logreg':>6} {'10-NN':>6} {'fit s':>6} {'transform s':>11}")
for name, model in models.items():
    start = time.perf_counter()
    Z_train = model.fit_transform(X_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    Z_test = model.transform(X_test)
    transform_seconds = time.perf_counter() - start
    codes[name] = Z_test
    trust = trustworthiness(X_test, Z_test, n_neighbors=10)
    logreg = make_pipeline(StandardScaler(), LogisticRegression()).fit(Z_train, y_train)
    knn = KNeighborsClassifier(n_neighbors=10).fit(Z_train, y_train)
    acc_logreg, acc_knn = logreg.score(Z_test, y_test), knn.score(Z_test, y_test)
    scores[name] = (f"trust {trust:.3f}, logistic {acc_logreg:.3f}, 10-NN {acc_knn:.3f}\n"
                    f"transform {transform_seconds:.2g} s")
    print(f"{name:20} {trust:6.3f} {acc_logreg:6.3f} {acc_knn:6.3f} {fit_seconds:6.1f} "
          f"{transform_seconds:11.3f}")

start = time.perf_counter()
codes["t-SNE (test set only)"] = TSNE(n_components=2, random_state=0).fit_transform(X_test)
trust = trustworthiness(X_test, codes["t-SNE (test set only)"], n_neighbors=10)
scores["t-SNE (test set only)"] = f"trust {trust:.3f}, no transform"
print(f"{'t-SNE':20} {trust:6.3f} {'n/a':>6} {'n/a':>6} {time.perf_counter() - start:6.1f} "
      f"{'n/a':>11}  (embeds the test digits directly)")

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
# on the reconstruction alone keeps neighbourhoods only a little better
# (trustworthiness 0.909, 10-NN accuracy 0.778). UMAP and openTSNE keep
# neighbourhoods best (0.976 and 0.973), but each places new points by an
# optimisation against its training embedding: their ``transform`` of the
# 450 test digits takes thousands of times as long as an encoder's here
# (UMAP's first call includes numba's compilation; ``benchmarks/manifold.py``
# times 100,000 points: 320 and 24 times as long).
# The neighbour-preserving autoencoder learns a UMAP-like map as a
# function: its encoder places new digits in one forward pass, its decoder
# maps any point of the plane back to a digit, and its map of the new digits
# is nearly UMAP's (in ``benchmarks/manifold.py``: trustworthiness 0.972
# against 0.976, the same 10-NN accuracy 0.978, and a better logistic
# accuracy, 0.951 against 0.827).
