"""
=======================================================
Autoencoder next to PCA, Isomap and t-SNE on the digits
=======================================================

An undercomplete autoencoder is a nonlinear generalisation of PCA: the
encoder ``h`` maps each 64-pixel digit to a 2-D code and the decoder ``g``
maps it back. Here we fit :class:`skae.AutoEncoderTransformer`, PCA and
Isomap on a training split of scikit-learn's digits, embed the held-out
digits with each ``transform``, and compare

* the **trustworthiness** of the test embedding (10 neighbours): how well
  neighbourhoods of the 2-D codes are neighbourhoods of the original digits;
* the **accuracy** of a logistic regression trained on the 2-D codes of the
  training digits and evaluated on those of the test digits.

t-SNE has no ``transform`` for new data; it is shown as a fourth panel,
embedding the test digits directly, for visual comparison only.

This script is the demo of the README (the "main job"); it runs in well
under two minutes on a 2-core CPU.
"""

# %%
# Data and models
# ---------------
# Raw pixel values (0 to 16) go in unscaled: the autoencoder standardises
# its input itself (``standardize="auto"``).
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE, Isomap, trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoEncoderTransformer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)

models = {
    "PCA": PCA(n_components=2),
    "Isomap": Isomap(n_components=2, n_neighbors=10),
    "AutoEncoder": AutoEncoderTransformer(
        n_components=2, max_epochs=200, random_state=0
    ),
}

# %%
# Fit on the training digits, embed the test digits
# -------------------------------------------------
codes, scores = {}, {}
print(f"{'method':12} {'trustworthiness':>15} {'accuracy':>9} {'fit s':>6}")
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train)
    seconds = time.perf_counter() - start
    Z_train, Z_test = model.transform(X_train), model.transform(X_test)
    codes[name] = Z_test
    trust = trustworthiness(X_test, Z_test, n_neighbors=10)
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(Z_train, y_train)
    acc = clf.score(Z_test, y_test)
    scores[name] = f"trustworthiness {trust:.2f}, accuracy {acc:.2f}"
    print(f"{name:12} {trust:15.3f} {acc:9.3f} {seconds:6.1f}")

start = time.perf_counter()
codes["t-SNE (test set only)"] = TSNE(
    n_components=2, random_state=0, max_iter=1000
).fit_transform(X_test)
trust = trustworthiness(X_test, codes["t-SNE (test set only)"], n_neighbors=10)
scores["t-SNE (test set only)"] = f"trustworthiness {trust:.2f}"
print(f"{'t-SNE':12} {trust:15.3f} {'n/a':>9} {time.perf_counter() - start:6.1f}"
      "  (no transform: embeds the test digits directly)")

# %%
# Plot the four test embeddings side by side
# ------------------------------------------
# Each panel's title repeats its figures. The axes span the 1st to 99th
# percentile of the codes, so that a few far-out test digits do not
# squeeze the rest into the centre.
import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(1, 4, figsize=(18, 4.5), layout="constrained")
for ax, (name, Z) in zip(axes, codes.items()):
    scatter = ax.scatter(Z[:, 0], Z[:, 1], c=y_test, cmap="tab10", s=8)
    ax.set_title(f"{name}\n{scores[name]}", fontsize=10)
    lo, hi = np.percentile(Z, [1, 99], axis=0)
    pad = 0.05 * (hi - lo)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(scatter, ax=axes, label="digit", ticks=np.arange(10))
fig.savefig("manifold_digits.png", dpi=100)
print("saved manifold_digits.png")

# %%
# PCA's linear projection overlaps most classes. The autoencoder's codes keep
# digit neighbourhoods best among the methods with a ``transform``
# (trustworthiness 0.91 against 0.84 for Isomap and 0.83 for PCA here) and
# give the best linear classifier (0.72 accuracy). t-SNE separates the
# classes most clearly, but it has no ``transform``: it cannot embed new
# digits, which the autoencoder's encoder does.
