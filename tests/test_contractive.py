"""Tests of ContractiveAE, the contractive penalties and tied weights."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from torch import nn

from skae import AutoEncoderTransformer, ContractiveAE
from skae.losses import (
    code_and_contractive_penalty,
    contractive_penalty,
    reconstruction_error,
    stochastic_contractive_penalty,
)
from skae.modules import AutoEncoder, MLPDecoder, MLPEncoder, TiedDecoder


def _jacobian_sq_norms(encoder, x, create_graph=False):
    """||J||_F^2 per sample by torch.autograd.functional.jacobian."""
    return torch.stack(
        [
            torch.autograd.functional.jacobian(
                lambda v: encoder(v.unsqueeze(0)).squeeze(0), xi, create_graph=create_graph
            )
            .pow(2)
            .sum()
            for xi in x
        ]
    )


class _SkipEncoder(nn.Module):
    """An encoder that is not a chain of layers (needs the generic path)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(5, 4)
        self.b = nn.Linear(4, 3)
        self.skip = nn.Linear(5, 3)

    def forward(self, x):
        return self.b(torch.tanh(self.a(x))) + torch.sigmoid(self.skip(x))


def _encoders():
    torch.manual_seed(0)
    return {
        "relu-deep": MLPEncoder(5, (7, 6, 4), 3, "relu"),
        "tanh-deep": MLPEncoder(5, (7, 6), 3, "tanh"),
        "sigmoid-deep": MLPEncoder(5, (7, 6), 3, "sigmoid"),
        "elu-wide-code": MLPEncoder(5, (4,), 9, "elu"),
        "gelu": MLPEncoder(5, (6,), 3, "gelu"),
        "leaky_relu": MLPEncoder(5, (6,), 3, "leaky_relu"),
        # No closed form for this activation: forward-mode AD inside.
        "gelu-tanh": nn.Sequential(nn.Linear(5, 6), nn.GELU(approximate="tanh"), nn.Linear(6, 3)),
        "one-layer-sigmoid": nn.Sequential(nn.Linear(5, 8), nn.Sigmoid()),
        "linear": nn.Linear(5, 3),
        "activation-first": nn.Sequential(nn.Tanh(), nn.Linear(5, 4), nn.Sigmoid(), nn.Linear(4, 3)),
        "elementwise-only": nn.Sequential(nn.Tanh()),
        "skip": _SkipEncoder(),
    }


# torch warns once when it first loads its forward-mode AD decompositions.
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", list(_encoders()))
@pytest.mark.parametrize("method", ["auto", "layerwise", "func"])
def test_analytic_penalty_matches_autograd_jacobian(name, method):
    """Check that the analytic penalty is the squared Frobenius norm of
    torch.autograd.functional.jacobian of the encoder, sample by sample,
    and that its parameter gradients are those of that norm."""
    encoder = _encoders()[name].double()
    if method == "layerwise" and name == "skip":
        with pytest.raises(ValueError, match="method='layerwise' needs an encoder made of"):
            contractive_penalty(encoder, torch.zeros(2, 5, dtype=torch.float64), method)
        return
    x = torch.randn(6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    expected = _jacobian_sq_norms(encoder, x, create_graph=True)
    code, penalty = code_and_contractive_penalty(encoder, x, method)
    assert penalty.shape == (6,)
    torch.testing.assert_close(penalty, expected, rtol=1e-5, atol=0)
    torch.testing.assert_close(code, encoder(x), rtol=1e-12, atol=1e-12)

    params = list(encoder.parameters())
    if not params:
        return
    got = torch.autograd.grad(penalty.sum(), params, allow_unused=True)
    want = torch.autograd.grad(expected.sum(), params, allow_unused=True)
    for g, w, p in zip(got, want, params):
        g = torch.zeros_like(p) if g is None else g
        w = torch.zeros_like(p) if w is None else w
        torch.testing.assert_close(g, w, rtol=1e-5, atol=1e-10)


def test_analytic_penalty_works_without_grad():
    """Check that the penalty can be evaluated under torch.no_grad."""
    encoder = _encoders()["tanh-deep"].double()
    x = torch.randn(4, 5, dtype=torch.float64)
    expected = _jacobian_sq_norms(encoder, x)
    with torch.no_grad():
        torch.testing.assert_close(contractive_penalty(encoder, x), expected, rtol=1e-5, atol=0)


def test_stochastic_penalty_over_variance_approaches_analytic():
    """Check that E||h(x) - h(x + eps)||^2 / noise_level^2 approaches
    ||J_h(x)||_F^2 as the noise shrinks (first-order Taylor expansion)."""
    torch.manual_seed(0)
    encoder = MLPEncoder(5, (8,), 3, "tanh").double()
    x = 1.5 * torch.randn(4, 5, dtype=torch.float64)
    analytic = contractive_penalty(encoder, x)
    n_draws = 20000

    gaps, linear_gaps = [], []
    for level in [1.0, 0.3, 0.1, 0.01]:
        stochastic = stochastic_contractive_penalty(
            encoder, x, level, n_draws, torch.Generator().manual_seed(2)
        ).detach()
        ratio = stochastic / level**2
        gaps.append(((ratio - analytic).abs() / analytic).max().item())
        # The same draws pushed through the Jacobian: the exact
        # linearisation, free of Monte Carlo error (the penalty draws
        # eps for the (n_draws * n_samples) stacked copies of x at once).
        eps = torch.randn(
            (n_draws * len(x), 5), generator=torch.Generator().manual_seed(2), dtype=torch.float64
        ).view(n_draws, len(x), 5)
        J = torch.stack(
            [torch.autograd.functional.jacobian(lambda v: encoder(v), xi) for xi in x]
        )
        linear = torch.einsum("nkd,lnd->lnk", J, eps).pow(2).sum(-1).mean(0)
        linear_gaps.append(((ratio - linear).abs() / linear).max().item())

    # Against the exact linearisation the gap is the Taylor remainder, O(level).
    assert all(a > b for a, b in zip(linear_gaps, linear_gaps[1:])), linear_gaps
    assert linear_gaps[-1] < 1e-2
    # Against the analytic value it shrinks too, down to the Monte Carlo
    # error of 20000 draws (a few percent).
    assert gaps[0] > 3 * gaps[-1], gaps
    assert gaps[-1] < 0.05, gaps


def test_tied_decoder_shares_one_parameter_per_layer():
    """Check that each decoder weight is the encoder's Parameter itself,
    listed once by the module, with separate biases."""
    encoder = MLPEncoder(6, (5, 4), 3, "tanh")
    module = AutoEncoder(encoder, TiedDecoder(encoder, "tanh"))
    linears = [m for m in encoder.layers if isinstance(m, nn.Linear)]
    for w, lin in zip(module.decoder.weights, reversed(linears)):
        assert w is lin.weight
    params = list(module.parameters())
    # 3 encoder weights + 3 encoder biases + 3 decoder biases.
    assert len(params) == 9
    assert sum(p is linears[0].weight for p in params) == 1
    assert [b.shape[0] for b in module.decoder.biases] == [4, 5, 6]
    assert module(torch.zeros(2, 6)).shape == (2, 6)


def test_tied_weights_receive_gradients_from_both_paths():
    """Check that the gradient of a tied weight is the sum of the gradients
    of an untied copy's encoder weight and (transposed) decoder weight."""
    torch.manual_seed(0)
    encoder = MLPEncoder(6, (5,), 3, "tanh").double()
    tied = AutoEncoder(encoder, TiedDecoder(encoder, "tanh")).double()
    untied = AutoEncoder(
        MLPEncoder(6, (5,), 3, "tanh"), MLPDecoder(3, (5,), 6, "tanh")
    ).double()
    untied.encoder.load_state_dict(encoder.state_dict())
    dec_linears = [m for m in untied.decoder.layers if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for lin, w, b in zip(dec_linears, tied.decoder.weights, tied.decoder.biases):
            lin.weight.copy_(w.t())
            lin.bias.copy_(b)

    x = torch.randn(8, 6, dtype=torch.float64)
    torch.testing.assert_close(tied(x), untied(x))
    reconstruction_error(tied(x), x).mean().backward()
    reconstruction_error(untied(x), x).mean().backward()

    enc_linears = [m for m in untied.encoder.layers if isinstance(m, nn.Linear)]
    for i, lin in enumerate(m for m in encoder.layers if isinstance(m, nn.Linear)):
        from_encoder = enc_linears[i].weight.grad
        from_decoder = dec_linears[len(dec_linears) - 1 - i].weight.grad.t()
        assert from_encoder.abs().sum() > 0 and from_decoder.abs().sum() > 0
        torch.testing.assert_close(lin.weight.grad, from_encoder + from_decoder)


# ----------------------------------------------------------------------
# The estimator
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def unit_digits():
    X, _ = load_digits(return_X_y=True)
    X = X / 16.0
    perm = np.random.RandomState(0).permutation(len(X))
    return X[perm[:1000]], X[perm[1000:]]


def _mean_jacobian_norm(est, X):
    module = est.net_.module_
    with torch.no_grad():
        x = module.scaler(torch.tensor(X, dtype=torch.float32))
        return contractive_penalty(module.encoder, x).sqrt().mean().item()


def test_contractive_ae_has_smaller_jacobian_than_ae(unit_digits):
    """Check that, with the same architecture and epochs, the CAE's mean
    ||J_h(x)||_F on held-out digits is clearly smaller than the AE's.

    Measured (seeds 0-2): 1.06-1.09 for the CAE against 1.94-1.97 for the
    AE (ratio 0.54-0.56); asserted: ratio below 0.8.
    """
    X_train, X_test = unit_digits
    kw = dict(n_components=8, hidden_layer_sizes=(64,), max_epochs=20, early_stopping=False, random_state=0)
    ae = AutoEncoderTransformer(**kw).fit(X_train)
    cae = ContractiveAE(contraction=0.1, **kw).fit(X_train)
    assert _mean_jacobian_norm(cae, X_test) < 0.8 * _mean_jacobian_norm(ae, X_test)


def test_zero_contraction_untied_is_plain_autoencoder(unit_digits):
    """Check that contraction=0 without tied weights trains exactly the
    AutoEncoderTransformer of the same parameters."""
    X_train, _ = unit_digits
    kw = dict(n_components=4, hidden_layer_sizes=(16,), max_epochs=3, random_state=0)
    ae = AutoEncoderTransformer(**kw).fit(X_train[:300])
    cae = ContractiveAE(contraction=0.0, tied_weights=False, **kw).fit(X_train[:300])
    assert_allclose(cae.transform(X_train), ae.transform(X_train), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("penalty", ["analytic", "stochastic"])
def test_same_random_state_gives_identical_results(unit_digits, penalty):
    """Check that two fits with the same random_state agree exactly and a
    different seed changes the result."""
    X_train, _ = unit_digits
    X = X_train[:200]
    kw = dict(n_components=3, hidden_layer_sizes=(16,), max_epochs=3, penalty=penalty, n_noise_samples=2)
    a = ContractiveAE(random_state=0, **kw).fit(X).transform(X)
    b = ContractiveAE(random_state=0, **kw).fit(X).transform(X)
    c = ContractiveAE(random_state=1, **kw).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("tied, penalty", [(True, "analytic"), (False, "stochastic")])
def test_tied_weights_parameter_selects_decoder(unit_digits, tied, penalty, device):
    """Check that tied_weights chooses the tied or the untied decoder, and
    that over- and undercomplete codes both fit, on every device."""
    X_train, _ = unit_digits
    X = X_train[:100]
    cae = ContractiveAE(
        n_components=80, hidden_layer_sizes=(16,), tied_weights=tied, penalty=penalty,
        max_epochs=1, device=device, random_state=0,
    ).fit(X)
    decoder = cae.net_.module_.decoder
    assert isinstance(decoder, TiedDecoder if tied else MLPDecoder)
    assert cae.transform(X).shape == (100, 80)
    assert cae.inverse_transform(cae.transform(X)).shape == X.shape


def test_grid_search_over_contraction(unit_digits):
    """Check that GridSearchCV can tune contraction (scored by the mean
    reconstruction score) and refits the best."""
    X_train, _ = unit_digits
    grid = GridSearchCV(
        ContractiveAE(n_components=4, hidden_layer_sizes=(16,), max_epochs=2, random_state=0),
        {"contraction": [0.0, 0.1], "penalty": ["analytic", "stochastic"]},
        cv=2,
    ).fit(X_train[:200])
    assert grid.best_params_["contraction"] in (0.0, 0.1)
    assert grid.best_estimator_.transform(X_train[:5]).shape == (5, 4)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"contraction": -0.1}, r"'contraction' parameter of ContractiveAE must be a float in the range \[0.0, inf\)"),
        ({"noise_level": -1.0}, r"'noise_level' parameter of ContractiveAE must be a float in the range \(0.0, inf\)"),
        ({"noise_level": 0.0}, r"'noise_level' parameter of ContractiveAE must be a float in the range \(0.0, inf\)"),
        ({"n_noise_samples": 0}, r"'n_noise_samples' parameter of ContractiveAE must be an int in the range \[1, inf\)"),
        ({"penalty": "exact"}, r"'penalty' parameter of ContractiveAE must be a str among"),
        ({"tied_weights": "auto"}, r"'tied_weights' parameter of ContractiveAE must be an instance of 'bool'"),
    ],
)
def test_bad_parameters_raise(params, match):
    """Check that invalid parameters raise a ValueError naming them."""
    X = np.random.RandomState(0).rand(20, 4)
    with pytest.raises(ValueError, match=match):
        ContractiveAE(n_components=2, max_epochs=1, **params).fit(X)
