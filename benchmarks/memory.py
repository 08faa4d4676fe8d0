"""Peak extra memory (RSS) of fitting, predicting and streaming with skae.

Each measurement runs in its own fresh process, forked for it by a helper
(this script with a hidden ``--child`` option, started with ``subprocess``)
that has only imported the libraries, so that the ~3 s import is paid once.
The data are synthetic float32 with a 5-D structure in 50 features
(``tanh(latent @ mixing) + noise``), which the parent writes once to
``.npy`` files chunk by chunk (it never holds the big ones in RAM):

1. ``AutoEncoderTransformer(max_epochs=2, random_state=0).fit(X)`` on
   ``--n-fit`` rows, and the same fit with ``stream_data=True`` (batches
   gathered from host memory instead of the whole array as one tensor);
2. ``transform(X)`` and ``score_samples(X)`` on ``--n-predict`` rows, and
   ``AEOutlierDetector(random_state=0).score_samples(X)``, with a model and
   a detector that the parent fitted on the ``--n-fit`` rows and pickled;
3. ``partial_fit`` over chunks of ``--chunk`` rows of a read-only memmap
   (``np.load(path, mmap_mode="r")``) of ``--n-stream`` rows, ``--epochs``
   passes over all chunks, against ``fit`` on the same rows loaded in memory
   for as many epochs (``early_stopping=False``), with their errors on
   ``--n-test`` held-out rows.

How a child measures (Linux only): it loads its data with ``np.load`` (in
RAM; the streaming loop opens the memmap instead) and its model, then makes
a warm-up call of the same kind on 1,000 rows, so that torch's and skorch's
one-time lazy initialisation (thread pools, kernels, imports) is **not**
counted. It then writes ``5`` to ``/proc/self/clear_refs`` (which resets
the kernel's peak RSS, ``VmHWM``, to the current RSS), reads ``VmRSS`` from
``/proc/self/status`` as the baseline, runs the measured call and reads
``VmHWM``: extra = ``VmHWM`` - baseline, the memory that the call itself
added at its peak. MB are 10^6 bytes.

Targets (never weakened; a miss is printed as MISS):

* fit: at most 1.5 x the float32 input;
* transform, score_samples, detector score_samples: one batch plus the
  output, taken as 64 MB + the output's size;
* partial_fit loop: bounded by a chunk, at most 2 x one chunk's float32
  size + the model (its pickled size: weights, optimizer state, history);
* partial_fit's held-out error at most 1.05 x fit's, both in the
  standardised units of each model (``feature_errors(X_test).mean()``) and
  in raw units (partial_fit standardises with the first chunk's statistics,
  fit with all rows', so the raw error is the like-for-like figure).

The kernel leaves every page of a memmap that a process has read mapped,
and counted in its RSS (as file-backed, clean, reclaimable page cache),
until memory runs short: a loop that only reads chunks sees its RSS grow to
the file's size, whatever the estimator does. The streaming loop therefore
drops the mapped pages after each chunk (``madvise(MADV_DONTNEED)`` on the
memmap, which keeps them in the page cache), as a streaming reader should;
one extra pass without it shows the difference ("pages left mapped").

Usage::

    OMP_NUM_THREADS=1 python benchmarks/memory.py [--threads 1] [--epochs 3] \\
        [--n-fit 100000] [--n-predict 1000000] [--n-stream 2000000] \\
        [--chunk 100000] [--n-test 100000] [--tmpdir DIR] \\
        [--out benchmarks/results/memory.txt]

The output is printed and written to ``--out`` (its first line is the
command). The data files (about 640 MB with the default sizes) go to a
temporary folder under ``--tmpdir`` (default: the system's), removed at the
end.
"""

import argparse
import gc
import json
import mmap
import os
import pickle
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

N_FEATURES = 50
N_LATENT = 5
NOISE = 0.1
WARMUP_ROWS = 1000
FIT_EPOCHS = 2
PREDICT_TARGET_MB = 64.0  # one batch, generously: the target is 64 MB + output
MB = 1e6
SCRIPT = Path(__file__).resolve()
DEFAULT_OUT = SCRIPT.parent / "results" / "memory.txt"


# ----------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------
def make_mixing(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N_LATENT, N_FEATURES)) / np.sqrt(N_LATENT)


def write_data(path, n, seed, mixing, chunk=100_000):
    """``n`` rows of ``tanh(latent @ mixing) + noise`` as a float32 .npy
    file, written chunk by chunk through a memmap."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, N_FEATURES))
    rng = np.random.default_rng(seed)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        latent = rng.normal(size=(m, N_LATENT))
        out[start : start + m] = np.tanh(latent @ mixing) + NOISE * rng.normal(size=(m, N_FEATURES))
    out.flush()
    del out


# ----------------------------------------------------------------------
# Child: one measurement in a fresh process
# ----------------------------------------------------------------------
def _status(key):
    """A number of /proc/self/status (kB for the memory figures)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {key} in /proc/self/status")


def measure(fn):
    """Run ``fn()``; return its result, the peak RSS it added and its seconds."""
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    base = _status("VmRSS") * 1024
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    return result, _status("VmHWM") * 1024 - base, seconds


def release(X):
    """Drop the pages of memmap ``X`` from this process (they stay cached)."""
    X._mmap.madvise(mmap.MADV_DONTNEED)


def held_out_errors(ae, path):
    X = np.load(path)
    # The squared error in the units the network sees (standardised).
    std = np.mean(ae.feature_errors(X), dtype=np.float64)
    raw = np.mean((ae.inverse_transform(ae.transform(X)) - X) ** 2, dtype=np.float64)
    return {"mse_std": float(std), "mse_raw": float(raw)}


def child(spec):
    import torch

    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    from skae import AutoEncoderTransformer

    kind = spec["kind"]
    out = {}
    if kind in ("fit", "fit_stream", "fit_full"):
        X = np.load(spec["data"])
        params = dict(max_epochs=spec["epochs"], random_state=0)
        if kind == "fit_stream":
            params["stream_data"] = True
        if kind == "fit_full":
            params["early_stopping"] = False
        AutoEncoderTransformer(**params).fit(X[:WARMUP_ROWS].copy())
        ae, extra, seconds = measure(lambda: AutoEncoderTransformer(**params).fit(X))
        if kind == "fit_full":
            out.update(held_out_errors(ae, spec["test"]))
    elif kind in ("transform", "score_samples", "detector", "detector_features"):
        X = np.load(spec["data"])
        with open(spec["model"], "rb") as f:
            model = pickle.load(f)
        method = getattr(model, {"detector": "score_samples",
                                 "detector_features": "feature_errors"}.get(kind, kind))
        method(X[:WARMUP_ROWS].copy())
        result, extra, seconds = measure(lambda: method(X))
        out["output_mb"] = result.nbytes / MB
    elif kind in ("partial_fit", "partial_fit_mapped"):
        X = np.load(spec["data"], mmap_mode="r")
        chunk, drop = spec["chunk"], kind == "partial_fit"
        AutoEncoderTransformer(random_state=0).partial_fit(np.array(X[:WARMUP_ROWS]))
        release(X)

        def loop():
            ae = AutoEncoderTransformer(random_state=0)
            for _ in range(spec["epochs"]):
                for start in range(0, len(X), chunk):
                    ae.partial_fit(X[start : start + chunk])
                    if drop:
                        release(X)
            return ae

        ae, extra, seconds = measure(loop)
        out["model_mb"] = len(pickle.dumps(ae)) / MB
        if drop:
            out.update(held_out_errors(ae, spec["test"]))
    else:
        raise ValueError(f"unknown child kind {kind!r}")
    out.update(extra_mb=extra / MB, seconds=seconds)
    return out


def serve():
    """The hidden ``--child`` mode: import the libraries once, then for each
    spec read from stdin (a JSON line) fork a fresh process that makes the
    measurement, and write its result (a JSON line) to stdout.

    This process only imports (one thread, no torch computation, so forking
    it is safe); each measurement gets a process of its own with its own
    heap and peak counter, without paying the ~3 s import each time.
    """
    import sklearn.utils  # noqa: F401
    import skorch  # noqa: F401
    import torch
    import torch._dynamo  # noqa: F401  (imported lazily by the first optimizer step)

    import skae  # noqa: F401

    # jemalloc's background purging thread (started by the allocator, not by
    # a library's pool) is fork-safe: jemalloc re-creates it in the child.
    threads = [
        open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task")
    ]
    if len([name for name in threads if name != "jemalloc_bg_thd"]) != 1:
        sys.exit(f"memory.py --child: {_status('Threads')} threads after the imports; "
                 "forking needs one.")
    for line in sys.stdin:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the fresh measuring process
            os.close(read)
            code = 1
            try:
                with os.fdopen(write, "w") as f:
                    f.write(json.dumps(child(json.loads(line))))
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(code)
        os.close(write)
        with os.fdopen(read) as f:
            result = f.read()
        _, status = os.waitpid(pid, 0)
        ok = os.waitstatus_to_exitcode(status) == 0
        print(json.dumps({"ok": ok, "result": json.loads(result) if ok else None}),
              flush=True)


class Children:
    """The parent's handle on the ``--child`` process: ``run(**spec)``
    returns the result of one measurement, made in a fresh process."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--child"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            # The server must stay single-threaded to be forked safely:
            # OpenMP would otherwise start its pool at import. Each
            # measurement sets its own torch thread count after the fork.
            # pyarrow (imported by pandas, which scikit-learn imports when
            # it is installed, as the dask extra does) starts a jemalloc
            # background thread at import unless told not to.
            env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                 "JE_ARROW_MALLOC_CONF": "background_thread:false"},
        )

    def run(self, **spec):
        self.proc.stdin.write(json.dumps(spec) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"memory.py --child exited (code {self.proc.wait()})")
        answer = json.loads(line)
        if not answer["ok"]:
            raise RuntimeError(f"measurement {spec['kind']!r} failed (traceback above)")
        return answer["result"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


# ----------------------------------------------------------------------
# Parent
# ----------------------------------------------------------------------
class Report:
    """Print lines as they come and keep them for ``--out``."""

    def __init__(self):
        self.lines = []

    def __call__(self, line=""):
        print(line, flush=True)
        self.lines.append(line)


def verdict(ok):
    return "PASS" if ok else "MISS"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-fit", type=int, default=100_000,
                        help="rows of the fits and of the fitted model (default 100000)")
    parser.add_argument("--n-predict", type=int, default=1_000_000,
                        help="rows transformed and scored (default 1000000)")
    parser.add_argument("--n-stream", type=int, default=2_000_000,
                        help="rows of the memmap streamed by partial_fit (default 2000000)")
    parser.add_argument("--chunk", type=int, default=100_000,
                        help="rows per partial_fit call (default 100000)")
    parser.add_argument("--n-test", type=int, default=100_000,
                        help="held-out rows of the streaming comparison (default 100000)")
    parser.add_argument("--epochs", type=int, default=3,
                        help="passes over the streamed rows, for fit and partial_fit (default 3)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--tmpdir", default=None,
                        help="folder for the temporary data files (default: the system's)")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help="file that receives the printed output")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        serve()
        return
    if not Path("/proc/self/clear_refs").exists():
        sys.exit("benchmarks/memory.py measures RSS through /proc: Linux only.")
    started = time.perf_counter()
    children = Children()  # imports while this process writes the data
    try:
        report = measure_all(args, argv, children)
    finally:
        children.close()
    report(f"total {time.perf_counter() - started:.0f} s")
    if args.out:
        Path(args.out).write_text("\n".join(report.lines) + "\n")


def measure_all(args, argv, children):
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from skae import AEOutlierDetector, AutoEncoderTransformer

    command = sys.argv[1:] if argv is None else list(argv)
    report = Report()
    report("$ python benchmarks/memory.py " + shlex.join(command))
    report(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
           f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
           f"float32 data, {N_FEATURES} features; MB = 10^6 bytes")
    report("Peak extra RSS of one call, each in a fresh process (VmHWM minus VmRSS "
           "after loading data and model")
    report(f"and a {WARMUP_ROWS:,}-row warm-up call, so torch's one-time "
           "initialisation is not counted)")
    run_child = children.run
    common = {"threads": args.threads}
    mixing = make_mixing()
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        tmp = Path(tmp)
        files = {}
        for seed, (name, n) in enumerate(
            [("fit", args.n_fit), ("predict", args.n_predict), ("stream", args.n_stream),
             ("test", args.n_test)], start=1,
        ):
            files[name] = str(tmp / f"{name}.npy")
            write_data(files[name], n, seed, mixing)
        # The model and detector whose predictions are measured.
        X_fit = np.load(files["fit"])
        for name, est in [
            ("model", AutoEncoderTransformer(max_epochs=FIT_EPOCHS, random_state=0)),
            ("detector", AEOutlierDetector(random_state=0)),
        ]:
            files[name] = str(tmp / f"{name}.pkl")
            with open(files[name], "wb") as f:
                pickle.dump(est.fit(X_fit), f)
        del X_fit

        header = (f"{'measurement':40} {'rows':>9} {'input MB':>8} {'output MB':>9} "
                  f"{'extra MB':>8} {'x input':>7} {'target MB':>9} {'result':>6} {'s':>6}")
        report(header)

        def row(label, n, input_mb, res, target_mb, output_mb=None):
            extra = res["extra_mb"]
            out = "-" if output_mb is None else f"{output_mb:.1f}"
            report(f"{label:40} {n:>9,} {input_mb:8.1f} {out:>9} {extra:8.1f} "
                   f"{extra / input_mb:7.2f} {target_mb:9.1f} "
                   f"{verdict(extra <= target_mb):>6} {res['seconds']:6.1f}")

        fit_mb = args.n_fit * N_FEATURES * 4 / MB
        for kind, label in [("fit", "fit"), ("fit_stream", "fit, stream_data=True")]:
            res = run_child(kind=kind, data=files["fit"], epochs=FIT_EPOCHS, **common)
            row(f"{label} ({FIT_EPOCHS} epochs)", args.n_fit, fit_mb, res, 1.5 * fit_mb)

        predict_mb = args.n_predict * N_FEATURES * 4 / MB
        for kind, label, model in [
            ("transform", "transform", "model"),
            ("score_samples", "score_samples", "model"),
            ("detector", "AEOutlierDetector.score_samples", "detector"),
            ("detector_features", "AEOutlierDetector.feature_errors", "detector"),
        ]:
            res = run_child(kind=kind, data=files["predict"], model=files[model], **common)
            out_mb = res["output_mb"]
            row(label, args.n_predict, predict_mb, res, PREDICT_TARGET_MB + out_mb, out_mb)

        stream_mb = args.n_stream * N_FEATURES * 4 / MB
        chunk_mb = min(args.chunk, args.n_stream) * N_FEATURES * 4 / MB
        full = run_child(kind="fit_full", data=files["stream"], test=files["test"],
                         epochs=args.epochs, **common)
        row(f"fit in memory ({args.epochs} epochs)", args.n_stream, stream_mb, full,
            1.5 * stream_mb)
        stream = run_child(kind="partial_fit", data=files["stream"], test=files["test"],
                           chunk=args.chunk, epochs=args.epochs, **common)
        model_mb = stream["model_mb"]
        row(f"partial_fit on memmap ({args.epochs} passes)", args.n_stream, stream_mb, stream,
            2 * chunk_mb + model_mb)
        mapped = run_child(kind="partial_fit_mapped", data=files["stream"],
                           chunk=args.chunk, epochs=1, **common)
        row("  same, pages left mapped (1 pass)", args.n_stream, stream_mb, mapped,
            2 * chunk_mb + model_mb)

    report()
    report("Targets: fit 1.5 x input; predictions 64 MB + output; partial_fit "
           f"2 x chunk ({args.chunk} rows = {chunk_mb:.1f} MB) + model "
           f"({model_mb:.1f} MB pickled).")
    report("partial_fit reads each chunk of the read-only memmap and then drops its "
           "mapped pages (madvise")
    report("MADV_DONTNEED; they stay in the page cache); the last row reads without "
           "dropping them: the")
    report("kernel keeps every page read mapped and counted in RSS (file-backed, "
           "reclaimable).")
    report()
    report(f"Streaming: {args.n_stream} rows, partial_fit on chunks of {args.chunk} from "
           f"the memmap ({args.epochs} passes) against")
    report(f"fit on the rows in memory ({args.epochs} epochs, early_stopping=False), "
           "both AutoEncoderTransformer(random_state=0);")
    report(f"mean squared error on {args.n_test} held-out rows (std: each model's "
           "standardised units; raw: data units)")
    report(f"{'method':24} {'MSE std':>9} {'MSE raw':>9} {'s':>7}")
    for label, res in [("fit", full), ("partial_fit", stream)]:
        report(f"{label:24} {res['mse_std']:9.5f} {res['mse_raw']:9.5f} "
               f"{res['seconds']:7.1f}")
    ratio_std = stream["mse_std"] / full["mse_std"]
    ratio_raw = stream["mse_raw"] / full["mse_raw"]
    report(f"{'ratio partial_fit/fit':24} {ratio_std:9.3f} {ratio_raw:9.3f}"
           f"   target <= 1.05: std {verdict(ratio_std <= 1.05)}, "
           f"raw {verdict(ratio_raw <= 1.05)}")
    report()
    return report


if __name__ == "__main__":
    main()
