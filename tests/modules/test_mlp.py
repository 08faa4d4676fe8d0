"""The MLP modules, on their own, without skorch or scikit-learn."""

import pytest
import torch
from torch import nn

from skae.modules import AutoEncoder, MLPDecoder, MLPEncoder


def _linear_shapes(module):
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]


def test_decoder_mirrors_encoder_widths():
    """Check that the decoder's layers are the encoder's in reverse."""
    enc = MLPEncoder(20, (16, 8), 3)
    dec = MLPDecoder(3, (16, 8), 20)
    assert _linear_shapes(enc) == [(20, 16), (16, 8), (8, 3)]
    assert _linear_shapes(dec) == [(3, 8), (8, 16), (16, 20)]


def test_code_layer_is_linear():
    """Check that no activation follows the code layer: codes may be negative
    and unbounded, as PCA scores are."""
    enc = MLPEncoder(5, (4,), 2, activation="relu")
    assert isinstance(enc.layers[-1], nn.Linear)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu"])
def test_activation_is_used_between_layers(activation):
    """Check that the named activation sits between hidden layers."""
    enc = MLPEncoder(5, (4, 3), 2, activation=activation)
    acts = [m for m in enc.layers if not isinstance(m, nn.Linear)]
    assert len(acts) == 2
    assert all(type(a).__name__.lower().replace("_", "") == activation.replace("_", "") for a in acts)


def test_sigmoid_output_maps_logits_to_unit_interval():
    """Check that mean() applies the output activation to the raw output."""
    torch.manual_seed(0)
    dec = MLPDecoder(2, (8,), 6, output_activation="sigmoid")
    z = 10 * torch.randn(50, 2)
    torch.testing.assert_close(dec.mean(z), torch.sigmoid(dec(z)))
    assert dec.mean(z).min() >= 0 and dec.mean(z).max() <= 1


def test_autoencoder_composes_encoder_and_decoder():
    """Check that forward is decoder(encoder(x)) and decode uses the mean."""
    torch.manual_seed(0)
    ae = AutoEncoder(MLPEncoder(6, (5,), 2), MLPDecoder(2, (5,), 6, output_activation="sigmoid"))
    x = torch.randn(4, 6)
    torch.testing.assert_close(ae(x), ae.decoder(ae.encoder(x)))
    torch.testing.assert_close(ae.decode(ae.encode(x)), torch.sigmoid(ae(x)))
