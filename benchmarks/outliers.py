"""Unsupervised anomaly detection on ADBench: AEOutlierDetector against baselines.

Protocol of ADBench's unsupervised setting [1]: for each dataset and seed, a
stratified 70/30 split; every method is fitted on the unlabeled, contaminated
training part with its default parameters and ranks the test part by its
anomaly score; ROC-AUC and average precision are computed on the test part
(y = 1 marks an anomaly).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/outliers.py /path/to/adbench \\
        [--datasets cardio,thyroid] [--methods AE,IForest] [--seeds 0,1,2] \\
        [--max-rows 50000] [--out results.csv]

Prints one CSV row per (dataset, method, seed) as soon as it is computed (and
appends it to ``--out``, from which an interrupted run resumes), then a
summary per method over the datasets that every method finished: mean
ROC-AUC, mean average precision, mean rank of the ROC-AUC (1 is best),
total fit seconds (wall-clock) and total fit CPU seconds (``process_time``:
on a shared machine, the work a fit did, whatever else the cores ran), the
number of datasets where a method's ROC-AUC is above IsolationForest's, each
total fit time over IsolationForest's, and the mean ROC-AUC per seed. Before
the timed fits every method is fitted once, untimed, on 512 rows: the first
fit in a process pays for lazy imports (torch's optimizers import
torch._dynamo at their first use), not for fitting the data.
``--summarize FILE`` prints the summary of a finished CSV.

A skae method may override the defaults of the detector or its autoencoder,
to measure the choice of a default against its alternatives, e.g.
``--methods "AE,AE[loss=mse],AE[clip=2],AE[max_epochs=40]"``.

PyOD is needed for the PyOD methods (``pip install skae[benchmarks]``); it
is never imported by skae itself. The rows of the run quoted in
AEOutlierDetector's docstring and the user guide are in
``benchmarks/results/adbench.csv`` (two processes of one torch thread each,
every method side by side on its share of the datasets; PyOD's VAE in a
second pass), and its printed summary in
``benchmarks/results/adbench_summary.txt``
(``--summarize benchmarks/results/adbench.csv``).

Large sets at full size::

    OMP_NUM_THREADS=1 python benchmarks/outliers.py /path/to/adbench --large \\
        [--methods AE,IForest,LOF,PyOD-AE] [--seeds 0] [--timeout 600] \\
        [--out benchmarks/results/adbench_large.csv]

fits every method on the full training part (70%) of each large set
(``LARGE_DATASETS``: cover, donors, http, skin, smtp, celeba, campaign,
shuttle, ALOI), the data in float32 for every method. Each fit runs in its
own subprocess, so that its memory is measured alone, after a first fit of
the same method on 512 rows (which loads what every fit shares: lazily
imported modules, torch's kernels and allocator): ``peak_rss_mb`` is the
process's peak resident memory (Python, the libraries and the data
included), ``fit_rss_mb`` the peak during ``fit`` above the resident memory
just before it (the data already loaded), and ``data_f32_mb`` the size of the
whole dataset in float32. A baseline (not a skae method) still running after
``--timeout`` seconds is killed and its row says ``timeout``; skae methods
have no limit. The summary (``--summarize FILE --large``) gives mean ROC-AUC
over the sets every method finished and the full table.

[1] S. Han et al., "ADBench: Anomaly Detection Benchmark", NeurIPS 2022.
"""

import argparse
import ast
import csv
import json
import math
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

try:
    import skae  # noqa: F401
except ImportError:  # run from a source checkout without installing skae
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FIELDS = [
    "dataset", "method", "seed", "n_train", "n_features",
    "roc_auc", "average_precision", "fit_s", "score_s", "fit_cpu_s",
]


# ----------------------------------------------------------------------
# Methods: make(n_features, seed, n_samples) -> (fit(X), anomaly_score(X)),
# where a higher anomaly score means more abnormal (sklearn's -score_samples).
# ----------------------------------------------------------------------
def _sklearn_method(factory):
    def make(n_features, seed, n_samples=None):
        est = factory(n_features, seed, n_samples)
        return est.fit, lambda X: -est.score_samples(X)

    return make


def _skae_estimator(name, **overrides):
    """AEOutlierDetector around skae estimator ``name`` (None: the default),
    with ``overrides`` of the detector's or the estimator's parameters."""

    def factory(n_features, seed, n_samples=None):
        import skae

        detector_params = skae.AEOutlierDetector().get_params(deep=False)
        on_detector = {k: v for k, v in overrides.items() if k in detector_params}
        on_estimator = {k: v for k, v in overrides.items() if k not in detector_params}
        if name is None and not on_estimator:
            return skae.AEOutlierDetector(random_state=seed, **on_detector)
        # The other skae autoencoders get the default's tabular sizing and
        # training (those of its parameters they have), so that the
        # comparison is of the estimators, not of their settings.
        from skae.outlier import _default_params

        cls = skae.AutoEncoderTransformer if name is None else getattr(skae, name)
        accepted = cls().get_params(deep=False)
        params = {
            k: v for k, v in _default_params(n_features, n_samples).items() if k in accepted
        }
        est = cls(**{**params, **on_estimator})
        return skae.AEOutlierDetector(est, random_state=seed, **on_detector)

    return factory


def _iforest(n_features, seed, n_samples=None):
    from sklearn.ensemble import IsolationForest

    return IsolationForest(random_state=seed)


def _lof(n_features, seed, n_samples=None):
    from sklearn.neighbors import LocalOutlierFactor

    return LocalOutlierFactor(novelty=True)


def _pyod_method(cls_name):
    def make(n_features, seed, n_samples=None):
        if cls_name == "AutoEncoder":
            from pyod.models.auto_encoder import AutoEncoder as cls
        else:
            from pyod.models.vae import VAE as cls
        est = cls(random_state=seed, verbose=0)
        # PyOD's decision_function is already "higher is more abnormal".
        return est.fit, est.decision_function

    return make


# skae methods: AEOutlierDetector around each estimator (None: its default)
_SKAE_METHODS = {"AE": None, "DAE": "DenoisingAE", "CAE": "ContractiveAE",
                 "VAE": "VAETransformer"}

METHODS = {
    **{k: _sklearn_method(_skae_estimator(v)) for k, v in _SKAE_METHODS.items()},
    "IForest": _sklearn_method(_iforest),
    "LOF": _sklearn_method(_lof),
    "PyOD-AE": _pyod_method("AutoEncoder"),
    "PyOD-VAE": _pyod_method("VAE"),
}


def resolve_method(spec):
    """The method of a name from METHODS, or of a skae variant such as
    ``AE[loss=mse;clip=2]``: parameters (of the detector or of the
    autoencoder) that override the defaults, ``;``-separated."""
    match = re.fullmatch(r"([\w-]+)(?:\[(.*)\])?", spec)
    if match is None or match.group(1) not in METHODS:
        raise ValueError(f"unknown method {spec!r}; choose from {list(METHODS)}")
    base, options = match.groups()
    if not options:
        return METHODS[base]
    if base not in _SKAE_METHODS:
        raise ValueError(
            f"{spec!r}: only skae methods {list(_SKAE_METHODS)} take [options]"
        )
    overrides = {}
    for item in options.split(";"):
        key, _, value = item.partition("=")
        try:
            overrides[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):  # a bare string such as mse
            overrides[key.strip()] = value.strip()
    return _sklearn_method(_skae_estimator(_SKAE_METHODS[base], **overrides))


def split_methods(text):
    """Split ``--methods`` at the commas outside brackets."""
    return re.findall(r"[^,\[]+(?:\[[^\]]*\])?", text)


def available_methods():
    """Methods whose libraries are importable here (skae's estimators may
    not all exist yet; PyOD is optional)."""
    import skae

    out = []
    for name in METHODS:
        if _SKAE_METHODS.get(name) and not hasattr(skae, _SKAE_METHODS[name]):
            continue
        if name.startswith("PyOD"):
            try:
                import pyod  # noqa: F401
            except ImportError:
                continue
        out.append(name)
    return out


# ----------------------------------------------------------------------
# Large sets at full size, one subprocess per fit.
# ----------------------------------------------------------------------
LARGE_DATASETS = ["cover", "donors", "http", "skin", "smtp", "celeba", "campaign",
                  "shuttle", "ALOI"]
_WARMUP_ROWS = 512
LARGE_FIELDS = [
    "dataset", "method", "seed", "n_train", "n_features", "status", "roc_auc",
    "average_precision", "fit_s", "score_s", "peak_rss_mb", "fit_rss_mb", "data_f32_mb",
]


def _memory_kb():
    """(peak, current) resident memory of this process in kB (Linux)."""
    with open("/proc/self/status") as f:
        status = f.read()
    return tuple(int(re.search(rf"{k}:\s+(\d+)", status).group(1)) for k in ("VmHWM", "VmRSS"))


def _reset_peak_memory():
    """Reset the kernel's peak RSS to the current RSS (Linux 4.0+)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def run_child(path, method, seed):
    """One fit of ``method`` on the large set at ``path``, in this process;
    prints one JSON line of its figures (the child side of ``--large``)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    make = resolve_method(method)
    with np.load(path, allow_pickle=False) as d:
        X, y = d["X"].astype(np.float32), d["y"].astype(int).ravel()
    data_mb = X.nbytes / 2**20
    X_train, X_test, _, y_test = split(X, y, seed)
    del X, y
    # A first fit on a few rows loads what every fit of the method shares
    # (lazily imported modules, torch's kernels and allocator), so that the
    # time and memory measured are those of fitting the data.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(X_train.shape[1], seed, _WARMUP_ROWS)[0](X_train[:_WARMUP_ROWS])
    fit, anomaly_score = make(X_train.shape[1], seed, len(X_train))
    _, before = _memory_kb()
    _reset_peak_memory()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(X_train)
    t1 = time.perf_counter()
    fit_peak, _ = _memory_kb()
    s = np.asarray(anomaly_score(X_test), dtype=np.float64)
    t2 = time.perf_counter()
    if not np.all(np.isfinite(s)):
        raise ValueError("non-finite anomaly scores")
    import resource

    print(json.dumps(dict(
        n_train=len(X_train), n_features=X_train.shape[1], status="ok",
        roc_auc=f"{roc_auc_score(y_test, s):.4f}",
        average_precision=f"{average_precision_score(y_test, s):.4f}",
        fit_s=f"{t1 - t0:.2f}", score_s=f"{t2 - t1:.3f}",
        # ru_maxrss is the peak over the whole process, in kB on Linux
        peak_rss_mb=f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}",
        fit_rss_mb=f"{(fit_peak - before) / 1024:.1f}",
        data_f32_mb=f"{data_mb:.1f}",
    )))


def run_large(datasets, methods, seeds, timeout, out):
    """Each (dataset, seed, method) in its own subprocess; baselines are
    killed after ``timeout`` seconds. Returns the rows (dicts)."""
    done, rows = set(), []
    if out and os.path.exists(out):
        with open(out) as f:
            for row in csv.DictReader(f):
                rows.append(row)
                done.add((row["dataset"], row["method"], int(row["seed"])))
    sink = open(out, "a", newline="") if out else None
    if sink is not None and sink.tell() == 0:
        csv.writer(sink).writerow(LARGE_FIELDS)
    writer = csv.DictWriter(sys.stdout, LARGE_FIELDS)
    writer.writeheader()
    for name, path in datasets:
        for seed in seeds:
            for method in methods:
                if (name, method, seed) in done:
                    continue
                limit = None if method.split("[")[0] in _SKAE_METHODS else timeout
                cmd = [sys.executable, os.path.abspath(__file__), "--child",
                       str(path), method, str(seed)]
                row = dict(dataset=name, method=method, seed=seed)
                t0 = time.perf_counter()
                try:
                    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
                except subprocess.TimeoutExpired:
                    row.update(status="timeout", fit_s=f">{limit}")
                else:
                    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
                    if proc.returncode == 0 and lines:
                        row.update(json.loads(lines[-1]))
                    else:
                        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
                        print(f"# {name} {method} {seed} failed: {tail[0]}", file=sys.stderr)
                        row.update(status=f"failed (rc={proc.returncode})",
                                   fit_s=f"{time.perf_counter() - t0:.0f}")
                row = {k: row.get(k, "") for k in LARGE_FIELDS}
                writer.writerow(row)
                sys.stdout.flush()
                if sink is not None:
                    csv.DictWriter(sink, LARGE_FIELDS).writerow(row)
                    sink.flush()
                rows.append({k: str(v) for k, v in row.items()})
    if sink is not None:
        sink.close()
    return rows


def summarize_large(rows, methods=None, out=None):
    """Full table of the large sets and mean ROC-AUC per method over the sets
    that every method finished."""
    out = sys.stdout if out is None else out
    import pandas as pd

    df = pd.DataFrame(rows).drop_duplicates(["dataset", "method", "seed"], keep="last")
    if methods is None:
        methods = list(dict.fromkeys(df["method"]))
    df = df[df["method"].isin(methods)].copy()
    # the fit's own peak memory over the whole dataset's float32 size
    fit_mb = pd.to_numeric(df["fit_rss_mb"], errors="coerce")
    df["fit_rss_x_data"] = (fit_mb / pd.to_numeric(df["data_f32_mb"], errors="coerce")).round(2)
    order = {name: i for i, name in enumerate(dict.fromkeys(df["dataset"]))}
    df = df.sort_values(["dataset", "method"], key=lambda c: c.map(
        order if c.name == "dataset" else {m: i for i, m in enumerate(methods)}
    ), kind="stable")
    print("\nLarge ADBench sets at full size (float32 data; one subprocess per fit):",
          file=out)
    print(df.to_string(index=False), file=out)
    ok = df[df["status"] == "ok"].copy()
    for col in ("roc_auc", "fit_s"):
        ok[col] = ok[col].astype(float)
    sets = list(dict.fromkeys(df["dataset"]))
    auc = ok.groupby(["dataset", "method"])["roc_auc"].mean().unstack("method")
    auc = auc.reindex(index=sets, columns=methods)
    fit_s = ok.groupby(["dataset", "method"])["fit_s"].sum().unstack("method")
    fit_s = fit_s.reindex(index=sets, columns=methods)
    finished = auc.notna().sum()
    print("\nFinished sets per method:", file=out)
    print(finished.reindex(methods).to_string(), file=out)
    for label, cols in (("every method", methods),
                        ("the methods that finished every set",
                         [m for m in methods if finished.get(m, 0) == len(auc)])):
        common = auc[cols].dropna()
        if common.empty or not cols:
            continue
        print(f"\nMean over the {len(common)} sets finished by {label} "
              f"({', '.join(common.index)}):", file=out)
        table = pd.DataFrame({"mean_roc_auc": common.mean(),
                              "total_fit_s": fit_s.loc[common.index, cols].sum()})
        print(table.to_string(float_format=lambda v: f"{v:.4f}"), file=out)


# ----------------------------------------------------------------------
def list_datasets(data_dir, max_rows):
    """ADBench ``.npz`` files with at most ``max_rows`` rows, smallest first."""
    out = []
    for path in sorted(Path(data_dir).glob("*.npz")):
        with np.load(path, allow_pickle=False) as d:
            n = d["y"].shape[0]
        if n <= max_rows:
            out.append((n, dataset_name(path), path))
    return [(name, path) for n, name, path in sorted(out)]


def dataset_name(path):
    # "6_cardio.npz" -> "cardio"
    return Path(path).stem.split("_", 1)[-1]


def load(path):
    with np.load(path, allow_pickle=False) as d:
        return d["X"].astype(np.float64), d["y"].astype(int).ravel()


def split(X, y, seed):
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)


def run_one(make, X_train, X_test, y_test, seed):
    from sklearn.metrics import average_precision_score, roc_auc_score

    fit, anomaly_score = make(X_train.shape[1], seed, len(X_train))
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(X_train)
    t1, c1 = time.perf_counter(), time.process_time()
    s = np.asarray(anomaly_score(X_test), dtype=np.float64)
    t2 = time.perf_counter()
    if not np.all(np.isfinite(s)):
        raise ValueError("non-finite anomaly scores")
    return (roc_auc_score(y_test, s), average_precision_score(y_test, s), t1 - t0,
            t2 - t1, c1 - c0)


def warm_up(makers, X):
    """Fit each method once on ``X`` (a few rows), untimed: what the first fit
    in a process pays once (lazy imports, such as the torch._dynamo that
    torch's optimizers import at their first use, ~1 CPU second) is not a
    cost of fitting the data."""
    for make in makers.values():
        fit, _ = make(X.shape[1], 0, len(X))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit(X)
            except Exception:  # the timed fit reports it
                pass


# ----------------------------------------------------------------------
def summarize(rows, methods=None, out=None):
    """Print per-method means over datasets where every method ran all seeds."""
    out = sys.stdout if out is None else out
    import pandas as pd

    df = pd.DataFrame(rows).drop_duplicates(["dataset", "method", "seed"], keep="last")
    # a header line written by a second run appending to the same file
    df = df[df["dataset"] != "dataset"]
    if "fit_cpu_s" not in df:  # rows of an older run
        df["fit_cpu_s"] = math.nan
    for col in ("roc_auc", "average_precision", "fit_s", "score_s", "fit_cpu_s"):
        df[col] = df[col].replace("", math.nan).astype(float)
    if methods is None:
        methods = list(dict.fromkeys(df["method"]))
    df = df[df["method"].isin(methods)]
    n_seeds = df.groupby(["dataset", "method"])["seed"].nunique()
    full = n_seeds.unstack("method").reindex(columns=methods)
    seeds_all = full.max().max()
    ok = full.index[(full == seeds_all).all(axis=1)]
    df = df[df["dataset"].isin(ok)]
    if df.empty:
        print("no dataset finished by every method", file=out)
        return None
    per = df.groupby(["dataset", "method"]).agg(
        roc_auc=("roc_auc", "mean"),
        average_precision=("average_precision", "mean"),
        fit_s=("fit_s", "sum"),
        fit_cpu_s=("fit_cpu_s", lambda v: v.sum(min_count=1)),
    )
    auc = per["roc_auc"].unstack("method")[methods]
    ranks = auc.rank(axis=1, ascending=False)
    columns = {
        "mean_roc_auc": auc.mean(),
        "mean_ap": per["average_precision"].unstack("method")[methods].mean(),
        "mean_rank": ranks.mean(),
        "total_fit_s": per["fit_s"].unstack("method")[methods].sum(),
        "total_cpu_s": per["fit_cpu_s"].unstack("method")[methods].sum(min_count=1),
    }
    if "IForest" in methods:
        # the bar ADBench sets: on how many datasets a method's mean ROC-AUC
        # is above IsolationForest's
        columns["above_iforest"] = (auc.gt(auc["IForest"], axis=0)).sum()
        # total fit time over IsolationForest's, wall-clock and CPU
        columns["fit_s_ratio"] = columns["total_fit_s"] / columns["total_fit_s"]["IForest"]
        columns["cpu_s_ratio"] = columns["total_cpu_s"] / columns["total_cpu_s"]["IForest"]
    table = pd.DataFrame(columns).sort_values("mean_roc_auc", ascending=False)
    print(
        f"\nSummary over {len(ok)} datasets x {int(seeds_all)} seeds: "
        + ", ".join(sorted(ok)),
        file=out,
    )
    print(table.to_string(float_format=lambda v: f"{v:.4f}"), file=out)
    by_seed = df.groupby(["seed", "method"])["roc_auc"].mean().unstack("method")
    print("\nMean ROC-AUC per seed (over the same datasets):", file=out)
    print(by_seed[table.index].to_string(float_format=lambda v: f"{v:.4f}"), file=out)
    print("\nROC-AUC per dataset (mean over seeds):", file=out)
    print(auc.to_string(float_format=lambda v: f"{v:.3f}"), file=out)
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", nargs="?", help="folder of ADBench .npz files")
    parser.add_argument("--datasets", help="comma-separated names (e.g. cardio,thyroid)")
    parser.add_argument(
        "--methods",
        help="comma-separated, from: " + ", ".join(METHODS) + "; a skae method "
        "may override parameters of the detector or its autoencoder, e.g. "
        "AE[loss=mse;clip=2]",
    )
    parser.add_argument("--seeds", help="comma-separated (default 0,1,2; 0 with --large)")
    parser.add_argument("--max-rows", type=int, default=50_000)
    parser.add_argument(
        "--large", action="store_true", help="the large sets at full size, one "
        "subprocess per fit, with peak memory (see the module docstring)"
    )
    parser.add_argument("--timeout", type=float, default=600,
                        help="--large: seconds before a baseline's fit is killed")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--out", help="CSV file to append rows to and resume from")
    parser.add_argument(
        "--summarize", help="only print the summary of these CSV files (comma-separated; "
        "a later row for the same dataset, method and seed wins)"
    )
    args = parser.parse_args(argv)
    if args.child:
        path, method, seed = args.child
        run_child(path, method, int(seed))
        return

    methods = split_methods(args.methods) if args.methods else available_methods()
    try:
        makers = {method: resolve_method(method) for method in methods}
    except ValueError as exc:
        parser.error(str(exc))
    if args.summarize:
        rows = []
        for path in args.summarize.split(","):
            with open(path) as f:
                rows += list(csv.DictReader(f))
        if args.large:
            summarize_large(rows, methods if args.methods else None)
        else:
            summarize(rows, methods if args.methods else None)
        return
    if args.data_dir is None:
        parser.error("data_dir is required")
    seeds = [int(s) for s in (args.seeds or ("0" if args.large else "0,1,2")).split(",")]
    if args.large:
        paths = {dataset_name(p): p for p in Path(args.data_dir).glob("*.npz")}
        wanted = args.datasets.split(",") if args.datasets else LARGE_DATASETS
        missing = sorted(set(wanted) - set(paths))
        if missing:
            parser.error(f"datasets not found in {args.data_dir}: {missing}")
        rows = run_large([(n, paths[n]) for n in wanted], methods, seeds,
                         args.timeout, args.out)
        summarize_large(rows, methods)
        return
    datasets = list_datasets(args.data_dir, args.max_rows)
    if args.datasets:
        wanted = args.datasets.split(",")
        missing = set(wanted) - {name for name, _ in datasets}
        if missing:
            parser.error(f"datasets not found (or over --max-rows): {sorted(missing)}")
        datasets = [(n, p) for n, p in datasets if n in wanted]

    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    done, rows = set(), []
    if args.out and os.path.exists(args.out):
        with open(args.out) as f:
            for row in csv.DictReader(f):
                if row["dataset"] == "dataset":  # header of a concurrent run
                    continue
                rows.append(row)
                done.add((row["dataset"], row["method"], int(row["seed"])))
    sink = open(args.out, "a", newline="") if args.out else None
    if sink is not None and sink.tell() == 0:
        csv.writer(sink).writerow(FIELDS)
    writer = csv.writer(sys.stdout)
    writer.writerow(FIELDS)
    if datasets:
        X, _ = load(datasets[0][1])
        warm_up(makers, X[:_WARMUP_ROWS])
    for name, path in datasets:
        X, y = load(path)
        for seed in seeds:
            X_train, X_test, _, y_test = split(X, y, seed)
            for method in methods:
                if (name, method, seed) in done:
                    continue
                try:
                    auc, ap, fit_s, score_s, cpu_s = run_one(
                        makers[method], X_train, X_test, y_test, seed
                    )
                except Exception as exc:  # keep going; the row says what failed
                    print(f"# {name} {method} {seed} failed: {exc!r}", file=sys.stderr)
                    auc = ap = fit_s = score_s = cpu_s = math.nan
                row = [name, method, seed, len(X_train), X.shape[1],
                       f"{auc:.4f}", f"{ap:.4f}", f"{fit_s:.2f}", f"{score_s:.3f}",
                       f"{cpu_s:.3f}"]
                writer.writerow(row)
                sys.stdout.flush()
                if sink is not None:
                    csv.writer(sink).writerow(row)
                    sink.flush()
                rows.append(dict(zip(FIELDS, map(str, row))))
    if sink is not None:
        sink.close()
    summarize([r for r in rows if r["method"] in methods], methods)


if __name__ == "__main__":
    main()
