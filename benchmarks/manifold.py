"""2-D embeddings of new points: NeighborEmbeddingAE against PCA, Isomap, UMAP, openTSNE.

Usage::

    python benchmarks/manifold.py DATA_DIR [--n-transform 100000] [--datasets digits,mnist]

On scikit-learn's digits (split as the README demo: ``test_size=0.25``,
stratified, ``random_state=0``) and on MNIST (the 10,000 images of
``DATA_DIR/mnist/t10k-images-idx3-ubyte.gz``, split 8,000 / 2,000 with
``train_test_split(test_size=0.2, random_state=0)``), every method is fitted
on the training part with its default parameters (``random_state=0``) and
embeds the test part with its ``transform``, in 2-D. Printed, per method and
dataset:

* trustworthiness of the test embedding (10 neighbours), accuracy of a
  logistic regression (on standardised codes) and of a 10-nearest-neighbours
  classifier, both trained on the training codes and scored on the test
  codes;
* fit seconds, and seconds to transform 100,000 new points (the test set
  tiled; ``--n-transform``);
* the machine's 1-minute load average when the row was measured;
* for the methods that invert (PCA, UMAP's ``inverse_transform``, the
  autoencoders), the held-out reconstruction error from the 2-D test codes:
  mean squared error per feature, in the data's units (pixels 0-16 for
  digits, 0-255 for MNIST).

``--time-transforms`` only times the transforms of NeighborEmbeddingAE,
UMAP and openTSNE, back to back (for a machine whose load changed during
the main run).

Everything runs in one process with one thread (torch, numba, BLAS, openTSNE
``n_jobs=1``), side by side, so that the ratios compare like with like.
Targets (issue 15), NeighborEmbeddingAE with default parameters:
trustworthiness and 10-NN accuracy at least UMAP's on both datasets and
above on at least one; reconstruction error below UMAP's inverse; transform
of 100,000 points at least 10x faster than UMAP's and openTSNE's.
The full table goes to ``benchmarks/results/manifold.txt``.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.manifold import Isomap, trustworthiness  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skae import AutoEncoderTransformer, NeighborEmbeddingAE  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "manifold.txt"


def load_data(name, data_dir):
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    data_dir = Path(data_dir)
    for path in (data_dir / "mnist", data_dir):
        images = path / "t10k-images-idx3-ubyte.gz"
        if images.exists():
            X = np.frombuffer(gzip.open(images).read(), np.uint8, offset=16)
            y = np.frombuffer(
                gzip.open(path / "t10k-labels-idx1-ubyte.gz").read(), np.uint8, offset=8
            )
            X = X.reshape(-1, 784).astype(np.float32)
            return train_test_split(X, y.astype(int), test_size=0.2, random_state=0)
    raise SystemExit(f"no t10k-images-idx3-ubyte.gz under {data_dir} or {data_dir / 'mnist'}")


class _OpenTSNE:
    """openTSNE's TSNE with the fit / transform of a scikit-learn transformer."""

    def fit(self, X):
        from openTSNE import TSNE

        self.embedding_ = TSNE(n_jobs=1, random_state=0).fit(X)
        return self

    def transform(self, X):
        return np.asarray(self.embedding_.transform(X))


def methods():
    from umap import UMAP

    return {
        "NeighborEmbeddingAE": NeighborEmbeddingAE(random_state=0),
        "UMAP": UMAP(n_components=2, random_state=0),
        "openTSNE": _OpenTSNE(),
        "AutoEncoderTransformer": AutoEncoderTransformer(random_state=0),
        "PCA": PCA(n_components=2),
        "Isomap": Isomap(n_components=2),
    }


def evaluate(model, X_train, X_test, y_train, y_test, n_transform):
    start = time.perf_counter()
    model.fit(X_train)
    fit_s = time.perf_counter() - start
    Z_train, Z_test = model.transform(X_train), model.transform(X_test)
    row = {
        "trust": trustworthiness(X_test, Z_test, n_neighbors=10),
        "logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        .fit(Z_train, y_train)
        .score(Z_test, y_test),
        "knn": KNeighborsClassifier(n_neighbors=10).fit(Z_train, y_train).score(Z_test, y_test),
        "fit_s": fit_s,
    }
    if hasattr(model, "inverse_transform"):
        X_rec = model.inverse_transform(Z_test)
        row["rec"] = float(np.mean((np.asarray(X_rec, dtype=np.float64) - X_test) ** 2))
    X_big = np.tile(X_test, (int(np.ceil(n_transform / len(X_test))), 1))[:n_transform]
    start = time.perf_counter()
    model.transform(X_big)
    row["transform_s"] = time.perf_counter() - start
    # The machine's 1-minute load average as the row ends: seconds measured
    # under different loads are not comparable side by side.
    row["load"] = os.getloadavg()[0]
    return row


def time_transforms(data, X_train, X_test, n_transform, emit):
    """Seconds to transform ``n_transform`` points, for NeighborEmbeddingAE,
    UMAP and openTSNE timed back to back (NeighborEmbeddingAE before and
    after the others), so that a change of the machine's load during the
    main run does not skew their ratios. The autoencoder is trained for one
    epoch only: its transform, one forward pass of the same network, costs
    the same after any training."""
    models = methods()
    models["NeighborEmbeddingAE"].set_params(max_epochs=1)
    names = ["NeighborEmbeddingAE", "UMAP", "openTSNE"]
    for name in names:
        models[name].fit(X_train)
    X_big = np.tile(X_test, (int(np.ceil(n_transform / len(X_test))), 1))[:n_transform]
    emit(f"\n{data}: transform of {n_transform:,} points, back to back")
    seconds = {}
    for name in names + ["NeighborEmbeddingAE"]:
        start = time.perf_counter()
        models[name].transform(X_big)
        elapsed = time.perf_counter() - start
        seconds.setdefault(name, []).append(elapsed)
        emit(f"{name:27} {elapsed:9.2f} s  load {os.getloadavg()[0]:5.1f}")
    ours = max(seconds["NeighborEmbeddingAE"])
    for other in ("UMAP", "openTSNE"):
        ratio = seconds[other][0] / ours
        emit(f"  {data} transform speed-up over {other} (slower of the two "
             f"NeighborEmbeddingAE timings): {ratio:.1f}x {'MET' if ratio >= 10 else 'MISSED'}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--n-transform", type=int, default=100_000)
    parser.add_argument("--datasets", default="digits,mnist")
    parser.add_argument("--methods", default=None, help="comma-separated subset")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument(
        "--time-transforms", action="store_true",
        help="only time the transforms of NeighborEmbeddingAE, UMAP and openTSNE back to back",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)

    lines = []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def emit(text=""):
        print(text, flush=True)
        lines.append(text)

    emit(f"torch {torch.__version__}, one thread; transform of {args.n_transform:,} points")
    results = {}
    for data in args.datasets.split(","):
        X_train, X_test, y_train, y_test = load_data(data, args.data_dir)
        if args.time_transforms:
            time_transforms(data, X_train, X_test, args.n_transform, emit)
            out.write_text("\n".join(lines) + "\n")
            continue
        emit(f"\n{data}: {X_train.shape[0]} train / {X_test.shape[0]} test, "
             f"{X_train.shape[1]} features")
        emit(f"{'method':27} {'trust':>6} {'logreg':>6} {'10-NN':>6} {'fit s':>7} "
             f"{'transform s':>11} {'rec MSE':>9} {'load':>5}")
        for name, model in methods().items():
            if args.methods and name not in args.methods.split(","):
                continue
            row = evaluate(model, X_train, X_test, y_train, y_test, args.n_transform)
            results[data, name] = row
            rec = f"{row['rec']:9.3f}" if "rec" in row else f"{'n/a':>9}"
            emit(f"{name:27} {row['trust']:6.3f} {row['logreg']:6.3f} {row['knn']:6.3f} "
                 f"{row['fit_s']:7.1f} {row['transform_s']:11.2f} {rec} {row['load']:5.1f}")
            # Written as it goes: a run stopped early keeps its rows.
            out.write_text("\n".join(lines) + "\n")

    if results:
        emit("\nTargets, NeighborEmbeddingAE (defaults) against UMAP (defaults):")
    ours, umap = "NeighborEmbeddingAE", "UMAP"
    beaten = []
    for data in args.datasets.split(","):
        if (data, ours) not in results or (data, umap) not in results:
            continue
        mine, ref = results[data, ours], results[data, umap]
        for key, label in (("trust", "trustworthiness"), ("knn", "10-NN accuracy")):
            ok = mine[key] >= ref[key]
            beaten.append(mine[key] > ref[key])
            emit(f"  {data} {label}: {mine[key]:.3f} vs {ref[key]:.3f} "
                 f"{'MET' if ok else 'MISSED'}")
        ok = mine["rec"] < ref["rec"]
        emit(f"  {data} reconstruction MSE: {mine['rec']:.3f} vs {ref['rec']:.3f} "
             f"{'MET' if ok else 'MISSED'}")
        for other in ("UMAP", "openTSNE"):
            if (data, other) in results:
                ratio = results[data, other]["transform_s"] / mine["transform_s"]
                emit(f"  {data} transform speed-up over {other}: {ratio:.1f}x "
                     f"{'MET' if ratio >= 10 else 'MISSED'} (target 10x)")
    if beaten:
        emit(f"  beats UMAP on at least one figure: {'MET' if any(beaten) else 'MISSED'}")
    out.write_text("\n".join(lines) + "\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
