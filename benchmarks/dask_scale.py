"""Training on data larger than memory with Dask: rows per second and memory.

An :class:`~skae.AutoEncoderTransformer` makes one pass (``partial_fit``,
one epoch per chunk) over a float32 ``dask.array`` of ``--rows`` rows and
50 features (default 20,000,000 rows: 4 GB), in chunks of ``--chunk`` rows.
The array is never held in memory whole: each chunk is made by a seeded
generator (``tanh(latent @ mixing) + noise``, a 5-D structure, chunk ``i``
from ``numpy.random.default_rng([seed, i])``) when a task needs it.

Two runs over the same chunks in the same order, side by side:

1. ``dask_ml.wrappers.Incremental(...).fit(X)`` on a
   ``distributed.LocalCluster`` of ``--workers`` worker processes (one
   thread each): the model travels from task to task (pickled between
   workers), each task calls ``partial_fit`` on one chunk. Training is one
   chain of tasks, so an idle worker makes chunks ahead of it; the chunks
   waiting in a worker's memory are bounded by its Dask memory target,
   ``--target-mb`` (past it Dask spills them to the worker's disk; 0: no
   memory limit, nothing spills and they pile up);
2. ``partial_fit`` on each chunk in one plain process (a fresh child of
   this script), the chunks made by the same function.

Printed: rows per second of each (wall time of the training pass, the
chunks' generation included in both); the peak RSS of each worker process
and of the single process, and that peak minus the RSS before training
(from ``/proc/self/status``: ``VmHWM`` after resetting it through
``/proc/self/clear_refs``; Linux only), against the size of one chunk; the
largest difference between the codes of the two models on a held-out chunk
(the same chunks in the same order give the same model, so this should be
0); their reconstruction error there. Every torch runs one thread.

Usage::

    python benchmarks/dask_scale.py [--rows 20000000] [--chunk 100000] \\
        [--workers 2] [--target-mb 100] [--out benchmarks/results/dask_scale.txt]

The output is printed and written to ``--out`` (first line: the command).
"""

import argparse
import json
import os
import pickle
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # worker processes inherit it

import numpy as np

N_FEATURES = 50
N_LATENT = 5
NOISE = 0.1
SEED = 0
MB = 1e6
MEMORY_LIMIT = 4e9  # bytes per worker: spilling starts at --target-mb
SCRIPT = Path(__file__).resolve()
DEFAULT_OUT = SCRIPT.parent / "results" / "dask_scale.txt"


def make_estimator():
    from skae import AutoEncoderTransformer

    return AutoEncoderTransformer(
        n_components=8, hidden_layer_sizes=(64,), batch_size=512, random_state=0
    )


def make_chunk(index, n_rows):
    """Chunk ``index`` of the data: the same rows whoever makes it."""
    mixing = np.random.default_rng(SEED).normal(size=(N_LATENT, N_FEATURES)) / np.sqrt(N_LATENT)
    rng = np.random.default_rng([SEED, index])
    latent = rng.standard_normal((n_rows, N_LATENT), dtype=np.float32)
    noise = rng.standard_normal((n_rows, N_FEATURES), dtype=np.float32)
    return (np.tanh(latent @ mixing.astype(np.float32)) + NOISE * noise).astype(np.float32)


def chunk_sizes(rows, chunk):
    return [min(chunk, rows - start) for start in range(0, rows, chunk)]


def dask_data(rows, chunk):
    """The data as a lazy ``dask.array``: each block made by its task."""
    import dask.array as da

    sizes = tuple(chunk_sizes(rows, chunk))

    def block(block_info=None):
        info = block_info[None]
        index = info["chunk-location"][0]
        return make_chunk(index, info["chunk-shape"][0])

    return da.map_blocks(
        block, chunks=(sizes, (N_FEATURES,)), dtype=np.float32,
        meta=np.empty((0, N_FEATURES), dtype=np.float32),
    )


# ----------------------------------------------------------------------
# Memory, from /proc (Linux)
# ----------------------------------------------------------------------
def _status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def reset_peak():
    """Reset the peak RSS to the current RSS; return the current RSS."""
    import gc

    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status("VmRSS")


def peak_rss():
    return _status("VmHWM")


def one_thread():
    import torch

    torch.set_num_threads(1)
    return torch.get_num_threads()


# ----------------------------------------------------------------------
# The two runs
# ----------------------------------------------------------------------
def run_single(rows, chunk, model_path):
    """partial_fit over the chunks in this process (the child)."""
    one_thread()
    est = make_estimator()
    sizes = chunk_sizes(rows, chunk)
    # Warm-up on a clone (torch's lazy initialisation), then measure.
    make_estimator().partial_fit(make_chunk(0, 1000))
    base = reset_peak()
    start = time.perf_counter()
    for index, n in enumerate(sizes):
        est.partial_fit(make_chunk(index, n))
    seconds = time.perf_counter() - start
    peak = peak_rss()
    with open(model_path, "wb") as f:
        pickle.dump(est, f)
    return {"seconds": seconds, "peak": peak, "base": base}


def run_dask(rows, chunk, workers, target_mb):
    import dask
    from dask_ml.wrappers import Incremental
    from distributed import Client, LocalCluster

    X = dask_data(rows, chunk)
    # One worker trains while the other makes chunks ahead of it; the chunks
    # kept in a worker's memory are bounded by its memory target (beyond it,
    # Dask spills them to the worker's disk until the training task needs
    # them). Dask's other memory thresholds stay at their defaults.
    # --target-mb 0: no memory limit, nothing spills.
    limit = MEMORY_LIMIT if target_mb else 0
    config = {"distributed.worker.memory.target": target_mb * MB / MEMORY_LIMIT or False}
    with dask.config.set(config), LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True,
        dashboard_address=None, memory_limit=limit,
    ) as cluster, Client(cluster) as client:
        client.run(one_thread)
        # Warm-up on each worker (imports, torch's lazy initialisation).
        client.run(lambda: make_estimator().partial_fit(make_chunk(0, 1000)) and None)
        bases = client.run(reset_peak)
        start = time.perf_counter()
        model = Incremental(make_estimator(), shuffle_blocks=False).fit(X)
        seconds = time.perf_counter() - start
        peaks = client.run(peak_rss)
    return model.estimator_, {
        "seconds": seconds,
        "workers": [(peaks[w], bases[w]) for w in sorted(peaks)],
    }


class Report:
    """Print lines as they come and keep them for ``--out``."""

    def __init__(self):
        self.lines = []

    def __call__(self, line=""):
        print(line, flush=True)
        self.lines.append(line)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--target-mb", type=float, default=100.0,
                        help="a worker's memory target: data held beyond it spill to disk")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--single", metavar="MODEL_PATH", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.single:
        result = run_single(args.rows, args.chunk, args.single)
        print("RESULT", json.dumps(result))
        return

    report = Report()
    command = sys.argv[1:] if argv is None else list(argv)
    report("$ python benchmarks/dask_scale.py " + shlex.join(command))
    one_thread()
    n_chunks = len(chunk_sizes(args.rows, args.chunk))
    chunk_mb = args.chunk * N_FEATURES * 4 / MB
    report(f"data: {args.rows:,} x {N_FEATURES} float32 ({args.rows * N_FEATURES * 4 / MB:,.0f} "
           f"MB), {n_chunks} chunks of {args.chunk:,} rows ({chunk_mb:.0f} MB each), "
           "made by a seeded generator, never in memory whole")
    report(f"model: {make_estimator()!r}, one pass (partial_fit per chunk, chunks in order)")
    report("one torch thread per process")

    with tempfile.TemporaryDirectory() as tmp:
        model_path = os.path.join(tmp, "single.pkl")
        child = subprocess.run(
            [sys.executable, str(SCRIPT), "--rows", str(args.rows), "--chunk",
             str(args.chunk), "--single", model_path],
            capture_output=True, text=True, check=False,
        )
        if child.returncode != 0:
            raise RuntimeError("the single-process run failed:\n" + child.stderr[-3000:])
        line = next(l for l in child.stdout.splitlines() if l.startswith("RESULT "))
        single = json.loads(line[len("RESULT "):])
        with open(model_path, "rb") as f:
            single_model = pickle.load(f)
    dask_model, dask_result = run_dask(args.rows, args.chunk, args.workers, args.target_mb)

    report()
    report(f"{'run':<44} {'seconds':>9} {'rows/s':>10} {'peak RSS MB':>12} {'peak - before MB':>17}")
    rate_single = args.rows / single["seconds"]
    rate_dask = args.rows / dask_result["seconds"]
    report(f"{'partial_fit, one process':<44} {single['seconds']:>9.1f} {rate_single:>10,.0f} "
           f"{single['peak'] / MB:>12.0f} {(single['peak'] - single['base']) / MB:>17.0f}")
    for i, (peak, base) in enumerate(dask_result["workers"]):
        name = f"Incremental, LocalCluster({args.workers} workers): worker {i}"
        first = i == 0
        report(f"{name:<44} {dask_result['seconds'] if first else float('nan'):>9.1f} "
               f"{rate_dask if first else float('nan'):>10,.0f} {peak / MB:>12.0f} "
               f"{(peak - base) / MB:>17.0f}")
    report()
    report(f"rows/s, Incremental / one process: {rate_dask / rate_single:.2f}")
    worst = max(peak - base for peak, base in dask_result["workers"])
    report(f"largest peak - before of a worker: {worst / MB:.0f} MB = "
           f"{worst / MB / chunk_mb:.1f} chunks of {chunk_mb:.0f} MB")
    test = make_chunk(n_chunks + 1, 10_000)  # a chunk that neither run trained on
    difference = np.abs(dask_model.transform(test) - single_model.transform(test)).max()
    report(f"held-out chunk: largest |code difference| between the two models {difference:.3g}")
    for name, model in (("one process", single_model), ("Incremental", dask_model)):
        error = np.mean((model.inverse_transform(model.transform(test)) - test) ** 2)
        report(f"held-out mean squared reconstruction error, {name}: {error:.4f} "
               f"(data variance {test.var():.4f})")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(report.lines) + "\n")


if __name__ == "__main__":
    main()
