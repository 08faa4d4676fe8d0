"""
==========================================
Outlier detection by reconstruction error
==========================================

An autoencoder trained on mostly normal data learns to rebuild what is
typical; what it rebuilds badly is suspicious. :class:`skae.AEOutlierDetector`
wraps this idea in scikit-learn's outlier-detector contract, the one of
:class:`~sklearn.ensemble.IsolationForest`: ``score_samples`` is lower for
more abnormal samples, ``predict`` returns -1 for outliers.

We use the breast-cancer data, keep all benign tumours and a few malignant
ones, and treat the malignant tumours as the anomalies, without telling the
detector which is which.
"""

# %%
# A contaminated training set
# ---------------------------
# Benign tumours are the normal class; 5% of the training data are malignant.
# The 30 raw features span five orders of magnitude: the detector scales them
# itself (median and 5-95 percentile range, fitted on the training data), as
# one would expect from an isolation forest.
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

X, y = load_breast_cancer(return_X_y=True)
is_anomaly = (y == 0).astype(int)  # malignant
rng = np.random.default_rng(0)
benign = np.flatnonzero(is_anomaly == 0)
malignant = rng.choice(np.flatnonzero(is_anomaly == 1), size=60, replace=False)
keep = np.r_[benign, malignant]
X, is_anomaly = X[keep], is_anomaly[keep]
X_train, X_test, y_train, y_test = train_test_split(
    X, is_anomaly, test_size=0.5, stratify=is_anomaly, random_state=0
)
print(f"train: {len(X_train)} samples, {y_train.mean():.0%} anomalies")

# %%
# Fit the detector and an isolation forest
# ----------------------------------------
# ``contamination`` only sets the threshold behind ``predict``; the scores,
# and so the ROC curve, do not depend on it.
from sklearn.ensemble import IsolationForest

from skae import AEOutlierDetector

detector = AEOutlierDetector(contamination=0.1, random_state=0)
detector.fit(X_train)
forest = IsolationForest(random_state=0).fit(X_train)

labels = detector.predict(X_test)
print(f"flagged {np.mean(labels == -1):.0%} of the test set as outliers")

# %%
# Scores of inliers and outliers
# ------------------------------
# The anomaly score is ``-score_samples``: minus the autoencoder's
# log-likelihood of the (scaled) sample, in nats, under the Laplace
# likelihood of its absolute-error loss (the default autoencoder's
# ``loss="mae"``); it grows with the mean absolute reconstruction error.
# Malignant tumours sit in the right tail; the dashed line is the threshold
# set by ``contamination``.
import matplotlib.pyplot as plt
from sklearn.metrics import RocCurveDisplay

anomaly_score = -detector.score_samples(X_test)
fig, (ax_hist, ax_roc) = plt.subplots(1, 2, figsize=(11, 4.5))
bins = np.linspace(anomaly_score.min(), anomaly_score.max(), 30)
ax_hist.hist(anomaly_score[y_test == 0], bins=bins, alpha=0.6, label="benign (inlier)")
ax_hist.hist(anomaly_score[y_test == 1], bins=bins, alpha=0.6, label="malignant (outlier)")
ax_hist.axvline(-detector.offset_, color="k", linestyle="--", label="threshold")
ax_hist.set_xlabel("anomaly score (minus the log-likelihood, nats)")
ax_hist.set_ylabel("test samples")
ax_hist.legend()

# %%
# ROC curves
# ----------
# Both detectors rank the test samples by their anomaly score.
RocCurveDisplay.from_predictions(
    y_test, anomaly_score, name="AEOutlierDetector", ax=ax_roc
)
RocCurveDisplay.from_predictions(
    y_test, -forest.score_samples(X_test), name="IsolationForest", ax=ax_roc
)
ax_roc.set_title("Malignant tumours as anomalies")
fig.tight_layout()
fig.savefig("plot_outlier_detection.png")

# %%
# Which features give a sample away?
# ----------------------------------
# ``feature_errors`` splits the score into one error per feature; the columns
# with the largest errors are those the autoencoder could not explain.
names = load_breast_cancer().feature_names
worst = np.argmax(anomaly_score)
top = np.argsort(detector.feature_errors(X_test[worst : worst + 1])[0])[::-1][:3]
print("most abnormal test sample, largest errors in:", ", ".join(names[top]))

# %%
# The histogram shows the malignant tumours concentrated at high anomaly
# score (high reconstruction error), and the ROC curve how well the ranking separates
# them without a single label used in training. On this small set the
# isolation forest ranks them about as well; ``benchmarks/outliers.py``
# compares the two, and PyOD's autoencoders, on the ADBench datasets.
