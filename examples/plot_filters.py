"""
==============================================================
First-layer filters of autoencoders and denoising autoencoders
==============================================================

The lecture's filter figure, after Vincent et al. (2010): the weights of the
first layer of an autoencoder, each drawn as an image, for a plain
autoencoder and for denoising autoencoders trained with more and more
masking noise. Each filter is the pattern of pixels that one hidden unit
responds to. An overcomplete first layer (more hidden units than pixels)
can reconstruct the digits through weights that look like noise; the
denoising criterion asks each unit for something more useful.

All four models have the same architecture and training settings; only the
corruption of the training digits differs.
"""

# %%
# Data and models
# ---------------
# The 8x8 digits, scaled to [0, 1] and not standardised, with the
# cross-entropy loss that pixels in [0, 1] call for: masking noise then sets
# a pixel to 0 (black). The first hidden layer has 100 units for 64 pixels;
# the code has 32 numbers.
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoEncoderTransformer, DenoisingAE

X, _ = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)

params = dict(
    n_components=32,
    hidden_layer_sizes=(100,),
    loss="bce",
    standardize=False,
    max_epochs=200,
    batch_size=64,
    lr=3e-3,
    early_stopping=False,
    random_state=0,
)
models = {"AE": AutoEncoderTransformer(**params).fit(X_train)}
for level in (0.1, 0.25, 0.5):
    dae = DenoisingAE(noise="masking", noise_level=level, **params)
    models[f"DAE, {level:.0%} masked"] = dae.fit(X_train)

# %%
# The filters and the reconstructions
# -----------------------------------
# :func:`skae.inspection.first_layer_filters` tiles the rows of the first
# layer's weight matrix into one image, each filter scaled to [0, 1] on its
# own (white: the unit's largest weight, black: its smallest). Below the
# filters, held-out digits with half their pixels masked
# (:meth:`~skae.DenoisingAE.corrupt` of the 50 % model, seeded) and each
# model's reconstruction of the masked digits.
import matplotlib.pyplot as plt  # noqa: E402

from skae.inspection import first_layer_filters  # noqa: E402

X_masked = models["DAE, 50% masked"].corrupt(X_test, random_state=1)
rows = [("clean", X_test), ("50 % masked", X_masked)] + [
    (name, model.inverse_transform(model.transform(X_masked)))
    for name, model in models.items()
]

fig = plt.figure(figsize=(14, 9))
top, bottom = fig.subfigures(2, 1, height_ratios=[4, 5])
for (name, model), ax in zip(models.items(), top.subplots(1, len(models))):
    ax.imshow(first_layer_filters(model, image_shape=(8, 8)), cmap="gray")
    ax.set_title(name)
    ax.set_axis_off()
top.suptitle("First-layer filters: 100 units on 8x8 digits")

n_shown = 12
for (label, images), row in zip(rows, bottom.subplots(len(rows), n_shown)):
    for image, ax in zip(images[:n_shown], row):
        ax.imshow(image.reshape(8, 8), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(label, rotation=0, ha="right", va="center")
bottom.suptitle("Held-out digits, masked, and each model's reconstruction of them")
fig.savefig("plot_filters.png", dpi=100)
print("saved plot_filters.png")

# %%
# The plain autoencoder's filters look like noise: neighbouring pixels get
# unrelated weights, and no stroke or blob can be made out. It reconstructs
# the digits well from 100 such units, so nothing made them more
# structured. The denoising autoencoders' filters are smoother: large
# regions of one grey with a few light or dark blobs, weights that vary
# slowly across the image, more so at 25 % and 50 % masking than at 10 %.
# A few of their filters keep an isolated light or dark pixel in the first
# or last column, pixels that are inked in fewer than 3 % of the digits.
#
# The reconstructions show what the filters are for. The plain autoencoder
# copies the masked digits, holes included; the denoising autoencoder
# trained at 10 % fills the small holes in but not the large ones; those
# trained at 25 % and 50 % rebuild whole digits from half their pixels,
# the 50 % model the most smoothly (and the most blurred), because to undo
# the masking each unit must pool the evidence of many pixels.
