"""AutoEncoderClassifier with few labels, against scikit-learn's baselines.

Usage::

    python benchmarks/semi_supervised.py DATA_DIR [--draws 5] [--labels 100 1000]
        [--methods ...] [--n-jobs 1] [--no-digits] [--no-mnist]
        [--out benchmarks/results/semi_supervised.txt]
    python benchmarks/semi_supervised.py --summarize LOG [LOG ...] [--out ...]

The second form rebuilds the tables and targets from the per-fit lines
that runs printed (e.g. one run per label count, in parallel).

``DATA_DIR`` holds ``mnist/t10k-{images-idx3,labels-idx1}-ubyte.gz`` (or is
that ``mnist`` folder itself). The 10,000 MNIST images (pixels scaled to
[0, 1]) are split 8,000 / 2,000, stratified (``random_state=0``). For each
label count (100 and 1,000, equal per class) and each of ``--draws`` label
draws, the other training rows get ``y = -1``, and every method is fitted
side by side in one run, with one torch thread per fit (``--n-jobs``
fits at a time, in separate processes):

* ``AutoEncoderClassifier`` with default parameters and ``pretraining``
  ``"stacked"``, ``"joint"`` (the default) and None (the same network from
  random weights);
* the same, ``"joint"`` and None, fine-tuned on the labelled rows only
  (``reconstruction_weight=0``, ``pseudo_labels=False``,
  ``consistency_weight=0``): the lecture's comparison, where the unlabelled
  rows train the autoencoder and nothing else;
* ``LogisticRegression`` and ``MLPClassifier`` on the labelled rows;
* ``SelfTrainingClassifier(LogisticRegression())`` and
  ``LabelSpreading(kernel="knn")`` on all training rows, both on PCA-50
  codes fitted on all training rows.

The digits data (1,797 images, pixels / 16, split 1,347 / 450 stratified)
get the same table with 50 labels. The script prints, for each data set,
label count and method, the mean and standard deviation of the test
accuracy over the draws and the mean fit time (wall and CPU seconds), then the targets of issue
17: pretraining beats random initialisation by 8 points or more at 100
labels; AutoEncoderClassifier (default ``pretraining``) beats every
baseline at both label counts; a fit takes at most 2 minutes.
"""

import argparse
import gzip
import re
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

from skae import AutoEncoderClassifier

LABELS_ONLY = dict(reconstruction_weight=0.0, pseudo_labels=False, consistency_weight=0.0)
AE_METHODS = {
    "AE stacked": dict(pretraining="stacked"),
    "AE joint": dict(pretraining="joint"),
    "AE none": dict(pretraining=None),
    # The lecture's comparison: the unlabelled rows train the autoencoder
    # and nothing else; fine-tuning sees the labelled rows only.
    "AE joint, labels only": dict(pretraining="joint", **LABELS_ONLY),
    "AE none, labels only": dict(pretraining=None, **LABELS_ONLY),
}
BASELINES = ["LogisticRegression", "MLPClassifier", "SelfTraining", "LabelSpreading"]
DEFAULT = "AE joint"  # AutoEncoderClassifier's default pretraining


def load_mnist(data_dir):
    data_dir = Path(data_dir)
    for path in (data_dir / "mnist", data_dir):
        images = path / "t10k-images-idx3-ubyte.gz"
        labels = path / "t10k-labels-idx1-ubyte.gz"
        if images.exists() and labels.exists():
            X = np.frombuffer(gzip.open(images).read(), np.uint8, offset=16).reshape(-1, 784)
            y = np.frombuffer(gzip.open(labels).read(), np.uint8, offset=8)
            return X.astype(np.float32) / 255, y.astype(np.int64)
    raise SystemExit(f"no MNIST t10k files under {data_dir} or {data_dir / 'mnist'}")


def draw_labels(y, n_labels, seed):
    """``y`` with all but ``n_labels`` rows (equal per class) set to -1."""
    rng = np.random.RandomState(seed)
    classes = np.unique(y)
    y_few = np.full_like(y, -1)
    for c in classes:
        rows = rng.choice(np.flatnonzero(y == c), n_labels // len(classes), replace=False)
        y_few[rows] = c
    return y_few


def make(method, seed, pca):
    if method in AE_METHODS:
        return AutoEncoderClassifier(random_state=seed, **AE_METHODS[method])
    if method == "LogisticRegression":
        return LogisticRegression(max_iter=1000)
    if method == "MLPClassifier":
        return MLPClassifier(max_iter=1000, random_state=seed)
    if method == "SelfTraining":
        return make_pipeline(pca, SelfTrainingClassifier(LogisticRegression(max_iter=1000)))
    if method == "LabelSpreading":
        return make_pipeline(pca, LabelSpreading(kernel="knn"))
    raise ValueError(method)


def evaluate(method, X_train, y_few, X_test, y_test, seed, pca, tag):
    torch.set_num_threads(1)  # also in joblib's worker processes
    model = make(method, seed, pca)
    labelled = y_few != -1
    supervised_only = method in ("LogisticRegression", "MLPClassifier")
    start, cpu_start = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if supervised_only:
            model.fit(X_train[labelled], y_few[labelled])
        else:
            model.fit(X_train, y_few)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    accuracy = float(np.mean(model.predict(X_test) == y_test))
    print(f"{tag} {method:22s} accuracy={accuracy:.4f} fit={seconds:.1f}s cpu={cpu:.1f}s",
          flush=True)
    return accuracy, seconds, cpu


def run(name, X, y, test_size, label_counts, methods, draws, lines, n_jobs):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=0
    )
    # The baselines' PCA-50 is fitted on all training rows (no labels used);
    # inside a pipeline it is refitted on exactly those rows at each fit.
    pca = PCA(50, random_state=0)
    tasks = [(n_labels, draw, method) for n_labels in label_counts for draw in range(draws)
             for method in methods]
    outcomes = Parallel(n_jobs=n_jobs)(
        delayed(evaluate)(method, X_train, draw_labels(y_train, n_labels, draw), X_test,
                          y_test, draw, pca, f"{name} labels={n_labels} draw={draw}")
        for n_labels, draw, method in tasks
    )
    results = {}
    for (n_labels, draw, method), outcome in zip(tasks, outcomes):
        results.setdefault((n_labels, method), []).append(outcome)
    table(f"{name}: {len(X_train)} train / {len(X_test)} test, {draws} label draws",
          results, lines)
    return results


def table(header, results, lines):
    lines += ["", header, "-" * len(header),
              f"{'labels':>6}  {'method':22s} {'accuracy mean':>13} {'std':>6} "
              f"{'fit wall s':>10} {'fit CPU s':>9}"]
    for (n_labels, method), values in results.items():
        accs, secs, cpus = np.array(values).T
        lines.append(f"{n_labels:>6}  {method:22s} {accs.mean():>13.4f} {accs.std():>6.4f} "
                     f"{secs.mean():>10.1f} {cpus.mean():>9.1f}")


_LINE = re.compile(r"^(\w+) labels=(\d+) draw=(\d+) (.+?)\s+accuracy=([\d.]+) "
                   r"fit=([\d.]+)s cpu=([\d.]+)s$")


def summarize(logs, lines):
    """The tables and targets of the per-fit lines that runs printed
    (several runs may share the work, e.g. one per label count)."""
    found = {}
    for log in logs:
        for line in Path(log).read_text().splitlines():
            match = _LINE.match(line.strip())
            if match:
                name, n_labels, draw, method, *values = match.groups()
                found[name, int(n_labels), int(draw), method] = tuple(map(float, values))
    for name in dict.fromkeys(k[0] for k in found):
        results = {}
        for (data, n_labels, draw, method), values in sorted(
            found.items(), key=lambda kv: (kv[0][1], kv[0][2])
        ):
            if data == name:
                results.setdefault((n_labels, method), []).append(values)
        draws = sorted({len(v) for v in results.values()})
        table(f"{name}: label draws per method {'/'.join(map(str, draws))}", results, lines)
        targets(results, sorted({n for n, _ in results}), lines, name)


def targets(results, label_counts, lines, name):
    lines += ["", f"Targets ({name}, default AutoEncoderClassifier = '{DEFAULT}')"]
    mean = {k: np.mean([a for a, _, _ in v]) for k, v in results.items()}
    low = min(label_counts)
    for pre, base in (("AE joint", "AE none"), ("AE stacked", "AE none"),
                      ("AE joint, labels only", "AE none, labels only")):
        if (low, pre) in mean and (low, base) in mean:
            gain = 100 * (mean[low, pre] - mean[low, base])
            judged = base == "AE none"  # the defaults' own terms on both sides
            lines.append(f"  {pre} - {base} at {low} labels: {gain:+.1f} points "
                         + (f"(target >= +8): {'MET' if gain >= 8 else 'MISSED'}" if judged
                            else "(not the defaults: no target)"))
    for n in label_counts:
        if (n, DEFAULT) not in mean:
            continue
        others = {m: mean[n, m] for (k, m) in mean if k == n and m in BASELINES}
        if others:
            best = max(others, key=others.get)
            ok = mean[n, DEFAULT] > others[best]
            lines.append(f"  {DEFAULT} at {n} labels {mean[n, DEFAULT]:.4f} vs best baseline "
                         f"{best} {others[best]:.4f}: {'MET' if ok else 'MISSED'}")
    # With one torch thread a fit's CPU time is its time on an idle core;
    # the wall time also counts the other jobs of a shared machine.
    fits = [(s, c) for (n, m), v in results.items() if m in AE_METHODS for _, s, c in v]
    if fits:
        wall, cpu = max(s for s, _ in fits), max(c for _, c in fits)
        lines.append(f"  longest AutoEncoderClassifier fit: {cpu:.1f} s CPU, {wall:.1f} s wall "
                     f"(target <= 120 s on 2 cores, judged on CPU time): "
                     f"{'MET' if cpu <= 120 else 'MISSED'}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?")
    parser.add_argument("--summarize", nargs="+", metavar="LOG",
                        help="print the tables of the per-fit lines of these logs instead")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--methods", nargs="+", default=[*AE_METHODS, *BASELINES])
    parser.add_argument("--no-digits", action="store_true")
    parser.add_argument("--no-mnist", action="store_true")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="fits run in parallel processes (one torch thread each)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"
                                             / "semi_supervised.txt"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    lines = [f"benchmarks/semi_supervised.py, torch threads: {torch.get_num_threads()}"]
    if args.summarize:
        summarize(args.summarize, lines)
    elif args.data_dir is None:
        parser.error("DATA_DIR is required unless --summarize is given")
    else:
        measure(args, lines)
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


def measure(args, lines):
    if not args.no_digits:
        X, y = load_digits(return_X_y=True)
        results = run("digits", X.astype(np.float32) / 16, y, 450, [50], args.methods,
                      args.draws, lines, args.n_jobs)
        targets(results, [50], lines, "digits")
    if args.no_mnist:
        return
    X, y = load_mnist(args.data_dir)
    results = run("MNIST", X, y, 2000, args.labels, args.methods, args.draws, lines,
                  args.n_jobs)
    targets(results, args.labels, lines, "MNIST")


if __name__ == "__main__":
    main()
