"""Fit time of AutoEncoderTransformer against a bare PyTorch loop.

The same MLP autoencoder (same widths, initial weights, epochs, batch size,
optimizer and data) is trained by skae (skorch underneath) and by a plain
loop over pre-sliced tensors, alternately, several times in one run; the
script prints the fastest fit seconds of each and the ratio skae/bare.

Usage::

    python benchmarks/speed.py ../shared/data [--epochs 20] [--repeats 3] [--threads 1]

The data folder must hold ``mnist/t10k-images-idx3-ubyte.gz``; digits comes
with scikit-learn.
"""

import argparse
import gzip
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

from skae import AutoEncoderTransformer
from skae.losses import reconstruction_error
from skae.modules.mlp import mlp_autoencoder

HIDDEN = (128, 64)
N_COMPONENTS = 8


def load_mnist(data_dir):
    path = Path(data_dir) / "mnist" / "t10k-images-idx3-ubyte.gz"
    with gzip.open(path) as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    return X.astype(np.float32) / 255.0


def fit_bare(X, epochs, batch_size, seed):
    """Plain PyTorch: the loop every tutorial writes, on standardised data."""
    Xs = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    data = torch.tensor(Xs, dtype=torch.float32)
    torch.manual_seed(seed)
    module = mlp_autoencoder(X.shape[1], HIDDEN, N_COMPONENTS, "tanh", "identity")
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    module.train()
    for _ in range(epochs):
        shuffled = data[torch.randperm(len(data), generator=gen)]
        for start in range(0, len(data), batch_size):
            xb = shuffled[start : start + batch_size]
            opt.zero_grad()
            loss = reconstruction_error(module(xb), xb, "mse").mean()
            loss.backward()
            opt.step()
    return module


def fit_skae(X, epochs, batch_size, seed):
    return AutoEncoderTransformer(
        N_COMPONENTS,
        hidden_layer_sizes=HIDDEN,
        activation="tanh",
        max_epochs=epochs,
        batch_size=batch_size,
        early_stopping=False,
        random_state=seed,
    ).fit(X)


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", default="128,32")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    datasets = {
        "digits": load_digits().data.astype(np.float32),
        "mnist": load_mnist(args.data_dir),
    }
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"epochs {args.epochs}, widths {HIDDEN} -> {N_COMPONENTS}")
    print(f"{'dataset':8} {'n':>6} {'batch':>5} {'bare s':>8} {'skae s':>8} {'ratio':>6}")
    for name, X in datasets.items():
        for batch_size in map(int, args.batch_sizes.split(",")):
            fit_bare(X[:256], 1, batch_size, 0)  # warm-up
            bare, skae = [], []
            for rep in range(args.repeats):
                bare.append(timed(fit_bare, X, args.epochs, batch_size, rep))
                skae.append(timed(fit_skae, X, args.epochs, batch_size, rep))
            # The minimum over repeats is the least disturbed by other load.
            b, s = min(bare), min(skae)
            print(f"{name:8} {len(X):>6} {batch_size:>5} {b:8.2f} {s:8.2f} {s / b:6.2f}")


if __name__ == "__main__":
    main()
