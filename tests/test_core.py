"""The training core: fit, partial_fit and warm_start through one _fit; the
net as skorch's own (no reference to the estimator, skorch callbacks and
partial_fit work); a second network with its own optimizer; atomic fits."""

import copy
import os
import re
import pickle
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback, Checkpoint, GradientNormClipping, LRScheduler
from skorch.dataset import unpack_data
from torch import nn

from skae import MLP, AutoEncoderTransformer, ContractiveAE, DenoisingAE, VAETransformer
from skae._net import _AENet
from skae.architectures import Architecture

FAST = dict(n_components=2, hidden_layer_sizes=(16,), max_epochs=3, random_state=0)
ESTIMATORS = [
    AutoEncoderTransformer(**FAST),
    DenoisingAE(**FAST, n_noise_samples=2),
    ContractiveAE(**FAST),
    ContractiveAE(**FAST, penalty="stochastic"),
    VAETransformer(**FAST, n_importance_samples=5),
]
IDS = ["ae", "dae", "cae", "cae-stochastic", "vae"]


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


# ----------------------------------------------------------------------
# The net is skorch's: it holds no estimator and trains on its own
# ----------------------------------------------------------------------
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_net_pickles_alone_and_continues_training_with_skorch(estimator, blobs):
    """Check that net_ holds no reference to the estimator (it pickles on
    its own, without the estimator's class) and that skorch's own
    partial_fit trains it further on raw data."""
    est = clone(estimator).fit(blobs)
    payload = pickle.dumps(est.net_)
    assert type(est).__module__.encode() not in payload
    net = pickle.loads(payload)
    before = _params(net.module_)
    net.partial_fit(blobs.astype(np.float32))
    assert len(net.history) == 2 * est.n_epochs_
    assert np.isfinite(net.history[-1, "train_loss"])
    assert any(not torch.equal(a, b) for a, b in zip(before, net.module_.parameters()))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_partial_fit_initialises_then_adds_one_epoch_per_call(estimator, blobs):
    """Check sklearn's partial_fit convention: the first call initialises,
    each call is one epoch over the chunk, with no validation split."""
    est = clone(estimator)
    est.partial_fit(blobs[:60])
    assert est.n_epochs_ == 1
    first = _params(est.net_.module_)
    est.partial_fit(blobs[60:])
    assert est.n_epochs_ == 2
    assert "valid_loss" not in est.history_[-1]
    assert any(not torch.equal(a, b) for a, b in zip(first, est.net_.module_.parameters()))
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(blobs[:, :5])


def test_partial_fit_after_fit_continues_from_the_fitted_model(blobs):
    ae = AutoEncoderTransformer(**FAST).fit(blobs)
    n = ae.n_epochs_
    loss = ae.history_[-1, "train_loss"]
    ae.partial_fit(blobs)
    assert ae.n_epochs_ == n + 1
    assert ae.history_[-1, "train_loss"] < 1.5 * loss


def test_partial_fit_over_chunks_approaches_fit(blobs):
    """Check that epochs of partial_fit over chunks reach the reconstruction
    error of fit with as many epochs."""
    kw = dict(n_components=2, hidden_layer_sizes=(16,), batch_size=16, random_state=0)
    full = AutoEncoderTransformer(max_epochs=30, early_stopping=False, **kw).fit(blobs)
    inc = AutoEncoderTransformer(**kw)
    for _ in range(30):
        for chunk in np.array_split(blobs, 3):
            inc.partial_fit(chunk)
    def error(est):
        return est.feature_errors(blobs).mean()

    assert error(inc) < 1.1 * error(full)


def test_warm_start_starts_from_the_previous_weights(blobs):
    kw = dict(FAST, max_epochs=2, early_stopping=False)
    cold = AutoEncoderTransformer(**kw).fit(blobs)
    again = AutoEncoderTransformer(**kw).fit(blobs)
    warm = AutoEncoderTransformer(**kw, warm_start=True).fit(blobs)
    first = warm.history_[0, "train_loss"]
    warm.fit(blobs)
    assert warm.n_epochs_ == 2  # a new run, a new history
    assert warm.history_[0, "train_loss"] < first
    assert again.history_[0, "train_loss"] == cold.history_[0, "train_loss"]


# ----------------------------------------------------------------------
# skorch callbacks
# ----------------------------------------------------------------------
def test_lr_scheduler_steps_every_batch(blobs):
    sched = LRScheduler(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5,
                        step_every="batch")
    ae = AutoEncoderTransformer(**{**FAST, "max_epochs": 1}, batch_size=32, early_stopping=False,
                                callbacks=[sched]).fit(blobs)
    n_batches = int(np.ceil(len(blobs) / 32))
    assert ae.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5**n_batches)


def test_checkpoint_saves_the_model(blobs, tmp_path):
    ae = AutoEncoderTransformer(**FAST, callbacks=[Checkpoint(dirname=str(tmp_path))]).fit(blobs)
    assert (tmp_path / "params.pt").exists()
    state = torch.load(tmp_path / "params.pt")
    assert set(state) == set(ae.net_.module_.state_dict())


def test_gradient_norm_clipping_bounds_each_step(blobs):
    """Check that GradientNormClipping acts: with SGD at lr=1 and the norm
    clipped to 1e-6, the weights move at most steps x 1e-6."""
    kw = dict(FAST, max_epochs=1, early_stopping=False, optimizer="sgd", lr=1.0, batch_size=40)
    clipped = AutoEncoderTransformer(
        **kw, callbacks=[GradientNormClipping(gradient_clip_value=1e-6)]
    ).fit(blobs)
    free = AutoEncoderTransformer(**kw).fit(blobs)
    init = AutoEncoderTransformer(**{**kw, "max_epochs": 1, "lr": 1e-30}).fit(blobs)

    def moved(est):
        return sum(
            (a - b).pow(2).sum() for a, b in zip(est.net_.module_.parameters(),
                                                   init.net_.module_.parameters())
        ).sqrt().item()

    assert moved(clipped) <= 3 * 1e-6 * 1.0001
    assert moved(free) > 1e-2


# ----------------------------------------------------------------------
# A second network with its own optimizer (what the adversarial AE needs)
# ----------------------------------------------------------------------
class _CriticNet(_AENet):
    """An autoencoder step, then a step of a critic on the (detached) codes
    with its own optimizer: the skorch way of adding a module and an
    optimizer."""

    def initialize_module(self):
        super().initialize_module()
        n_components = self.module_.encoder.layers[-1].out_features
        self.critic_ = nn.Linear(n_components, 1)
        return self

    def initialize_optimizer(self, *args, **kwargs):
        super().initialize_optimizer(*args, **kwargs)
        groups, kw = self.get_params_for_optimizer("critic_optimizer", self.critic_.named_parameters())
        self.critic_optimizer_ = torch.optim.SGD(*groups, **{**kw, "lr": 0.2})
        return self

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        self.optimizer_.zero_grad()
        terms = self.infer(Xi)
        loss = self.get_loss(terms, yi, X=Xi, training=True)
        loss.backward()
        self.optimizer_.step()
        with torch.no_grad():
            code = self.module_.encode(Xi)
        self.critic_optimizer_.zero_grad()
        critic_loss = (self.critic_(code) - 1.0).pow(2).mean()
        critic_loss.backward()
        self.critic_optimizer_.step()
        self.history.record_batch("critic_loss", critic_loss.item())
        return {"loss": loss, "y_pred": terms}

    def on_epoch_end(self, net, **kwargs):
        # The critic's last loss of the epoch, kept in the per-epoch history.
        super().on_epoch_end(net, **kwargs)
        self.history.record("critic_loss", self.history[-1, "batches", -1, "critic_loss"])


class _CriticAE(AutoEncoderTransformer):
    def _net_class(self):
        return _CriticNet


def test_a_net_class_hook_trains_a_second_module_with_its_own_optimizer(blobs):
    est = _CriticAE(**{**FAST, "max_epochs": 20}, early_stopping=False).fit(blobs)
    net = est.net_
    assert "critic" in net._modules and "critic_optimizer" in net._optimizers
    assert not net.critic_.training  # evaluation mode after fit, as every module
    critic = net.history[:, "critic_loss"]
    assert critic[-1] < 0.25 * critic[0]
    # It pickles and continues training, both optimizers stepping.
    clone_ = pickle.loads(pickle.dumps(est))
    before = _params(clone_.net_.critic_)
    clone_.partial_fit(blobs)
    assert any(not torch.equal(a, b) for a, b in zip(before, clone_.net_.critic_.parameters()))


# ----------------------------------------------------------------------
# The architecture parameter
# ----------------------------------------------------------------------
class _Linear(Architecture):
    def __init__(self, bias=True):
        self.bias = bias

    def encoder(self, n_features, n_outputs):
        return nn.Linear(n_features, n_outputs, bias=self.bias)

    def decoder(self, n_components, n_features):
        return nn.Linear(n_components, n_features, bias=self.bias)


def test_default_architecture_is_the_mlp_of_the_estimator_parameters(blobs):
    a = AutoEncoderTransformer(**FAST, activation="relu").fit(blobs)
    b = AutoEncoderTransformer(**FAST, architecture=MLP((16,), "relu")).fit(blobs)
    c = AutoEncoderTransformer(**FAST, activation="relu", architecture=MLP()).fit(blobs)
    np.testing.assert_array_equal(a.transform(blobs), b.transform(blobs))
    np.testing.assert_array_equal(a.transform(blobs), c.transform(blobs))


@pytest.mark.parametrize("estimator", [AutoEncoderTransformer(**FAST), DenoisingAE(**FAST),
                                       ContractiveAE(**FAST, tied_weights=False),
                                       VAETransformer(**FAST, n_importance_samples=5)],
                         ids=["ae", "dae", "cae", "vae"])
def test_user_architecture_builds_every_estimator(estimator, blobs):
    est = clone(estimator).set_params(architecture=_Linear()).fit(blobs)
    assert est.transform(blobs).shape == (120, 2)
    assert np.all(np.isfinite(est.score_samples(blobs)))
    linears = [m for m in est.net_.module_.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 2


def test_tied_weights_need_an_architecture_that_ties(blobs):
    with pytest.raises(TypeError, match="_Linear has no tied decoder.*tied_weights=False"):
        ContractiveAE(**FAST, architecture=_Linear()).fit(blobs)


def test_grid_search_reaches_architecture_parameters(blobs):
    search = GridSearchCV(
        AutoEncoderTransformer(**FAST, architecture=MLP()),
        {"architecture__hidden_layer_sizes": [(4,), (16, 8)]}, cv=2,
    ).fit(blobs)
    assert search.best_estimator_.architecture.hidden_layer_sizes in [(4,), (16, 8)]
    assert AutoEncoderTransformer(architecture=MLP((4,))).architecture.hidden_layer_sizes == (4,)


def test_bad_mlp_parameters_name_the_estimator(blobs):
    with pytest.raises(ValueError, match="AutoEncoderTransformer: hidden_layer_sizes must be"):
        AutoEncoderTransformer(**FAST, architecture=MLP((True,))).fit(blobs)
    with pytest.raises(ValueError, match="AutoEncoderTransformer: activation must be one of"):
        AutoEncoderTransformer(**FAST, architecture=MLP(activation="swish")).fit(blobs)


# ----------------------------------------------------------------------
# Data path
# ----------------------------------------------------------------------
def test_streamed_and_on_device_data_train_alike(blobs):
    a = AutoEncoderTransformer(**FAST, stream_data=True).fit(blobs)
    b = AutoEncoderTransformer(**FAST, stream_data=False).fit(blobs)
    np.testing.assert_allclose(a.transform(blobs), b.transform(blobs), rtol=1e-3, atol=1e-4)


def test_read_only_memmap_trains_without_a_copy_warning(blobs, tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, blobs.astype(np.float32))
    X = np.load(path, mmap_mode="r")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for stream in (True, False):
            AutoEncoderTransformer(**FAST, stream_data=stream).fit(X)


def test_fitted_model_holds_no_training_rows(blobs):
    """Check that a pickled estimator does not grow with the training set
    (no validation split, no data kept in the net)."""
    rng = np.random.default_rng(0)
    small = rng.normal(size=(200, 10))
    large = rng.normal(size=(4000, 10))
    kw = dict(FAST, max_epochs=1)
    size_small = len(pickle.dumps(AutoEncoderTransformer(**kw).fit(small)))
    size_large = len(pickle.dumps(AutoEncoderTransformer(**kw).fit(large)))
    assert abs(size_large - size_small) < 0.05 * size_small


# ----------------------------------------------------------------------
# Atomic fits and Ctrl-C
# ----------------------------------------------------------------------
class _RaiseAt(Callback):
    def __init__(self, epoch, exc=RuntimeError):
        self.epoch = epoch
        self.exc = exc

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise self.exc("stop")


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_failed_refit_leaves_the_estimator_as_it_was(blobs, exc):
    """Check that a fit, or a partial_fit, that raises (Ctrl-C included)
    leaves every attribute of the fitted estimator as it was."""
    # Raises at the 4th epoch: after the 3 epochs of the first fit.
    ae = AutoEncoderTransformer(**FAST, callbacks=[_RaiseAt(4, exc)]).fit(blobs)
    state = dict(ae.__dict__)
    codes = ae.transform(blobs)
    with pytest.raises(exc):
        ae.partial_fit(blobs)
    assert ae.__dict__.keys() == state.keys()
    assert all(ae.__dict__[k] is state[k] for k in state)
    np.testing.assert_array_equal(ae.transform(blobs), codes)
    ae.set_params(callbacks=[_RaiseAt(2, exc)])
    with pytest.raises(exc):
        ae.fit(blobs * 3)
    assert all(ae.__dict__[k] is state[k] for k in state if k != "callbacks")
    np.testing.assert_array_equal(ae.transform(blobs), codes)


def test_failed_first_fit_leaves_the_estimator_unfitted(blobs):
    ae = AutoEncoderTransformer(**FAST, callbacks=[_RaiseAt(1)])
    with pytest.raises(RuntimeError):
        ae.fit(blobs)
    with pytest.raises(NotFittedError):
        ae.transform(blobs)
    assert not hasattr(ae, "n_features_in_")


def test_sigint_during_fit_reaches_the_caller():
    """Check, with a real SIGINT, that Ctrl-C during training interrupts the
    caller instead of returning a half-trained model."""
    script = textwrap.dedent(
        """
        import os, signal
        import numpy as np
        from skorch.callbacks import Callback
        from skae import AutoEncoderTransformer

        # Python's own Ctrl-C handler, as in a terminal: a process started
        # in the background by a non-interactive shell inherits SIGINT ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)

        class SigintAtEpoch2(Callback):
            def on_epoch_end(self, net, **kwargs):
                if len(net.history) == 2:
                    os.kill(os.getpid(), signal.SIGINT)

        X = np.random.default_rng(0).normal(size=(100, 5))
        ae = AutoEncoderTransformer(max_epochs=50, callbacks=[SigintAtEpoch2()])
        try:
            ae.fit(X)
        except KeyboardInterrupt:
            print("interrupted", hasattr(ae, "net_"))
        else:
            print("returned", ae.n_epochs_)

        # One Ctrl-C stops a whole search, not only the fit it lands in.
        from sklearn.model_selection import GridSearchCV
        search = GridSearchCV(ae, {"n_components": [1, 2, 3]}, cv=2)
        try:
            search.fit(X)
        except KeyboardInterrupt:
            print("search interrupted", hasattr(search, "cv_results_"))
        else:
            print("search ran on")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.stdout.split("\n")[:2] == ["interrupted False", "search interrupted False"], (
        out.stdout + out.stderr)


# ----------------------------------------------------------------------
# Prediction
# ----------------------------------------------------------------------
def test_prediction_takes_reversed_and_read_only_arrays(blobs):
    """Check that negative strides and read-only arrays (memmaps, pandas
    copy-on-write output) are predicted on as any array, without warnings."""
    import warnings

    ae = AutoEncoderTransformer(**FAST).fit(blobs)
    vae = VAETransformer(**FAST, likelihood="bernoulli", n_importance_samples=5).fit(
        (blobs > 0).astype(float)
    )
    frozen = blobs.copy()
    frozen.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Z = ae.transform(blobs)
        np.testing.assert_array_equal(ae.inverse_transform(Z[::-1]), ae.inverse_transform(Z)[::-1])
        np.testing.assert_array_equal(ae.score_samples(frozen), ae.score_samples(blobs))
        binary = (blobs > 0).astype(float)
        np.testing.assert_allclose(vae.score_samples(binary[::-1]), vae.score_samples(binary)[::-1])


def test_float64_prediction_copies_the_model_once(blobs):
    """Check that float64 input is evaluated by one float64 copy of the model,
    made at the first call and reused (not deep-copied at every call)."""
    ae = AutoEncoderTransformer(**FAST).fit(blobs)
    ae.transform(blobs)
    model = ae._predict_cache["float64"]
    assert next(model.parameters()).dtype == torch.float64
    ae.score_samples(blobs)
    assert ae._predict_cache["float64"] is model
    assert "float64" not in pickle.loads(pickle.dumps(ae))._predict_cache


def test_unit_range_allows_round_off_and_is_checked_at_prediction():
    """Check that MinMaxScaler's 1.0000000000000002 is accepted for
    cross-entropy, and that data out of [0, 1] are refused at transform and
    score_samples as at fit."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import MinMaxScaler

    X = MinMaxScaler().fit_transform(load_breast_cancer().data)
    ae = AutoEncoderTransformer(**FAST, loss="bce").fit(X)
    for method in (ae.transform, ae.score_samples, ae.feature_errors):
        with pytest.raises(ValueError, match="loss='bce' needs data in \\[0, 1\\]"):
            method(X * 100)


def test_history_keeps_no_batch_records_after_training(blobs):
    """Check that per-batch history does not pile up over epochs (nor over
    partial_fit calls), while every epoch's figures stay."""
    ae = AutoEncoderTransformer(**{**FAST, "max_epochs": 4}, batch_size=16,
                                early_stopping=False).fit(blobs)
    ae.partial_fit(blobs)
    assert [len(row["batches"]) for row in ae.history_] == [0, 0, 0, 0, 0]
    assert all(np.isfinite(ae.history_[:, "train_loss"]))


# ----------------------------------------------------------------------
# Divergence, bad statistics, logs
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Est", [AutoEncoderTransformer, VAETransformer])
def test_exploding_loss_raises_naming_epoch_and_learning_rate(Est, digits_split):
    """Check that Adam at lr=1e3 stops with an error that names the epoch and
    the learning rate (it returned losses of 1e7 to 1e35 silently before)."""
    X = digits_split[0]
    with pytest.raises(ValueError, match=r"training diverged.*at epoch 1.*lr=1000"):
        Est(2, max_epochs=20, lr=1e3, random_state=0).fit(X)


def test_flat_absurd_loss_warns_about_scaling(digits_split):
    """Check that unstandardised data in units of 1e6, on which the loss stays
    at ~6e13, warns that nothing was learned and points at standardize."""
    from sklearn.exceptions import ConvergenceWarning

    X = digits_split[0] * 1e6
    with pytest.warns(ConvergenceWarning, match="did not decrease.*standardize=False"):
        AutoEncoderTransformer(2, max_epochs=5, standardize=False, random_state=0).fit(X)


def test_noise_callable_returning_nan_is_blamed_not_the_learning_rate(blobs):
    def bad(batch, generator):
        return batch * float("nan")

    with pytest.raises(ValueError, match="noise callable returned NaN"):
        DenoisingAE(**FAST, noise=bad).fit(blobs)


def test_huge_finite_values_give_an_error_not_infinite_scale(blobs):
    X = blobs.copy()
    X[0, 0] = 1e200  # its square overflows float64
    with pytest.raises(ValueError, match="mean or standard deviation of X is not finite"):
        AutoEncoderTransformer(**FAST).fit(X)
    X32 = blobs.astype(np.float32)
    X32[0, 0] = 3e38  # X32.std() overflows in float32; float64 statistics do not
    ae = AutoEncoderTransformer(**FAST).fit(X32)
    assert np.all(np.isfinite(ae.scale_)) and np.all(np.isfinite(ae.transform(X32)))


def test_verbose_log_is_plain_text_in_a_file_and_names_the_stopping_epoch(blobs, capsys):
    AutoEncoderTransformer(**{**FAST, "max_epochs": 500}, lr=1e-2, n_iter_no_change=3,
                           verbose=1).fit(blobs)
    out = capsys.readouterr().out
    assert "\x1b[" not in out  # captured stdout is not a terminal
    assert "train_loss" in out
    assert re.search(r"early stopping at epoch \d+.*weights of epoch \d+ are kept", out)


def test_sample_refuses_bad_arguments_clearly(blobs):
    vae = VAETransformer(**FAST, n_importance_samples=5).fit(blobs)
    with pytest.raises(ValueError, match="n_samples must be a positive int, got True"):
        vae.sample(True)
    with pytest.raises(ValueError, match="sample: random_state must be None, an int"):
        vae.sample(2, random_state=-1)


def test_grid_search_over_default_detector_estimator_params_says_what_to_do():
    from skae import AEOutlierDetector

    with pytest.raises(ValueError, match="cannot set 'estimator__n_components' while estimator=None"):
        AEOutlierDetector().set_params(estimator__n_components=2)
    det = AEOutlierDetector(AutoEncoderTransformer()).set_params(estimator__n_components=3)
    assert det.estimator.n_components == 3


# ----------------------------------------------------------------------
# Training control
# ----------------------------------------------------------------------
def test_validation_loss_without_early_stopping_serves_skorch_callbacks(blobs, tmp_path):
    """Check that validation_fraction alone records valid_loss, so that
    ReduceLROnPlateau on it and a default Checkpoint work without early
    stopping."""
    plateau = LRScheduler(torch.optim.lr_scheduler.ReduceLROnPlateau, monitor="valid_loss",
                          patience=0, factor=0.5)
    ae = AutoEncoderTransformer(
        **{**FAST, "max_epochs": 6}, early_stopping=False, validation_fraction=0.2,
        callbacks=[plateau, Checkpoint(dirname=str(tmp_path))],
    ).fit(blobs)
    assert ae.n_epochs_ == 6 and all(np.isfinite(ae.history_[:, "valid_loss"]))
    assert (tmp_path / "params.pt").exists()
    assert "valid_loss" not in AutoEncoderTransformer(**FAST, early_stopping=False).fit(
        blobs).history_[-1]


def test_too_few_samples_for_a_split_warn(blobs):
    with pytest.warns(UserWarning, match="too few for a validation split"):
        ae = AutoEncoderTransformer(**FAST).fit(blobs[:5])
    assert "valid_loss" not in ae.history_[-1]


def test_optimizer_params_reach_the_optimizer(blobs):
    ae = AutoEncoderTransformer(**FAST, optimizer="sgd", optimizer_params={"momentum": 0.9,
                                "nesterov": True}).fit(blobs)
    group = ae.net_.optimizer_.param_groups[0]
    assert group["momentum"] == 0.9 and group["nesterov"]


def test_device_auto_picks_an_available_device(blobs):
    from skae.utils.validation import check_device

    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert check_device("auto").type == expected
    ae = AutoEncoderTransformer(**FAST, device="auto").fit(blobs)
    assert ae.device == "auto"  # stored as given
    assert next(ae.net_.module_.parameters()).device.type == expected


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device to fit on")
def test_model_fitted_on_cuda_predicts_on_a_machine_without_it(blobs, tmp_path):
    """Check that a model fitted on CUDA unpickles and predicts where CUDA is
    not available (a subprocess with no visible GPU)."""
    ae = AutoEncoderTransformer(**FAST, device="cuda").fit(blobs)
    path = tmp_path / "ae.pkl"
    path.write_bytes(pickle.dumps(ae))
    np.save(tmp_path / "X.npy", blobs)
    script = textwrap.dedent(
        f"""
        import pickle, warnings, numpy as np, torch
        assert not torch.cuda.is_available()
        warnings.simplefilter("ignore")
        ae = pickle.loads(open({str(path)!r}, "rb").read())
        np.save({str(tmp_path / 'Z.npy')!r}, ae.transform(np.load({str(tmp_path / 'X.npy')!r})))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert out.returncode == 0, out.stderr
    np.testing.assert_allclose(np.load(tmp_path / "Z.npy"), ae.transform(blobs), rtol=1e-4, atol=1e-5)


def test_detector_on_unit_data_refuses_out_of_range_rows_at_prediction():
    """Check that a detector on [0, 1] data (scaling=None, cross-entropy)
    refuses rows of +-100 at score_samples, instead of scoring (and
    labelling) them."""
    from skae import AEOutlierDetector

    X = np.random.default_rng(0).random((100, 6))
    det = AEOutlierDetector(AutoEncoderTransformer(**FAST, loss="bce"), scaling=None).fit(X)
    for method in (det.score_samples, det.predict):
        with pytest.raises(ValueError, match="loss='bce' needs data in \\[0, 1\\]"):
            method(np.full((2, 6), 100.0))


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"callbacks": [object()]}, TypeError, r"callbacks\[0\] must be a skorch Callback"),
        ({"callbacks": (Checkpoint(),)}, ValueError, "'callbacks' parameter.*must be"),
        ({"callbacks": [("early_stopping", Checkpoint())]}, ValueError,
         "'early_stopping' is reserved"),
        ({"optimizer": int}, TypeError, "optimizer must be one of.*Optimizer subclass"),
        ({"architecture": MLP((True,))}, ValueError, "hidden_layer_sizes must be a tuple"),
        ({"optimizer_params": [1]}, ValueError, "'optimizer_params' parameter"),
    ],
)
def test_bad_parameters_fail_early_and_clearly(blobs, params, error, match):
    """Check that parameters that used to pass validation and then crash
    inside torch or skorch now fail with a clear error, before training."""
    with pytest.raises(error, match=match):
        AutoEncoderTransformer(**FAST, **params).fit(blobs)


def test_inverse_transform_errors_name_the_estimator(blobs):
    ae = AutoEncoderTransformer(**FAST).fit(blobs)
    with pytest.raises(ValueError, match="AutoEncoderTransformer.inverse_transform: X has 3"):
        ae.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN.*AutoEncoderTransformer|AutoEncoderTransformer.*NaN"):
        ae.inverse_transform(np.full((2, 2), np.nan))


def test_failed_detector_refit_leaves_it_as_it_was(blobs):
    from skae import AEOutlierDetector

    det = AEOutlierDetector(AutoEncoderTransformer(**FAST, callbacks=[_RaiseAt(2)])
                            .set_params(max_epochs=1)).fit(blobs)
    state = dict(det.__dict__)
    det.estimator.set_params(max_epochs=3)
    with pytest.raises(RuntimeError):
        det.fit(blobs * 2)
    assert all(det.__dict__[k] is state[k] for k in state)


def test_prediction_memory_is_one_batch_plus_the_output():
    """Check with tracemalloc (which sees NumPy's allocations) that transform
    and the detector's score_samples and feature_errors allocate the output
    and about one batch, not copies of the whole input (the detector scaled
    it whole, and outputs were concatenated from a list)."""
    import tracemalloc

    from skae import AEOutlierDetector

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 10))  # 16 MB
    kw = dict(n_components=2, hidden_layer_sizes=(8,), max_epochs=1, random_state=0)
    ae = AutoEncoderTransformer(**kw).fit(X[:1000])
    det = AEOutlierDetector(AutoEncoderTransformer(**kw), random_state=0).fit(X[:1000])
    for method, out_bytes in [(ae.transform, 200_000 * 2 * 8), (det.score_samples, 200_000 * 8),
                              (det.feature_errors, 200_000 * 10 * 8)]:
        method(X[:100])
        tracemalloc.start()
        method(X)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < out_bytes + 4 * 2**20, (method.__name__, peak)


def test_fits_in_concurrent_threads_match_fits_one_after_another():
    """Check that fits running at the same time in several threads (a search
    under a threaded joblib or Dask backend) give each the model of its own
    random_state: the weight initialisation's use of torch's global
    generator is not interleaved between them."""
    X = np.random.default_rng(0).normal(size=(200, 6))

    def fit(seed):
        return AutoEncoderTransformer(n_components=2, max_epochs=2,
                                      random_state=seed).fit(X).transform(X)

    alone = [fit(seed) for seed in range(6)]
    together = [None] * 6

    def run(seed):
        together[seed] = fit(seed)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for a, b in zip(alone, together):
        np.testing.assert_array_equal(a, b)


def test_float64_copy_computes_gelu_through_erf_with_the_same_values():
    """Check that the float64 copy of any estimator's network (not only
    NeighborEmbeddingAE's) replaces exact nn.GELUs by the erf form, whose
    codes match torch's own float64 GELU network to round-off, while the
    trained network keeps its nn.GELU."""
    X = np.random.default_rng(0).normal(size=(50, 6))
    ae = AutoEncoderTransformer(n_components=2, hidden_layer_sizes=(8,), activation="gelu",
                                max_epochs=2, random_state=0).fit(X)
    reference = copy.deepcopy(ae.net_.module_).double().eval()
    with torch.no_grad():
        expected = reference.encode(torch.as_tensor(X)).numpy()
    codes = ae.transform(X)
    np.testing.assert_allclose(codes, expected, rtol=0, atol=1e-12)
    assert any(type(m) is torch.nn.GELU for m in ae.net_.module_.modules())
    assert not any(type(m) is torch.nn.GELU for m in ae._predict_cache["float64"].modules())
