"""
=========================================================
Tuning an autoencoder inside a Pipeline with GridSearchCV
=========================================================

A skae autoencoder is a scikit-learn transformer, so it goes into a
:class:`~sklearn.pipeline.Pipeline` in front of a classifier and its
parameters are searched by :class:`~sklearn.model_selection.GridSearchCV`
like any other step's, through the ``<step>__<parameter>`` names. The step
itself can be a parameter too: here the search chooses between a plain
:class:`~skae.AutoEncoderTransformer` and a :class:`~skae.DenoisingAE`, and
the size of the code, by the cross-validated accuracy of a logistic
regression on the code of the digits. PCA in the same pipeline is the
baseline.
"""

# %%
# Data
# ----
# 8x8 images of digits, pixel values 0 to 16. No scaler is needed in front
# of the autoencoders: they standardise the features inside themselves
# (``standardize="auto"``) and undo it in ``inverse_transform``.
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
# The pipeline
# ------------
# Step names become prefixes of the parameter names: ``ae__n_components``
# is the ``n_components`` of the step called ``"ae"``. ``max_iter`` of the
# logistic regression is raised because the codes are not standardised.
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from skae import AutoEncoderTransformer, DenoisingAE

max_epochs = 50
pipe = Pipeline(
    [
        ("ae", AutoEncoderTransformer(max_epochs=max_epochs, random_state=0)),
        ("clf", LogisticRegression(max_iter=2000)),
    ]
)

# %%
# The grid
# --------
# Two parameters: the autoencoder itself (the denoising one adds Gaussian
# noise of 0.2 standard deviations to every training digit, afresh at each
# batch) and the size of its code. Every combination is fitted on each
# cross-validation split, so the grid is kept small; ``n_jobs=2`` runs two
# fits at once.
from sklearn.model_selection import GridSearchCV

param_grid = {
    "ae": [
        AutoEncoderTransformer(max_epochs=max_epochs, random_state=0),
        DenoisingAE(noise_level=0.2, max_epochs=max_epochs, random_state=0),
    ],
    "ae__n_components": [2, 4, 8],
}
search = GridSearchCV(pipe, param_grid, cv=3, n_jobs=2)
search.fit(X_train, y_train)
print("best autoencoder:", search.best_estimator_.named_steps["ae"])
print(f"cross-validated accuracy: {search.best_score_:.3f}")
print(f"test accuracy:            {search.score(X_test, y_test):.3f}")

# %%
# The same search with PCA
# ------------------------
# PCA is the linear special case of the autoencoder: the same pipeline
# with a PCA step gives the baseline at each code size.
from sklearn.decomposition import PCA

pca_search = GridSearchCV(
    Pipeline([("pca", PCA()), ("clf", LogisticRegression(max_iter=2000))]),
    {"pca__n_components": param_grid["ae__n_components"]},
    cv=search.cv,
    n_jobs=2,
)
pca_search.fit(X_train, y_train)
print(f"PCA test accuracy:        {pca_search.score(X_test, y_test):.3f}")

# %%
# Reading the results
# -------------------
# ``cv_results_`` holds the mean and spread of the cross-validated accuracy
# of every combination. Plotted against the code size, one line per
# autoencoder, with PCA for comparison:
import matplotlib.pyplot as plt
import numpy as np

results = search.cv_results_
sizes = np.array(param_grid["ae__n_components"])
fig, ax = plt.subplots(figsize=(6, 4))
for model in param_grid["ae"]:
    name = type(model).__name__
    rows = [i for i, p in enumerate(results["params"]) if type(p["ae"]).__name__ == name]
    rows.sort(key=lambda i: results["params"][i]["ae__n_components"])
    ax.errorbar(
        sizes,
        results["mean_test_score"][rows],
        yerr=results["std_test_score"][rows],
        marker="o",
        capsize=3,
        label=name,
    )
ax.errorbar(
    sizes,
    pca_search.cv_results_["mean_test_score"],
    yerr=pca_search.cv_results_["std_test_score"],
    marker="s",
    linestyle="--",
    color="gray",
    capsize=3,
    label="PCA",
)
ax.set_xscale("log", base=2)
ax.set_xticks(sizes, [str(s) for s in sizes])
ax.set_xlabel("code size (n_components)")
ax.set_ylabel("cross-validated accuracy")
ax.set_title("Digits: logistic regression on the code")
ax.legend()
fig.tight_layout()
fig.savefig("pipeline_gridsearch.png", dpi=100)

# %%
# Both autoencoders beat PCA at two and four components: squeezed that hard,
# a nonlinear code keeps more of what separates the digits than the best
# linear projection. At eight components PCA catches up, at a fraction of
# the cost: an autoencoder pays off where the code must be small. The
# denoising criterion changes little here, since the digits are clean; its
# use is robustness to corrupted inputs (see the denoising example). The
# best pipeline, refitted on the whole training set, is
# ``search.best_estimator_``: it predicts, and its ``"ae"`` step transforms
# new digits, like any fitted pipeline.
