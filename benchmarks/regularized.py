"""Cost and effect of the regularised autoencoders: DenoisingAE, ContractiveAE.

On digits (1797 x 64) and MNIST (the 10000 test images, 784 pixels), pixels
scaled to [0, 1], every model has the same architecture (encoder 128-64, code
``--components``), trains for a fixed number of epochs without early stopping,
squared error, no standardisation (so that masking blanks pixels to 0). The
DAEs mask 40 % of the pixels; the CAEs use ``contraction=1e-3`` (analytic)
and ``1e-3 / noise_level**2`` (stochastic, ``noise_level=0.1``). Each fit
time is the fastest of ``--repeats`` fits.
Printed, per dataset:

* fit seconds of each model and their ratio to AutoEncoderTransformer's fit
  time measured in the same run: DenoisingAE with L = 1 and L = 4 noise
  samples, ContractiveAE with the analytic penalty computed both ways (the
  layerwise closed form used by default, and torch.func ``vmap(jacrev)``)
  and with the stochastic penalty;
* held-out errors: mean squared error of rebuilding *masked* test images
  (40 % of pixels set to 0) against their clean originals ("denoise"), and
  of rebuilding clean test images ("clean");
* mean ||J_h(x)||_F of the encoder on the test images.

Then, on MNIST, the cost of the analytic penalty as the code widens: the
ratio of a ContractiveAE epoch to an AutoEncoderTransformer epoch for
several ``n_components``, both ways. The penalty's exact cost grows with the
code width (the Jacobian has ``n_components`` rows per sample).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/regularized.py /path/to/data \\
        [--epochs 5] [--digits-epochs 30] [--components 10] [--widths 2,10,32] \\
        [--n-train 5000] [--repeats 2]

``/path/to/data`` holds ``mnist/t10k-images-idx3-ubyte.gz``. Timings on a
shared machine are noisy: compare ratios, not seconds, and rerun when a
figure looks odd.
"""

import argparse
import gzip
import sys
import time
from pathlib import Path

import numpy as np

try:
    import skae  # noqa: F401
except ImportError:  # run from a source checkout without installing skae
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from sklearn.datasets import load_digits

from skae import AutoEncoderTransformer, ContractiveAE, DenoisingAE
from skae.losses import contractive_penalty
from skae.noise import masking_noise

MASK_LEVEL = 0.4
# Pixels in [0, 1] unstandardised: a weight of the penalty under which the
# code does not collapse (0.1, the default for standardised data, flattens
# it on MNIST; measured 1e-2, 1e-3, 1e-4).
CONTRACTION = 1e-3
NOISE_LEVEL = 0.1


class _FuncContractiveAE(ContractiveAE):
    """ContractiveAE whose analytic penalty uses torch.func vmap(jacrev)."""

    _jacobian_method = "func"


def load(name, data_dir, n_train, seed=0):
    if name == "digits":
        X = load_digits().data / 16.0
    else:
        path = Path(data_dir) / "mnist" / "t10k-images-idx3-ubyte.gz"
        X = np.frombuffer(gzip.open(path).read(), np.uint8, offset=16)
        X = X.reshape(-1, 784).astype(np.float32) / 255.0
    perm = np.random.RandomState(seed).permutation(len(X))
    n_train = min(n_train, int(0.8 * len(X)))
    return X[perm[:n_train]], X[perm[n_train:]]


def architecture(n_components, epochs):
    """Parameters shared by every timed model."""
    return dict(
        n_components=n_components,
        hidden_layer_sizes=(128, 64),
        max_epochs=epochs,
        early_stopping=False,
        standardize=False,
        random_state=0,
    )


def models(n_components, epochs):
    common = architecture(n_components, epochs)
    dae = dict(noise="masking", noise_level=MASK_LEVEL)
    return {
        "AE": AutoEncoderTransformer(**common),
        "DAE L=1": DenoisingAE(n_noise_samples=1, **dae, **common),
        "DAE L=4": DenoisingAE(n_noise_samples=4, **dae, **common),
        "CAE analytic (layerwise)": ContractiveAE(contraction=CONTRACTION, **common),
        "CAE analytic (torch.func)": _FuncContractiveAE(contraction=CONTRACTION, **common),
        # The stochastic penalty is about noise_level**2 times the analytic.
        "CAE stochastic L=1": ContractiveAE(
            penalty="stochastic",
            noise_level=NOISE_LEVEL,
            contraction=CONTRACTION / NOISE_LEVEL**2,
            **common,
        ),
    }


def warm_up(X):
    """One short fit of each kind, so that no timed fit pays first-call costs."""
    for est in models(2, 1).values():
        est.fit(X[:256])


def timed_fit(est, X, repeats=1):
    """Fit ``est``; the fastest of ``repeats`` fits, in seconds (the
    machine's other load only ever slows a fit down)."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        est.fit(X)
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def mean_jacobian_norm(est, X):
    module = est.net_.module_
    with torch.no_grad():
        x = module.scaler(torch.as_tensor(X, dtype=torch.float32))
        return contractive_penalty(module.encoder, x).sqrt().mean().item()


def rebuild_error(est, X_in, X_target):
    return float(np.mean((est.inverse_transform(est.transform(X_in)) - X_target) ** 2))


def compare(name, data_dir, args):
    X_train, X_test = load(name, data_dir, args.n_train)
    epochs = args.digits_epochs if name == "digits" else args.epochs
    X_masked = masking_noise(
        torch.as_tensor(X_test), MASK_LEVEL, torch.Generator().manual_seed(1)
    ).numpy()
    print(
        f"\n== {name}: {len(X_train)} train x {X_train.shape[1]} features, "
        f"{len(X_test)} test; encoder (128, 64) -> {args.components}, "
        f"{epochs} epochs, fastest of {args.repeats} fits =="
    )
    print(f"{'model':<27}{'fit s':>8}{'x AE':>7}{'denoise':>10}{'clean':>9}{'mean|J|':>9}")
    warm_up(X_train)
    t_ae = None
    for label, est in models(args.components, epochs).items():
        seconds = timed_fit(est, X_train, args.repeats)
        t_ae = seconds if t_ae is None else t_ae
        print(
            f"{label:<27}{seconds:8.2f}{seconds / t_ae:7.2f}"
            f"{rebuild_error(est, X_masked, X_test):10.4f}"
            f"{rebuild_error(est, X_test, X_test):9.4f}"
            f"{mean_jacobian_norm(est, X_test):9.3f}",
            flush=True,
        )


def penalty_scaling(data_dir, args):
    X_train, _ = load("mnist", data_dir, args.n_train)
    epochs = max(1, args.epochs // 2)
    print(
        f"\n== MNIST: analytic penalty cost by code width ({len(X_train)} train, "
        f"encoder (128, 64), {epochs} epochs, fastest of {args.repeats} fits): "
        "CAE fit time / AE fit time =="
    )
    print(f"{'n_components':>12}{'AE s':>8}{'layerwise':>11}{'torch.func':>12}")
    for width in args.widths:
        common = architecture(width, epochs)
        warm_up(X_train)
        t_ae = timed_fit(AutoEncoderTransformer(**common), X_train, args.repeats)
        t_layer = timed_fit(ContractiveAE(**common), X_train, args.repeats)
        t_func = timed_fit(_FuncContractiveAE(**common), X_train, args.repeats)
        print(f"{width:12d}{t_ae:8.2f}{t_layer / t_ae:11.2f}{t_func / t_ae:12.2f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--epochs", type=int, default=5, help="MNIST epochs")
    parser.add_argument("--digits-epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2, help="timed fits per model")
    parser.add_argument("--components", type=int, default=10)
    parser.add_argument("--n-train", type=int, default=5000)
    parser.add_argument(
        "--widths", type=lambda s: [int(v) for v in s.split(",")], default=[2, 10, 32]
    )
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    for name in ("digits", "mnist"):
        compare(name, args.data_dir, args)
    penalty_scaling(args.data_dir, args)


if __name__ == "__main__":
    main()
