"""
=======================================================
Generating and embedding digits with a variational AE
=======================================================

A variational autoencoder (:class:`skae.VAETransformer`) learns a latent
variable model of the 8x8 digits of :func:`sklearn.datasets.load_digits`:
a code ``z ~ N(0, I)`` of two values is decoded into the probabilities of
the 64 pixels. The same fitted estimator

* generates new digits (:meth:`~skae.VAETransformer.sample`),
* decodes a line through the latent space
  (:meth:`~skae.VAETransformer.inverse_transform`),
* embeds digits as their posterior means
  (:meth:`~skae.VAETransformer.transform`), and
* scores held-out digits by their estimated log-likelihood
  (:meth:`~skae.VAETransformer.score`).
"""

# %%
# Fit the VAE
# -----------
# Pixel intensities are scaled to [0, 1] for the Bernoulli likelihood. Two
# latent dimensions are few for a good model, but can be drawn.
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import VAETransformer

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

vae = VAETransformer(
    n_components=2,
    likelihood="bernoulli",
    hidden_layer_sizes=(128, 64),
    max_epochs=300,
    n_importance_samples=100,
    random_state=0,
).fit(X_train)

terms = vae.elbo_terms(X_test)
print(f"epochs run: {vae.n_epochs_}")
print(f"held-out log-likelihood (K={vae.n_importance_samples}): {vae.score(X_test):.2f} nats")
print(
    f"held-out ELBO: {terms.elbo.mean():.2f} = reconstruction "
    f"{terms.reconstruction.mean():.2f} - KL {terms.kl.mean():.2f} nats"
)

# %%
# Generated digits
# ----------------
# Codes drawn from the prior ``N(0, I)`` are decoded into pixel
# probabilities; each image is the decoder's mean, not a binary draw.
import matplotlib.pyplot as plt


def show_images(images, n_rows, n_cols, title, filename):
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(n_cols * 0.8, n_rows * 0.8 + 0.5))
    for ax, image in zip(axes.ravel(), images):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.88, wspace=0.05, hspace=0.05)
    fig.suptitle(title)
    fig.savefig(filename, dpi=100)
    return fig


show_images(
    vae.sample(64, random_state=0), 8, 8, "Digits generated from z ~ N(0, I)",
    "vae_generated_digits.png",
)

# %%
# A latent traversal
# ------------------
# Moving along each latent axis, the other held at 0, morphs one digit
# into another: the decoder is a smooth map from codes to images. The
# range covers about 95% of the prior's mass.
import numpy as np

steps = np.linspace(-2.0, 2.0, 10)
codes = np.zeros((20, 2))
codes[:10, 0] = steps
codes[10:, 1] = steps
show_images(
    vae.inverse_transform(codes), 2, 10,
    "Decoding z1 from -2 to 2 (top) and z2 (bottom)", "vae_latent_traversal.png",
)

# %%
# The latent means of the test digits
# -----------------------------------
# ``transform`` returns the posterior means ``mu(x)``. Although the VAE
# never saw the labels, digits of a class gather together; the KL term
# keeps the codes close to the prior ``N(0, I)``.
fig, ax = plt.subplots(figsize=(6, 5))
Z = vae.transform(X_test)
points = ax.scatter(Z[:, 0], Z[:, 1], c=y_test, cmap="tab10", s=12)
fig.colorbar(points, ax=ax, label="digit")
ax.set(xlabel="z1", ylabel="z2", title="Posterior means of the test digits")
fig.savefig("vae_latent_means.png", dpi=100)
plt.show()

# %%
# The grid shows plausible but blurry digits (means of 64 Bernoullis, from
# a two-dimensional code), the traversal shows smooth transitions between
# classes, and the embedding separates most classes without labels.
