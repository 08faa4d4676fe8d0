"""Convolutional networks: the ConvNet architecture in every estimator, its
tied decoder and contractive penalty, and the filter pictures."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skae import (
    AEOutlierDetector,
    AutoEncoderTransformer,
    ContractiveAE,
    ConvNet,
    DenoisingAE,
    VAETransformer,
)
from skae.inspection import first_layer_filters
from skae.losses import contractive_penalty
from skae.modules import ConvEncoder, TiedConvDecoder

SPEC = ConvNet((1, 8, 8), (4, 8))
FAST = dict(n_components=3, architecture=SPEC, max_epochs=2, random_state=0)


@pytest.fixture(scope="module")
def bars():
    """8 x 8 images in [0, 1] of one horizontal or vertical bar at a random
    place, with a little noise: structure a conv net can learn."""
    rng = np.random.default_rng(0)
    X = np.zeros((400, 1, 8, 8))
    for i in range(400):
        k = rng.integers(8)
        if i % 2:
            X[i, 0, k, :] = 1.0
        else:
            X[i, 0, :, k] = 1.0
    return np.clip(X + 0.05 * rng.random(X.shape), 0, 1)


@pytest.mark.parametrize(
    "estimator",
    [AutoEncoderTransformer(**FAST, loss="bce"), DenoisingAE(**FAST, noise="masking"),
     ContractiveAE(**FAST), ContractiveAE(**FAST, penalty="stochastic"),
     VAETransformer(**FAST, likelihood="bernoulli", n_importance_samples=5)],
    ids=["ae", "dae", "cae-tied", "cae-stochastic", "vae"],
)
def test_images_round_trip_as_flat_rows_or_4d_arrays(estimator, bars):
    """Check that every estimator takes ConvNet and (n, c, h, w) or flat
    input alike, with 2-D codes and flat reconstructions."""
    flat = bars.reshape(len(bars), -1)
    est = clone(estimator).fit(bars)
    assert est.n_features_in_ == 64
    Z = est.transform(bars)
    assert Z.shape == (400, 3)
    np.testing.assert_allclose(est.transform(flat), Z)
    assert est.inverse_transform(Z).shape == (400, 64)
    assert np.all(np.isfinite(est.score_samples(bars)))


def test_detector_takes_images(bars):
    det = AEOutlierDetector(AutoEncoderTransformer(**FAST), random_state=0).fit(bars)
    assert det.predict(bars).shape == (400,)


def test_conv_autoencoder_learns_bars_better_than_the_mean_image(bars):
    """Check that a small conv autoencoder rebuilds held-out bar images far
    better than the mean image does (chance level for a reconstruction)."""
    train, test = bars[:300], bars[300:]
    ae = AutoEncoderTransformer(4, architecture=ConvNet((1, 8, 8), (8, 16), activation="relu"),
                                loss="bce", max_epochs=150, lr=1e-2, batch_size=32,
                                early_stopping=False, random_state=0).fit(train)
    flat = test.reshape(100, -1)
    err = np.mean((ae.inverse_transform(ae.transform(test)) - flat) ** 2)
    baseline = np.mean((train.reshape(300, -1).mean(0) - flat) ** 2)
    assert err < 0.25 * baseline  # measured 0.07


def test_conv_contractive_penalty_matches_autograd_jacobian():
    torch.manual_seed(0)
    encoder = ConvEncoder((1, 6, 6), (3, 4), 2, activation="tanh").double()
    x = torch.randn(3, 36, dtype=torch.float64)
    expected = torch.stack([
        torch.autograd.functional.jacobian(lambda v: encoder(v.unsqueeze(0))[0], xi).pow(2).sum()
        for xi in x
    ])
    torch.testing.assert_close(contractive_penalty(encoder, x), expected)


def test_tied_transposed_convolution_is_the_adjoint_of_the_encoders():
    """Check <conv(x), y> = <conv_transpose(y), x> for each layer, with the
    kernel shared: the tied decoder's transposed convolution is the
    encoder's convolution's adjoint (odd and even image sizes)."""
    torch.manual_seed(0)
    for shape in [(2, 8, 8), (2, 7, 9)]:
        encoder = ConvEncoder(shape, (3, 5), 2).double()
        decoder = TiedConvDecoder(encoder).double()
        convs = [m for m in encoder.convs if isinstance(m, torch.nn.Conv2d)]
        x = torch.randn(4, *shape, dtype=torch.float64)
        for i, conv in enumerate(convs):
            out = torch.nn.functional.conv2d(x, conv.weight, stride=2, padding=conv.padding)
            y = torch.randn_like(out)
            back = decoder.transposed(y, i)
            assert back.shape == x.shape
            torch.testing.assert_close((out * y).sum(), (back * x).sum())
            x = torch.randn_like(out)
        assert decoder.weights[1] is convs[0].weight


def test_convnet_checks_its_parameters_and_the_data(bars):
    with pytest.raises(ValueError, match="input_shape=\\(1, 9, 9\\) has 81 pixels"):
        AutoEncoderTransformer(**{**FAST, "architecture": ConvNet((1, 9, 9), (4,))}).fit(bars)
    with pytest.raises(ValueError, match="kernel_size must be an odd int"):
        AutoEncoderTransformer(**{**FAST, "architecture": ConvNet((1, 8, 8), (4,), 4)}).fit(bars)


@pytest.mark.parametrize("spec", [None, SPEC])
def test_first_layer_filters_tile_the_filters(spec, bars):
    kw = dict(FAST, hidden_layer_sizes=(6,), architecture=spec)
    est = AutoEncoderTransformer(**kw).fit(bars)
    grid = first_layer_filters(est, n_columns=2)
    n, side = (6, 8) if spec is None else (4, 3)
    rows = int(np.ceil(n / 2))
    assert grid.shape == (rows * (side + 1) - 1, 2 * (side + 1) - 1)
    tiles = grid[~np.isnan(grid)]
    assert tiles.min() == 0.0 and tiles.max() == 1.0
    with pytest.raises(ValueError, match="image_shape=\\(4, 4\\) does not have"):
        first_layer_filters(AutoEncoderTransformer(**{**kw, "architecture": None}).fit(bars),
                            image_shape=(4, 4))
