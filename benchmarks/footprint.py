"""What a fitted model weighs and how fast it answers one row.

Two figures of issue 11 (points 5 and 7), each measured side by side in one
run:

* the pickled size of a fitted ``AutoEncoderTransformer()`` and
  ``AEOutlierDetector()`` for training sets of growing size (a model must
  hold no training data, so the size must not grow with ``n``);
* the latency of ``transform`` on one row, float32 and float64 input,
  against scikit-learn's ``PCA`` (median over ``--calls`` calls, one torch
  thread).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/footprint.py [--sizes 1000,10000,100000] \\
        [--calls 500] [--out benchmarks/results/footprint.txt]

Data: synthetic, 50 features with a 5-dimensional structure.
"""

import argparse
import pickle
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.decomposition import PCA

from skae import AEOutlierDetector, AutoEncoderTransformer

N_FEATURES = 50


def make_data(n, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 5))
    mixing = rng.normal(size=(5, N_FEATURES))
    return np.tanh(latent @ mixing) + 0.1 * rng.normal(size=(n, N_FEATURES))


def latency(fn, x, calls):
    fn(x)  # warm-up
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="training-set sizes for the pickle sizes")
    parser.add_argument("--calls", type=int, default=500, help="timed one-row calls")
    parser.add_argument("--max-epochs", type=int, default=5,
                        help="epochs of each fit (the size does not depend on them)")
    parser.add_argument("--out", default=None, help="file that receives the printed output")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    command = "$ python benchmarks/footprint.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    lines = []

    def report(text=""):
        print(text)
        lines.append(text)

    report(command)

    report(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
           f"{N_FEATURES} features, max_epochs={args.max_epochs}")
    report("Pickled size of the fitted estimator (KB) by training rows")
    report(f"{'estimator':24} {'rows':>9} {'pickle KB':>10}")
    sizes = [int(s) for s in args.sizes.split(",")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for make in (
            lambda: AutoEncoderTransformer(max_epochs=args.max_epochs, random_state=0),
            lambda: AEOutlierDetector(AutoEncoderTransformer(max_epochs=args.max_epochs),
                                      random_state=0),
        ):
            for n in sizes:
                est = make().fit(make_data(n))
                name = type(est).__name__
                report(f"{name:24} {n:>9,} {len(pickle.dumps(est)) / 1e3:10.1f}")

        X = make_data(2000)
        ae = AutoEncoderTransformer(max_epochs=args.max_epochs, random_state=0).fit(X)
        pca = PCA(n_components=2).fit(X)
        report()
        report(f"Latency of transform on one row (ms, median of {args.calls} calls)")
        report(f"{'method':16} {'ms':>7}")
        row64 = X[:1]
        row32 = row64.astype(np.float32)
        for label, fn, x in [("skae float32", ae.transform, row32),
                             ("skae float64", ae.transform, row64),
                             ("PCA float64", pca.transform, row64)]:
            report(f"{label:16} {latency(fn, x, args.calls):7.3f}")
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
