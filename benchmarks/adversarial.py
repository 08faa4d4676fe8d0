"""AdversarialAE and AdversarialClustering on MNIST: prior matching, samples,
clustering and cost, side by side with their baselines.

Usage::

    python benchmarks/adversarial.py DATA_DIR [--seeds 0,1,2] [--epochs 50]
        [--cluster-epochs 100] [--parts prior,samples,clustering,cost] [--out FILE]
    python benchmarks/adversarial.py DATA_DIR --merge LOG [LOG ...] --out FILE

The second form rebuilds the tables from the printed output of several
runs (say one per seed, each in its own process).

``DATA_DIR`` holds ``mnist/t10k-{images-idx3,labels-idx1}-ubyte.gz`` (or is
that ``mnist`` folder). The 10,000 images (grey levels in [0, 1]) are split
8,000 / 2,000, stratified (``random_state=0``). Every network is the same
MLP, 784-256-128-code with ReLU and a cross-entropy (Bernoulli) decoder,
trained with Adam (lr 1e-3) on batches of 128; the discriminators are
code-64-64-1. One torch thread.

* prior: a classifier two-sample test (an MLP, 64 hidden units, trained on
  half of 2,000 test-set codes and 2,000 prior draws, accuracy on the other
  half; 0.50 is a perfect match) for AdversarialAE, AutoEncoderTransformer
  and VAETransformer codes, against N(0, I) in 8-D and against the 10-mode
  mixture in 2-D. Target: AdversarialAE at most 0.60.
* samples: the Frechet distance between 2,000 generated images and the
  2,000 test images in the hidden layer (256 units) of a reference MLP
  classifier trained on the training images, for AdversarialAE and
  VAETransformer (8-D codes). Target: AdversarialAE's at most the VAE's.
* clustering: accuracy on the 8,000 training images with 16 clusters (each
  cluster given its majority label) and with 10 (Hungarian matching), and
  the adjusted Rand index, for AdversarialClustering (its defaults, which
  cluster the codes of a neighbour embedding; on the pixels as before that
  embedding, ``embedding=None``; and on the pixels with the paper's terms
  only: ``neighbor_weight=0, balance_weight=0``), a GaussianMixture on the
  default model's own embedding, KMeans and GaussianMixture on PCA-50
  codes, KMeans on AutoEncoderTransformer codes (10-D), and spectral
  clustering of the pixels' neighbour graph (with that graph's purity).
  Targets: >= 0.85 (16) and >= 0.75 (10), mean over seeds.
* cost: seconds per epoch of AutoEncoderTransformer, AdversarialAE (their
  skorch nets' epochs) and pythae's Adversarial_AE (its own
  AdversarialTrainer epoch loop) on the same networks and batches, one
  epoch of each in turn after a warm-up round; ratios are medians of the
  per-round ratios, so that the machine's load hits the models alike.
  Targets: AdversarialAE at most 1.5x the autoencoder, and at most pythae's.

Prints each table and writes them all to ``benchmarks/results/adversarial.txt``.
"""

import argparse
import gzip
import io
import re
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import torch
from scipy import linalg
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.neural_network import MLPClassifier

from skae import AdversarialAE, AdversarialClustering, AutoEncoderTransformer, VAETransformer
from skae._data import ArrayDataset
from skae.priors import GaussianMixture as MixturePrior
from skae.priors import Gaussian as GaussianPrior

HIDDEN, BATCH, LR = (256, 128), 128, 1e-3
RESULTS = Path(__file__).resolve().parent / "results" / "adversarial.txt"
#: AdversarialClustering without the neighbour and balance terms, and its
#: cluster code's adversary kept whole to the end.
PAPER_ONLY = "AdversarialClustering, paper terms"
#: AdversarialClustering as it was before its neighbour embedding: on the
#: pixels (cross-entropy).
PIXELS = "AdversarialClustering, pixels (old)"
#: A Gaussian mixture on the default model's own neighbour embedding: what
#: the adversarial clustering adds on top of the embedding.
EMBEDDING_GMM = "GaussianMixture on its embedding"
#: Spectral clustering of the neighbour graph that AdversarialClustering's
#: neighbour term reads: what that graph alone gives.
SPECTRAL = "Spectral on its neighbour graph"


def load_mnist(data_dir):
    data_dir = Path(data_dir)
    for path in (data_dir / "mnist", data_dir):
        images = path / "t10k-images-idx3-ubyte.gz"
        labels = path / "t10k-labels-idx1-ubyte.gz"
        if images.exists() and labels.exists():
            X = np.frombuffer(gzip.open(images).read(), np.uint8, offset=16).reshape(-1, 784)
            y = np.frombuffer(gzip.open(labels).read(), np.uint8, offset=8)
            return (X / 255.0).astype(np.float32), y.astype(np.int64)
    raise SystemExit(f"no MNIST t10k files under {data_dir} or {data_dir / 'mnist'}")


def common(epochs, seed):
    return dict(hidden_layer_sizes=HIDDEN, activation="relu", batch_size=BATCH, lr=LR,
                max_epochs=epochs, early_stopping=False, random_state=seed)


_FITTED = {}


def fitted(make, X, *key):
    """``make().fit(X)``, kept: the prior part's 8-D models are also the
    samples part's."""
    if key not in _FITTED:
        _FITTED[key] = make().fit(X)
    return _FITTED[key]


def aae(n_components, prior, epochs, seed, **kw):
    return AdversarialAE(n_components, loss="bce", prior=prior, **common(epochs, seed), **kw)


def ae(n_components, epochs, seed):
    return AutoEncoderTransformer(n_components, loss="bce", **common(epochs, seed))


def vae(n_components, epochs, seed):
    return VAETransformer(n_components, likelihood="bernoulli", n_importance_samples=1,
                          **common(epochs, seed))


# ----------------------------------------------------------------------
# Measures
# ----------------------------------------------------------------------
def two_sample_accuracy(codes, draws, seed):
    """Held-out accuracy of an MLP telling ``codes`` from ``draws``."""
    X = np.vstack([codes, draws]).astype(np.float64)
    y = np.r_[np.zeros(len(codes)), np.ones(len(draws))]
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.5, stratify=y, random_state=seed)
    clf = MLPClassifier((64,), max_iter=500, early_stopping=True, random_state=seed)
    return clf.fit(Xa, ya).score(Xb, yb)


def frechet_distance(a, b):
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def reference_features(clf, X):
    """The reference classifier's hidden layer (ReLU) for images ``X``."""
    return np.maximum(X @ clf.coefs_[0] + clf.intercepts_[0], 0)


def majority_accuracy(y, labels):
    return sum(np.bincount(y[labels == c]).max() for c in np.unique(labels)) / len(y)


def hungarian_accuracy(y, labels):
    k = max(labels.max() + 1, y.max() + 1)
    counts = np.zeros((k, k))
    np.add.at(counts, (labels, y), 1)
    rows, cols = linear_sum_assignment(-counts)
    return counts[rows, cols].sum() / len(y)


# ----------------------------------------------------------------------
# Parts
# ----------------------------------------------------------------------
def part_prior(X_train, X_test, seeds, epochs, out):
    rows = {}
    for seed in seeds:
        for label, d, prior, prior_obj in [
            ("N(0,I) 8-D", 8, "gaussian", GaussianPrior(8)),
            ("mixture 2-D", 2, "mixture", MixturePrior(2, 10)),
        ]:
            draws = prior_obj.sample(len(X_test), torch.Generator().manual_seed(100 + seed)).numpy()
            for name, make in [("AdversarialAE", lambda: aae(d, prior, epochs, seed)),
                               ("AutoEncoderTransformer", lambda: ae(d, epochs, seed)),
                               ("VAETransformer", lambda: vae(d, epochs, seed))]:
                est = fitted(make, X_train, name, d, prior, seed)
                codes = est.transform(X_test)
                acc = two_sample_accuracy(codes, draws, seed)
                rows.setdefault((label, name), []).append(acc)
                print(f"  prior seed {seed} {label} {name}: {acc:.3f}", flush=True)
    render_prior(rows, out)
    return rows


def render_prior(rows, out):
    out.append("Prior matching: classifier two-sample test accuracy (0.50 = perfect match; "
               "target AdversarialAE <= 0.60)")
    out.append(f"{'prior':<14}{'codes of':<24}{'mean':>7}{'std':>7}  per seed")
    for (label, name), accs in rows.items():
        out.append(f"{label:<14}{name:<24}{np.mean(accs):>7.3f}{np.std(accs):>7.3f}  "
                   + " ".join(f"{a:.3f}" for a in accs))


def part_samples(X_train, y_train, X_test, y_test, seeds, epochs, out):
    clf = MLPClassifier((256,), max_iter=30, random_state=0).fit(X_train, y_train)
    accuracy = clf.score(X_test, y_test)
    real = reference_features(clf, X_test)
    rows = {}
    for seed in seeds:
        for name, make in [("AdversarialAE", lambda: aae(8, "gaussian", epochs, seed)),
                           ("VAETransformer", lambda: vae(8, epochs, seed))]:
            est = fitted(make, X_train, name, 8, "gaussian", seed)
            generated = est.sample(len(X_test), random_state=seed)
            fd = frechet_distance(reference_features(clf, generated), real)
            rows.setdefault(name, []).append(fd)
            print(f"  samples seed {seed} {name}: FD {fd:.2f}", flush=True)
    render_samples(rows, accuracy, out)
    return rows


def render_samples(rows, accuracy, out):
    out.append(f"Samples: Frechet distance to the test images in the features of a reference "
               f"MLP (test accuracy {accuracy:.4f}); 8-D codes; target AdversarialAE <= VAE")
    out.append(f"{'model':<24}{'mean':>9}{'std':>8}  per seed")
    for name, fds in rows.items():
        out.append(f"{name:<24}{np.mean(fds):>9.2f}{np.std(fds):>8.2f}  "
                   + " ".join(f"{v:.2f}" for v in fds))


def part_clustering(X_train, y_train, seeds, epochs, ae_epochs, out, cluster_kw):
    rows = {}
    pca = None
    # The neighbour graph of AdversarialClustering on the pixels (bce: no
    # standardisation, neighbours in pixel space): its purity (share of
    # each image's neighbours with its label) bounds what the neighbour
    # term can teach, and its spectral clustering is the graph's own
    # partition.
    n_neighbors = AdversarialClustering().n_neighbors
    index = NearestNeighbors(n_neighbors=n_neighbors).fit(X_train).kneighbors(
        return_distance=False)
    purity = float((y_train[index] == y_train[:, None]).mean())
    print(f"  clustering neighbour graph purity ({n_neighbors} neighbours, pixels): "
          f"{purity:.3f}", flush=True)
    for seed in seeds:
        pca = PCA(50, random_state=seed).fit_transform(X_train)
        codes = ae(10, ae_epochs, seed).fit_transform(X_train)
        for k in (16, 10):
            score = hungarian_accuracy if k == 10 else majority_accuracy
            results, fit_s = {}, {}
            for name, make in [
                ("AdversarialClustering", lambda: AdversarialClustering(
                    k, max_epochs=epochs, random_state=seed, **cluster_kw)),
                (PIXELS, lambda: AdversarialClustering(
                    k, loss="bce", embedding=None, **{**common(epochs, seed), **cluster_kw})),
                (PAPER_ONLY, lambda: AdversarialClustering(
                    k, loss="bce", embedding=None, neighbor_weight=0.0, balance_weight=0.0,
                    balance_anneal_start=1.0, **{**common(epochs, seed), **cluster_kw})),
            ]:
                t = time.perf_counter()
                model = make()
                results[name] = model.fit_predict(X_train)
                fit_s[name] = time.perf_counter() - t
                if name == "AdversarialClustering":
                    embedded = model.embedding_.transform(X_train)
            results[EMBEDDING_GMM] = GaussianMixture(
                k, random_state=seed).fit(embedded).predict(embedded)
            results["KMeans on PCA-50"] = KMeans(k, n_init=10, random_state=seed).fit_predict(pca)
            results["GaussianMixture on PCA-50"] = GaussianMixture(
                k, random_state=seed).fit(pca).predict(pca)
            results["KMeans on AE codes (10-D)"] = KMeans(
                k, n_init=10, random_state=seed).fit_predict(codes)
            results[SPECTRAL] = SpectralClustering(
                k, affinity="nearest_neighbors", n_neighbors=n_neighbors,
                assign_labels="cluster_qr", random_state=seed).fit_predict(X_train)
            for name, lab in results.items():
                acc, ari = score(y_train, lab), adjusted_rand_score(y_train, lab)
                rows.setdefault((k, name), []).append((acc, ari))
                print(f"  clustering seed {seed} k={k} {name}: acc {acc:.3f} ARI {ari:.3f}"
                      + (f" ({fit_s[name]:.0f} s)" if name in fit_s else ""), flush=True)
    render_clustering(rows, out)
    out.append(f"neighbour graph ({n_neighbors} nearest neighbours in pixel space): purity "
               f"{purity:.3f}")
    return rows


def render_clustering(rows, out):
    out.append("Clustering of the 8,000 training images (16 clusters: majority label; 10: "
               "Hungarian); targets AdversarialClustering >= 0.85 (16), >= 0.75 (10)")
    out.append(f"{'k':>3}  {'method':<34}{'accuracy':>9}{'std':>7}{'ARI':>7}{'std':>7}  "
               "accuracy per seed")
    for (k, name), vals in rows.items():
        accs, aris = np.array(vals).T
        out.append(f"{k:>3}  {name:<34}{accs.mean():>9.3f}{accs.std():>7.3f}"
                   f"{aris.mean():>7.3f}{aris.std():>7.3f}  " + " ".join(f"{a:.3f}" for a in accs))


def _pythae_trainer(X, epochs, seed, out_dir):
    from pythae.data.datasets import BaseDataset
    from pythae.models import Adversarial_AE, Adversarial_AE_Config
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseDiscriminator, BaseEncoder
    from pythae.trainers import AdversarialTrainer, AdversarialTrainerConfig
    from torch import nn

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(784, HIDDEN[0]), nn.ReLU(),
                                        nn.Linear(HIDDEN[0], HIDDEN[1]), nn.ReLU(),
                                        nn.Linear(HIDDEN[1], 8))

        def forward(self, x):
            z = self.layers(x.reshape(len(x), -1))
            return ModelOutput(embedding=z, log_covariance=torch.zeros_like(z))

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(8, HIDDEN[1]), nn.ReLU(),
                                        nn.Linear(HIDDEN[1], HIDDEN[0]), nn.ReLU(),
                                        nn.Linear(HIDDEN[0], 784), nn.Sigmoid())

        def forward(self, z):
            return ModelOutput(reconstruction=self.layers(z))

    class Disc(BaseDiscriminator):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64),
                                        nn.ReLU(), nn.Linear(64, 1), nn.Sigmoid())

        def forward(self, z):
            return ModelOutput(embedding=self.layers(z))

    torch.manual_seed(seed)
    config = Adversarial_AE_Config(input_dim=(784,), latent_dim=8, reconstruction_loss="bce",
                                   deterministic_posterior=True)
    model = Adversarial_AE(config, encoder=Encoder(), decoder=Decoder(), discriminator=Disc())
    training = AdversarialTrainerConfig(
        output_dir=out_dir, per_device_train_batch_size=BATCH, num_epochs=epochs,
        autoencoder_learning_rate=LR, discriminator_learning_rate=LR, no_cuda=True,
    )
    with redirect_stdout(io.StringIO()):
        data = BaseDataset(torch.from_numpy(X), torch.zeros(len(X)))
        trainer = AdversarialTrainer(model, data, training_config=training)
        # What trainer.train() sets up before its epoch loop (seeds, optimizers,
        # callbacks); the loop's epochs are then timed one by one.
        trainer.prepare_training()
    return trainer


def part_cost(X_train, epochs, out):
    """Seconds per epoch, the models' epochs interleaved (one epoch of each
    in turn, ``epochs`` rounds after a warm-up round) so that a change of
    the machine's load hits them alike; each ratio is the median of the
    per-round ratios."""
    try:
        import pythae  # noqa: F401
        have_pythae = True
    except ImportError:
        have_pythae = False
    data = ArrayDataset(torch.from_numpy(X_train))
    steps = {}
    for name, make in [("AutoEncoderTransformer", lambda: ae(8, 1, 0)),
                       ("AdversarialAE", lambda: aae(8, "gaussian", 1, 0))]:
        net = make().fit(X_train[:1024]).net_  # initialised and warmed up
        steps[name] = lambda net=net: net.partial_fit(data, epochs=1)
    tmp = tempfile.TemporaryDirectory()
    if have_pythae:
        with redirect_stderr(io.StringIO()):  # its progress bars
            trainer = _pythae_trainer(X_train, epochs + 1, 0, tmp.name)

        def pythae_epoch(count=[0]):
            count[0] += 1
            with redirect_stderr(io.StringIO()):
                trainer.train_step(count[0])

        steps["pythae Adversarial_AE"] = pythae_epoch
    times = {name: [] for name in steps}
    for round_ in range(epochs + 1):
        for name, step in steps.items():
            t = time.perf_counter()
            step()
            if round_:  # the first round warms up
                times[name].append(time.perf_counter() - t)
    tmp.cleanup()
    times = {name: np.array(t) for name, t in times.items()}

    def ratio(a, b):
        return float(np.median(times[a] / times[b]))

    out.append(f"Cost: seconds per epoch on the 8,000 training images (median over {epochs} "
               "epochs, one epoch of each model in turn; one torch thread)")
    base = "AutoEncoderTransformer"
    for name, t in times.items():
        out.append(f"{name:<26}{np.median(t):>8.3f} s   {ratio(name, base):>5.2f}x the "
                   "autoencoder")
    if "pythae Adversarial_AE" in times:
        out.append("AdversarialAE / pythae Adversarial_AE: "
                   f"{ratio('AdversarialAE', 'pythae Adversarial_AE'):.2f} (target <= 1.00)")
    else:
        out.append("pythae not installed (pip install skae[benchmarks]): its row is missing")
    out.append(f"AdversarialAE / AutoEncoderTransformer: {ratio('AdversarialAE', base):.2f} "
               "(target <= 1.50)")
    return times


def merge(logs, out):
    """The tables of the runs whose printed output is in ``logs`` (e.g. one
    run per seed, each in its own process), rebuilt from their per-seed
    lines."""
    prior, samples, clustering, accuracy = {}, {}, {}, None
    out += [Path(logs[0]).read_text().splitlines()[0].split(", seeds")[0] + " (each run)", ""]
    for log in logs:
        for line in Path(log).read_text().splitlines():
            if m := re.match(r"  prior seed (\d+) (.+?) (AdversarialAE|AutoEncoderTransformer|"
                             r"VAETransformer): ([\d.]+)$", line):
                prior.setdefault((m[2], m[3]), {})[int(m[1])] = float(m[4])
            elif m := re.match(r"  samples seed (\d+) (\S+): FD ([\d.]+)$", line):
                samples.setdefault(m[2], {})[int(m[1])] = float(m[3])
            elif m := re.match(r"  clustering seed (\d+) k=(\d+) (.+?): acc ([\d.]+) ARI "
                               r"([-\d.]+)", line):
                clustering.setdefault((int(m[2]), m[3]), {})[int(m[1])] = (
                    float(m[4]), float(m[5]))
            elif m := re.search(r"reference MLP \(test accuracy ([\d.]+)\)", line):
                accuracy = float(m[1])

    def by_seed(rows):
        return {key: [v for _, v in sorted(vals.items())] for key, vals in rows.items()}

    for rows, render in [(prior, render_prior), (clustering, render_clustering)]:
        if rows:
            render(by_seed(rows), out)
            out.append("")
    if samples:
        render_samples(by_seed(samples), accuracy, out)
        out.append("")
    seeds = sorted({s for rows in (prior, samples, clustering) for v in rows.values() for s in v})
    out.append(f"seeds {seeds}, merged from " + ", ".join(str(log) for log in logs))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=50,
                        help="epochs of the AdversarialAE, AE and VAE fits")
    parser.add_argument("--cluster-epochs", type=int, default=100)
    parser.add_argument("--cost-epochs", type=int, default=5)
    parser.add_argument("--parts", default="cost,prior,samples,clustering")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--merge", nargs="+", metavar="LOG",
                        help="rebuild the tables from the printed output of runs (one per "
                             "seed, say) instead of running")
    args = parser.parse_args(argv)
    if args.merge:
        out = []
        merge(args.merge, out)
        print("\n".join(out))
        Path(args.out).write_text("\n".join(out) + "\n")
        return
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    parts = args.parts.split(",")

    X, y = load_mnist(args.data_dir)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    header = (f"MNIST {len(X_train)} train / {len(X_test)} test (stratified), MLP 784-"
              f"{HIDDEN[0]}-{HIDDEN[1]}-code, batch {BATCH}, Adam lr {LR}, seeds {seeds}, "
              f"{args.epochs} epochs"
              + (f" ({args.cluster_epochs} for clustering)" if "clustering" in parts else "")
              + ", "
              f"torch threads {torch.get_num_threads()}")
    out = [header, ""]
    print(header, flush=True)
    start = time.perf_counter()
    for part in parts:
        t = time.perf_counter()
        block = []
        if part == "cost":
            part_cost(X_train, args.cost_epochs, block)
        elif part == "prior":
            part_prior(X_train, X_test, seeds, args.epochs, block)
        elif part == "samples":
            part_samples(X_train, y_train, X_test, y_test, seeds, args.epochs, block)
        elif part == "clustering":
            part_clustering(X_train, y_train, seeds, args.cluster_epochs, args.epochs, block, {})
        else:
            raise SystemExit(f"unknown part {part!r}")
        block.append(f"({part}: {time.perf_counter() - t:.0f} s)")
        print("\n".join(block), "\n", flush=True)
        out += block + [""]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        commit = ""
    out.append(f"commit {commit or 'unknown'}; AdversarialClustering: its defaults (max_epochs "
               "--cluster-epochs, random_state the seed); the pixels rows: loss='bce', "
               "embedding=None, the networks, batch and lr of the other models")
    out.append(f"total {time.perf_counter() - start:.0f} s; command: python "
               + " ".join(["benchmarks/adversarial.py", *(argv or sys.argv[1:])]))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
