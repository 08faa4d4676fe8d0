"""
=============================================
Rebuilding corrupted digits: AE against DAE
=============================================

A plain autoencoder learns to copy its input through a narrow code; shown a
corrupted digit, it copies the corruption too. A denoising autoencoder
(:class:`skae.DenoisingAE`) is trained on corrupted copies of the digits to
rebuild the clean ones, so it learns what digits look like and fills the
holes in.

Both models below have the same architecture and train for the same number
of epochs on the same digits; only the denoising criterion differs.
"""

# %%
# Data and models
# ---------------
# The 8x8 digits, scaled to [0, 1] and not standardised, so that masking
# noise sets a pixel to 0 (black), as in Vincent et al. (2008). The DAE
# masks 40 % of the pixels of every training digit, afresh at every batch.
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoEncoderTransformer, DenoisingAE

X, _ = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)

params = dict(
    n_components=32,
    hidden_layer_sizes=(64,),
    max_epochs=40,
    batch_size=64,
    early_stopping=False,
    standardize=False,
    random_state=0,
)
ae = AutoEncoderTransformer(**params).fit(X_train)
dae = DenoisingAE(noise="masking", noise_level=0.4, **params).fit(X_train)

# %%
# Corrupt held-out digits and rebuild them
# ----------------------------------------
# :meth:`~skae.DenoisingAE.corrupt` applies the DAE's own corruption process
# (seeded), so the test digits are damaged exactly as the training ones were.
X_corrupted = dae.corrupt(X_test, random_state=1)
rebuilt = {
    "AE": ae.inverse_transform(ae.transform(X_corrupted)),
    "DAE": dae.inverse_transform(dae.transform(X_corrupted)),
}
for name, X_rebuilt in rebuilt.items():
    error = np.mean((X_rebuilt - X_test) ** 2)
    print(f"{name}: mean squared error to the clean digits = {error:.4f}")

# %%
# Clean, corrupted and rebuilt digits
# -----------------------------------
import matplotlib.pyplot as plt  # noqa: E402

n_shown = 10
rows = [("clean", X_test), ("corrupted", X_corrupted)] + [
    (f"{name} rebuilt", X_rebuilt) for name, X_rebuilt in rebuilt.items()
]
fig, axes = plt.subplots(len(rows), n_shown, figsize=(n_shown, len(rows) + 0.4))
for (label, images), row in zip(rows, axes):
    for image, ax in zip(images[:n_shown], row):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(label, rotation=0, ha="right", va="center")
fig.suptitle("40 % of the pixels masked: the DAE fills them in, the AE keeps the holes")
fig.tight_layout()
fig.savefig("denoising.png", dpi=100)
print("saved denoising.png")

# %%
# The plain autoencoder reproduces the corrupted digits, holes included:
# nothing in its training asked it to do otherwise. The denoising
# autoencoder's rebuilds are close to the clean digits (about half the
# error of the AE's), because it learned how the pixels of a digit depend
# on each other, which is the structure a good representation should
# capture.
