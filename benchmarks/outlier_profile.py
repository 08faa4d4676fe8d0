"""Where AEOutlierDetector's fit time goes: cProfile of the previous and the
new default on ADBench sets (issue 14).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/outlier_profile.py /path/to/adbench

Prints, for each set, the fit's CPU seconds (``process_time``), the batch
size, epochs and optimizer steps, and the share of the profiled fit spent in
the Adam update, backward, forward, batching, skorch's per-batch
notifications, the detector's scaling and scoring, and the calibration pass
(cumulative cProfile times, which inflate Python-heavy parts); first, the
one-time cost of the first fit in a process. The output is kept in
``benchmarks/results/adbench_profile.txt``.
"""

import cProfile
import pstats
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
import outliers as ob  # noqa: E402
import skae  # noqa: E402
from skae.outlier import _default_params  # noqa: E402

# Parts of a fit: a predicate on cProfile's (file, line, function) key.
PARTS = {
    "Adam update": lambda f, ln, n: f.endswith("optim/adam.py") and n == "adam",
    "backward": lambda f, ln, n: f.endswith("_tensor.py") and n == "backward",
    "forward": lambda f, ln, n: f.endswith("skae/modules/models.py") and n == "forward",
    "batches": lambda f, ln, n: f.endswith("skae/_data.py") and n == "__iter__",
    "skorch notify/history": lambda f, ln, n: n in ("notify", "record"),
    "scaling+scoring outside training": lambda f, ln, n: (
        f.endswith("skae/outlier.py") and n in ("_fit_scaling", "_chunked")
    ),
    "calibration": lambda f, ln, n: n == "_calibrate",
}
PREVIOUS = dict(batch_size=256, lr=1e-3, max_epochs=20, optimizer_params=None)


def main(data_dir):
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    paths = {ob.dataset_name(p): p for p in Path(data_dir).glob("*.npz")}
    t = time.process_time()
    skae.AEOutlierDetector(random_state=0).fit(np.random.default_rng(0).normal(size=(300, 5)))
    print(f"first fit in a process (300 x 5 rows): {time.process_time() - t:.2f} CPU s "
          "(torch.optim's first use imports torch._dynamo)")
    for name in ("WBC", "ALOI", "campaign", "shuttle"):
        X, y = ob.load(paths[name])
        X_train = ob.split(X, y, 0)[0]
        previous = skae.AutoEncoderTransformer(
            **{**_default_params(X_train.shape[1]), **PREVIOUS}
        )
        for label, est in (("previous default", previous), ("new default", None)):
            profile = cProfile.Profile()
            t = time.process_time()
            profile.enable()
            det = skae.AEOutlierDetector(est, random_state=0).fit(X_train)
            profile.disable()
            cpu = time.process_time() - t
            stats = pstats.Stats(profile)
            shares = []
            for part, is_part in PARTS.items():
                cumulative = max(
                    (v[3] for k, v in stats.stats.items() if is_part(*k)), default=0
                )
                shares.append(f"{part} {cumulative / stats.total_tt:.0%}")
            e = det.estimator_
            steps = e.n_epochs_ * -(-len(X_train) // e.batch_size)
            print(f"{name} {X_train.shape}, {label}: {cpu:.2f} CPU s; batch {e.batch_size}, "
                  f"{e.n_epochs_} epochs, {steps} steps; share of the profiled fit: "
                  + ", ".join(shares))


if __name__ == "__main__":
    main(sys.argv[1])
