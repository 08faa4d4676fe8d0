"""Tests of StackedAutoEncoder: greedy layer-wise pretraining, fine-tuning."""

import numpy as np
import pytest
import torch
from torch import nn

from skae import StackedAutoEncoder


def _small(**params):
    defaults = dict(n_components=3, hidden_layer_sizes=(8,), activation="tanh",
                    pretraining_epochs=60, early_stopping=False, batch_size=32,
                    lr=1e-2, random_state=0)
    return StackedAutoEncoder(**{**defaults, **params})


def _first_layer_codes(sae, X):
    """Codes of the first layer: its Linear and activation on standardised X."""
    module = sae.net_.module_
    with torch.no_grad():
        xs = module.scaler(torch.as_tensor(X, dtype=torch.float32))
        return module.encoder.layers[1](module.encoder.layers[0](xs))


def _second_layer_error(sae, H):
    """Squared error of the second layer autoencoder rebuilding codes ``H``:
    its encoder (the top Linear) then its decoder (the first Linear of the
    deep decoder and the activation)."""
    enc, dec = sae.net_.module_.encoder.layers, sae.net_.module_.decoder.layers
    with torch.no_grad():
        return float(((dec[1](dec[0](enc[2](H))) - H) ** 2).mean())


def test_greedy_stage_trains_second_layer_on_first_layer_codes(blobs):
    """Check that the second layer is an autoencoder of the first layer's
    codes, as good as one trained by hand on them, and fitted to them (not
    to the codes of another first layer)."""
    sae = _small(fine_tune=False).fit(blobs)
    H = _first_layer_codes(sae, blobs)
    error = _second_layer_error(sae, H)

    # The same layer trained by hand: plain full-batch Adam on the codes.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        encoder = nn.Linear(8, 3)
        decoder = nn.Sequential(nn.Linear(3, 8), nn.Tanh())
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-2)
    for _ in range(1500):
        optimizer.zero_grad()
        loss = ((decoder(encoder(H)) - H) ** 2).mean()
        loss.backward()
        optimizer.step()
    hand = float(loss.detach())

    assert error <= 1.5 * hand + 1e-3
    # Far below the error of the best constant (the codes' variance).
    assert error < 0.2 * float(H.var(dim=0).mean())
    # Codes of another first layer are not what the second layer learned.
    other = _small(fine_tune=False, random_state=1).fit(blobs)
    assert _second_layer_error(sae, _first_layer_codes(other, blobs)) > 3 * error


def test_layer_histories_and_fine_tuning(blobs):
    """Check that each layer has its greedy history, that fine_tune=False
    keeps the greedy weights without an epoch of fine-tuning, and that
    fine-tuning end to end lowers the reconstruction error."""
    greedy = _small(fine_tune=False).fit(blobs)
    tuned = _small(fine_tune=True, max_epochs=60).fit(blobs)
    assert len(greedy.layer_histories_) == 2
    assert all(len(h) == 60 for h in greedy.layer_histories_)
    assert greedy.n_epochs_ == 0 and tuned.n_epochs_ == 60
    # The greedy stage is the same in both fits (same seeds).
    np.testing.assert_allclose(
        greedy.layer_histories_[1][:, "train_loss"], tuned.layer_histories_[1][:, "train_loss"]
    )
    assert tuned.score(blobs) > greedy.score(blobs)
    codes = tuned.transform(blobs)
    assert codes.shape == (len(blobs), 3)
    assert tuned.inverse_transform(codes).shape == blobs.shape


def test_denoising_layers_differ_from_plain_ones(blobs):
    """Check that noise reaches the greedy stage: a stacked denoising
    autoencoder's layers are trained on corrupted codes."""
    plain = _small(fine_tune=False, pretraining_epochs=5).fit(blobs)
    noisy = _small(fine_tune=False, pretraining_epochs=5, noise="gaussian",
                   noise_level=0.5).fit(blobs)
    assert not np.allclose(plain.transform(blobs), noisy.transform(blobs))
    assert (noisy.layer_histories_[0][-1, "train_loss"]
            > plain.layer_histories_[0][-1, "train_loss"])


def test_bad_noise_level_is_a_clear_error(blobs):
    """Check that a masking probability of 1 is refused before training."""
    with pytest.raises(ValueError, match="noise_level"):
        _small(noise="masking", noise_level=1.0).fit(blobs)
