"""Training through Hugging Face accelerate (skorch's AccelerateMixin), in
one CPU process; and the data-parallel sharding of the batches that
several processes (``accelerate launch``) train on."""

import math
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone

import skae
from skae import AutoEncoderTransformer, ContractiveAE, DenoisingAE, VAETransformer
from skae._data import ArrayDataset, BatchIterator
from skae._net import _AENet

FAST = dict(n_components=2, hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
ESTIMATORS = [
    AutoEncoderTransformer(**FAST),
    DenoisingAE(**FAST, n_noise_samples=2),
    ContractiveAE(**FAST),
    VAETransformer(**FAST, n_importance_samples=4),
]
IDS = ["ae", "dae", "cae", "vae"]


# ----------------------------------------------------------------------
# Sharding (no accelerate needed)
# ----------------------------------------------------------------------
@pytest.mark.parametrize("n, replicas", [(10, 3), (9, 3), (2, 3)])
def test_shards_partition_the_shuffled_rows_with_equal_batch_counts(n, replicas):
    """Check that the shards of the processes hold every row of the epoch's
    order, each once, plus as many of its first rows as make the shards
    equal (as torch's DistributedSampler pads), and give every process as
    many batches (a process with fewer would leave the others waiting)."""
    X = np.arange(n, dtype=np.float32)[:, None]
    shards = []
    for rank in range(replicas):
        it = BatchIterator(
            ArrayDataset(X), batch_size=2, shuffle=True, rng=np.random.default_rng(5),
            num_replicas=replicas, rank=rank,
        )
        batches = [xb[:, 0].numpy().astype(int) for xb, _ in it]
        assert len(batches) == len(it) == math.ceil(math.ceil(n / replicas) / 2)
        shards.append(np.concatenate(batches))
    order = np.random.default_rng(5).permutation(n)
    padded = np.resize(order, len(shards[0]) * replicas)
    for rank, shard in enumerate(shards):
        assert sorted(shard) == sorted(padded[rank::replicas])
    rows = np.concatenate(shards)
    assert set(rows) == set(range(n))
    assert len(rows) - n < replicas


def test_one_replica_iterates_as_before():
    """Check that num_replicas=1 gives the batches of the plain iterator."""
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    plain = BatchIterator(ArrayDataset(X), batch_size=4, shuffle=True, rng=np.random.default_rng(0))
    one = BatchIterator(ArrayDataset(X), batch_size=4, shuffle=True, rng=np.random.default_rng(0),
                        num_replicas=1, rank=0)
    for (a, _), (b, _) in zip(plain, one):
        assert torch.equal(a, b)


# ----------------------------------------------------------------------
# Accelerated fits in one process
# ----------------------------------------------------------------------
try:
    import accelerate
except ImportError:  # the sharding tests above run without it
    accelerate = None
needs_accelerate = pytest.mark.skipif(
    accelerate is None,
    reason="the accelerate extra is not installed (pip install 'skae[accelerate]')",
)


def _counting_accelerator():
    """An accelerator on the CPU that counts the losses it backpropagates."""

    class Counting(accelerate.Accelerator):
        n_backward = 0

        def backward(self, loss, **kwargs):
            self.n_backward += 1
            return super().backward(loss, **kwargs)

    return Counting(cpu=True)


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    return (np.tanh(rng.normal(size=(200, 2)) @ rng.normal(size=(2, 6)))
            + 0.1 * rng.normal(size=(200, 6))).astype(np.float32)


@needs_accelerate
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_accelerated_fit_in_one_process_is_the_plain_fit(estimator, X):
    """Check that a fit through the accelerator backpropagates every batch
    through it and, in one CPU process (no data parallelism, no mixed
    precision), trains the very model of a plain fit; so do partial_fit and
    warm_start fits after it."""
    acc = _counting_accelerator()
    est = clone(estimator).set_params(accelerator=acc, validation_fraction=None,
                                      early_stopping=False).fit(X)
    ref = clone(estimator).set_params(validation_fraction=None, early_stopping=False).fit(X)
    assert acc.n_backward == est.n_epochs_ * -(-len(X) // est.batch_size)
    np.testing.assert_array_equal(est.transform(X), ref.transform(X))
    np.testing.assert_array_equal(est.score_samples(X), ref.score_samples(X))

    est.partial_fit(X)
    ref.partial_fit(X)
    np.testing.assert_array_equal(est.transform(X), ref.transform(X))
    est.set_params(warm_start=True).fit(X)
    ref.set_params(warm_start=True).fit(X)
    np.testing.assert_array_equal(est.transform(X), ref.transform(X))
    assert acc.n_backward == (2 * est.max_epochs + 1) * -(-len(X) // est.batch_size)


@needs_accelerate
def test_early_stopping_and_validation_work_through_the_accelerator(X):
    """Check that the validation loss (gathered through the accelerator)
    and early stopping give what they give without it."""
    params = dict(FAST, max_epochs=30, n_iter_no_change=2, tol=0.5)
    est = AutoEncoderTransformer(**params, accelerator=accelerate.Accelerator(cpu=True)).fit(X)
    ref = AutoEncoderTransformer(**params).fit(X)
    assert est.n_epochs_ == ref.n_epochs_ < 30
    np.testing.assert_allclose(est.history_[:, "valid_loss"], ref.history_[:, "valid_loss"])


@needs_accelerate
def test_accelerated_model_pickles_without_the_accelerator_and_predicts_on_cpu(X):
    """Check that the fitted net is the plain skorch net (no accelerator,
    no wrapped optimizer or accelerate marks, so a later accelerated fit
    prepares it again), that it pickles without accelerate, and that the
    unpickled model predicts on the CPU what the fitted one does."""
    est = AutoEncoderTransformer(**FAST, accelerator=accelerate.Accelerator(cpu=True)).fit(X)
    assert type(est.net_) is _AENet
    assert type(est.net_.optimizer_) is torch.optim.Adam
    assert est.net_.device == "cpu"
    payload = pickle.dumps(est.net_)
    assert b"accelerate" not in payload
    net = pickle.loads(payload)
    with torch.no_grad():
        codes = net.module_.encode(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(codes, est.transform(X), rtol=1e-6)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


@needs_accelerate
def test_gradient_accumulation_of_the_accelerator_takes_effect(X):
    """Check that the accelerator's settings are used: accumulating the
    gradients of two batches per step changes the trained model."""
    acc = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2)
    est = AutoEncoderTransformer(**FAST, accelerator=acc).fit(X)
    ref = AutoEncoderTransformer(**FAST).fit(X)
    assert not np.allclose(est.transform(X), ref.transform(X))


def test_accelerator_must_be_an_accelerator(X):
    """Check that something else than an Accelerator is refused clearly."""
    with pytest.raises(ValueError, match="'accelerator' parameter of AutoEncoderTransformer"):
        AutoEncoderTransformer(**FAST, accelerator="cuda").fit(X)


_TWO_PROCESSES = """
import hashlib, os
import numpy as np, torch
from accelerate import Accelerator
from skae import AutoEncoderTransformer

torch.set_num_threads(1)
calls = []
class Counting(Accelerator):
    def backward(self, loss, **kwargs):
        calls.append(1)
        return super().backward(loss, **kwargs)

acc = Counting(cpu=True)
rng = np.random.default_rng(0)
X = rng.normal(size=(400, 5)).astype(np.float32)
ae = AutoEncoderTransformer(2, hidden_layer_sizes=(8,), max_epochs=2, batch_size=50,
                            early_stopping=False, accelerator=acc).fit(X)
ae.partial_fit(X)
weights = b"".join(p.detach().numpy().tobytes() for p in ae.net_.module_.parameters())
line = " ".join(str(v) for v in ("RANK", acc.process_index, acc.num_processes, len(calls),
                hashlib.sha1(weights).hexdigest(), type(ae.net_).__name__, ae.net_.device))
os.write(1, (line + "\\n").encode())  # one write: the two processes share stdout
"""


@needs_accelerate
def test_two_processes_train_one_model_on_half_the_batches_each(tmp_path):
    """Check data parallelism with two CPU processes (torchrun, as
    ``accelerate launch`` starts them on GPUs): each process backpropagates
    half the batches of every epoch, and both end with the same weights
    (gradients averaged at each step, seeds shared: random_state=None),
    also after a partial_fit, which prepares the fitted net again."""
    script = tmp_path / "train.py"
    script.write_text(_TWO_PROCESSES)
    root = str(Path(skae.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    launcher = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         "--standalone", str(script)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
        start_new_session=True,
    )
    try:
        stdout, stderr = launcher.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)  # the launcher and its two workers
        stdout, stderr = launcher.communicate()
    ranks = [line.split()[1:] for line in stdout.splitlines() if line.startswith("RANK")]
    assert launcher.returncode == 0 and len(ranks) == 2, stderr[-3000:]
    # 400 rows, 200 per process: 4 batches of 50 per epoch, 3 epochs
    assert sorted(r[0] for r in ranks) == ["0", "1"]
    assert all(r[1:3] == ["2", "12"] for r in ranks)
    assert ranks[0][3] == ranks[1][3]
    assert all(r[4:] == ["_AENet", "cpu"] for r in ranks)
