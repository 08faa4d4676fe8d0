"""Tests of the ADBench benchmark script on tiny synthetic datasets.

The figures quoted in the docs come from ``benchmarks/outliers.py``; these
tests check that it follows its protocol and prints what the docs quote,
without the real data (which a user's clone does not have).
"""

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "outliers.py"


@pytest.fixture(scope="module")
def outliers():
    spec = importlib.util.spec_from_file_location("bench_outliers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def adbench_dir(tmp_path):
    """Two ADBench-style files: Gaussian inliers and shifted anomalies, and
    one file over the row limit used below."""
    rng = np.random.default_rng(0)
    for i, (name, n) in enumerate([("tiny", 120), ("small", 200), ("big", 400)]):
        X = rng.normal(size=(n, 5))
        y = np.zeros(n, dtype=int)
        y[: n // 10] = 1
        X[y == 1] += 4.0
        np.savez(tmp_path / f"{i}_{name}.npz", X=X, y=y)
    return tmp_path


def test_rows_summary_and_resume(outliers, adbench_dir, tmp_path, capsys):
    """Check one CSV row per (dataset, method, seed) with the protocol's
    columns, the summary columns, the row limit, and that a second run
    resumes from --out instead of recomputing."""
    out = tmp_path / "rows.csv"
    argv = [str(adbench_dir), "--methods", "AE,IForest", "--seeds", "0,1",
            "--max-rows", "300", "--out", str(out)]
    outliers.main(argv)
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert {(r["dataset"], r["method"], r["seed"]) for r in rows} == {
        (d, m, s) for d in ("tiny", "small") for m in ("AE", "IForest") for s in "01"
    }
    assert list(rows[0]) == outliers.FIELDS
    # 70/30 stratified split: 70% of the rows train
    assert {int(r["n_train"]) for r in rows if r["dataset"] == "small"} == {140}
    # shifted anomalies are easy: both methods rank them almost perfectly
    assert min(float(r["roc_auc"]) for r in rows) > 0.9
    printed = capsys.readouterr().out
    for column in ("mean_roc_auc", "mean_rank", "total_fit_s", "above_iforest",
                   "Mean ROC-AUC per seed"):
        assert column in printed

    outliers.main(argv)  # everything is in --out already
    with open(out) as f:
        assert len(list(csv.DictReader(f))) == len(rows)


def test_large_runs_each_fit_in_a_subprocess_with_memory_and_timeout(
    outliers, adbench_dir, tmp_path, capsys
):
    """Check --large: one row per fit, made in a subprocess, with its peak
    memory and the data's float32 size; a baseline over --timeout is killed
    and marked "timeout", while a skae method has no limit."""
    out = tmp_path / "large.csv"
    outliers.main([str(adbench_dir), "--large", "--datasets", "tiny", "--methods",
                   "IForest,AE", "--timeout", "0.01", "--out", str(out)])
    with open(out) as f:
        rows = {r["method"]: r for r in csv.DictReader(f)}
    assert rows["IForest"]["status"] == "timeout"
    assert rows["IForest"]["fit_s"] == ">0.01"
    ae = rows["AE"]
    assert ae["status"] == "ok" and int(ae["n_train"]) == 84
    assert float(ae["roc_auc"]) > 0.9
    # the child's whole peak includes torch; the fit's own peak is above zero
    assert float(ae["peak_rss_mb"]) > 100 > float(ae["fit_rss_mb"]) >= 0
    assert float(ae["data_f32_mb"]) == round(120 * 5 * 4 / 2**20, 1)
    printed = capsys.readouterr().out
    assert "Finished sets per method" in printed
    assert outliers.LARGE_DATASETS[:3] == ["cover", "donors", "http"]


def test_summary_counts_datasets_above_iforest(outliers, capsys):
    """Check the summary's means, ranks and above-IsolationForest counts on
    hand-made rows."""
    rows = [
        dict(dataset=d, method=m, seed=s, roc_auc=auc, average_precision=0.5,
             fit_s=1.0, score_s=0.1)
        for d, aucs in {"a": (0.9, 0.8), "b": (0.6, 0.7)}.items()
        for m, auc in zip(("AE", "IForest"), aucs)
        for s in (0, 1)
    ]
    table = outliers.summarize(rows)
    assert table.loc["AE", "mean_roc_auc"] == pytest.approx(0.75)
    assert table.loc["AE", "above_iforest"] == 1
    assert table.loc["AE", "mean_rank"] == pytest.approx(1.5)
    assert table.loc["AE", "total_fit_s"] == pytest.approx(4.0)


def test_variants_override_detector_and_autoencoder_defaults(outliers):
    """Check that AE[...] variants, used to compare a default with its
    alternatives, set the named parameters and keep the other defaults."""
    from skae.outlier import _default_params

    assert outliers.split_methods("AE,AE[loss=mse;clip=2],IForest") == [
        "AE", "AE[loss=mse;clip=2]", "IForest"
    ]
    det = outliers._skae_estimator(None, loss="mse", clip=2)(n_features=10, seed=0)
    assert det.clip == 2
    params = det.estimator.get_params()
    assert params["loss"] == "mse"
    for key, value in _default_params(10).items():
        if key != "loss":
            assert params[key] == value
    # detector-only overrides keep the detector's own default estimator
    assert outliers._skae_estimator(None, clip=0.5)(10, 0).estimator is None
    with pytest.raises(ValueError, match="only skae methods"):
        outliers.resolve_method("IForest[n_estimators=10]")
    with pytest.raises(ValueError, match="unknown method 'XYZ'"):
        outliers.resolve_method("XYZ")


MEMORY_SCRIPT = SCRIPT.parent / "memory.py"


def test_memory_script_prints_a_row_per_measurement(tmp_path, capsys):
    """Run benchmarks/memory.py on tiny sizes: check that it prints a row with
    a verdict for every measurement and the streaming comparison, writes the
    same output (command first) to --out, and removes its data files."""
    spec = importlib.util.spec_from_file_location("bench_memory", MEMORY_SCRIPT)
    memory = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(memory)
    out = tmp_path / "memory.txt"
    data = tmp_path / "data"
    data.mkdir()
    argv = ["--n-fit", "2000", "--n-predict", "5000", "--n-stream", "20000",
            "--chunk", "5000", "--n-test", "2000", "--epochs", "1", "--threads", "1",
            "--tmpdir", str(data), "--out", str(out)]
    memory.main(argv)
    printed = capsys.readouterr().out
    assert out.read_text() == printed
    lines = printed.splitlines()
    assert lines[0] == "$ python benchmarks/memory.py " + " ".join(argv)
    rows = {}
    for label in ("fit (2 epochs)", "fit, stream_data=True (2 epochs)", "transform",
                  "score_samples", "AEOutlierDetector.score_samples",
                  "AEOutlierDetector.feature_errors", "fit in memory (1 epochs)", "partial_fit on memmap (1 passes)",
                  "  same, pages left mapped (1 pass)"):
        matches = [line for line in lines if line.startswith(label + " ")]
        assert len(matches) == 1, label
        rows[label] = matches[0].split()
        assert rows[label][-2] in ("PASS", "MISS")
    # predictions of a few thousand rows stay far below 64 MB
    for label in ("transform", "score_samples", "AEOutlierDetector.score_samples",
                  "AEOutlierDetector.feature_errors"):
        assert rows[label][-2] == "PASS"
    ratio = next(line for line in lines if line.startswith("ratio partial_fit/fit"))
    assert "target <= 1.05" in ratio
    assert not any(data.iterdir())


FOOTPRINT_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "footprint.py"


def test_footprint_script_prints_pickle_sizes_and_latencies(tmp_path, capsys):
    """Run benchmarks/footprint.py on tiny sizes: a pickle size per n that
    does not grow with n, and a latency row per method."""
    spec = importlib.util.spec_from_file_location("bench_footprint", FOOTPRINT_SCRIPT)
    footprint = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(footprint)
    out = tmp_path / "footprint.txt"
    argv = ["--sizes", "200,2000", "--calls", "5", "--max-epochs", "2", "--out", str(out)]
    footprint.main(argv)
    printed = capsys.readouterr().out
    assert out.read_text() == printed
    lines = printed.splitlines()
    sizes = [line.split() for line in lines if line.startswith("AutoEncoderTransformer ")]
    assert [row[1] for row in sizes] == ["200", "2,000"]
    small, large = (float(row[2]) for row in sizes)
    assert abs(large - small) < 0.05 * small
    for label in ("skae float32", "skae float64", "PCA float64"):
        assert sum(line.startswith(label) for line in lines) == 1, label


IMAGES_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "images.py"


def test_images_script_prints_every_comparison(tmp_path, capsys):
    """Run benchmarks/images.py --quick on synthetic MNIST-format files:
    check a row per model, a verdict per target, and that --out gets the
    printed output with the command first."""
    import gzip

    rng = np.random.default_rng(0)
    n = 500
    labels = np.repeat(np.arange(10, dtype=np.uint8), n // 10)
    images = np.zeros((n, 28, 28), np.uint8)
    for i, label in enumerate(labels):  # a bright bar whose place is the digit
        images[i, 4 + 2 * label : 7 + 2 * label, 4:24] = 255
    images = np.maximum(images, rng.integers(0, 40, images.shape, dtype=np.uint8))
    mnist = tmp_path / "mnist"
    mnist.mkdir()
    with gzip.open(mnist / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(bytes(16) + images.tobytes())
    with gzip.open(mnist / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(bytes(8) + labels.tobytes())

    spec = importlib.util.spec_from_file_location("bench_images", IMAGES_SCRIPT)
    images_script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(images_script)
    out = tmp_path / "images.txt"
    argv = [str(tmp_path), "--quick", "--threads", "1", "--out", str(out)]
    images_script.main(argv)
    printed = capsys.readouterr().out
    assert out.read_text() == printed
    lines = printed.splitlines()
    assert lines[0] == "$ python benchmarks/images.py " + " ".join(argv)
    assert "300 train / 100 test" in lines[1]
    for label, count in (("ConvNet AE ", 2), ("MLP AE ", 2), ("ConvNet VAE ", 1),
                         ("MLP VAE ", 1), ("ConvNet DAE ", 1), ("MLP DAE ", 1),
                         ("bare PyTorch ", 1), ("skae ", 1)):
        assert sum(line.startswith(label) for line in lines) == count, label
    targets = [line for line in lines if line.startswith("target")]
    assert len(targets) == 7
    assert all(line.split()[-1] in ("PASS", "MISS") for line in targets)
    assert any(line.startswith("Keras tutorial") and "0.094" in line for line in lines)
