"""The data path of a fit: datasets of arrays, batches as tuples of tensors.

A fit's data stay where they are (NumPy arrays or read-only memmaps in host
memory) or sit on the device as one tensor; either way a batch is gathered
row by row index, moved to the device on its own and, for training, passed
through an optional per-batch transform (the denoising corruption). No
full-size copy is made for shuffling or for the validation split, so the
peak extra memory of a fit is the float32 copy of the data when the device
holds them (none on CPU for float32 input), and one batch when streaming.
"""

import math
import warnings

import numpy as np
import torch


def _take(A, idx):
    """Rows ``idx`` (a slice, an index array or an index tensor) of ``A``."""
    if A is None:
        return None
    if isinstance(A, dict):
        return {key: _take(value, idx) for key, value in A.items()}
    if isinstance(A, torch.Tensor) and not isinstance(idx, slice):
        return A.index_select(0, idx)
    return A[idx]


def _to_device(A, device):
    """A batch as tensors on ``device``: floats as float32, integers as int64."""
    if A is None:
        return None
    if isinstance(A, dict):
        return {key: _to_device(value, device) for key, value in A.items()}
    if isinstance(A, torch.Tensor):
        return A.to(device)
    A = np.asarray(A)
    dtype = np.float32 if A.dtype.kind in "fc" else np.int64 if A.dtype.kind in "biu" else None
    if dtype is None:
        raise TypeError(f"Cannot make a tensor of an array of dtype {A.dtype}.")
    if A.dtype != dtype or not A.flags.c_contiguous or not A.flags.writeable:
        # A copy of one batch: also what read-only arrays (memmaps, pandas
        # copy-on-write output) need, as torch refuses to share them.
        A = np.array(A, dtype=dtype, order="C")
    return torch.from_numpy(A).to(device)


def _length(A):
    if isinstance(A, dict):
        return len(next(iter(A.values())))
    return len(A)


class ArrayDataset(torch.utils.data.Dataset):
    """Inputs ``X`` (an array, a tensor, or a dict of them) and optional
    targets ``y``, restricted to the rows ``indices`` when given.

    Subsets share the arrays: the validation split copies nothing.

    Parameters
    ----------
    X : ndarray, Tensor or dict of them
        Inputs; a dict is passed to the module as keyword arguments.
    y : ndarray or Tensor, default=None
        Targets, passed to the criterion.
    indices : ndarray of int, default=None
        Rows of this dataset; None for all.
    """

    def __init__(self, X, y=None, indices=None):
        self.X = X
        self.y = y
        self.indices = indices

    def __len__(self):
        return _length(self.X) if self.indices is None else len(self.indices)

    def __getitem__(self, i):
        row = i if self.indices is None else int(self.indices[i])
        return _take(self.X, slice(row, row + 1)), _take(self.y, slice(row, row + 1))

    def subset(self, indices):
        """The dataset of rows ``indices`` (positions in this dataset)."""
        indices = np.asarray(indices, dtype=np.int64)
        if self.indices is not None:
            indices = self.indices[indices]
        return ArrayDataset(self.X, self.y, indices)


class BatchIterator:
    """Yield ``(X_batch, y_batch)`` from an :class:`ArrayDataset`, on ``device``.

    Batches are gathered by index (sliced when the order is the natural
    one), so that shuffling needs no copy of the data. With
    ``shuffle=True`` the rows are permuted at each epoch by ``rng``, a
    :class:`numpy.random.Generator` that lives for the whole fit.
    ``transform(X_batch)`` (the denoising corruption) may return a new
    batch: a tensor, or a dict of keyword arguments of the module.

    Parameters
    ----------
    dataset : ArrayDataset
    batch_size : int, default=128
    shuffle : bool, default=False
    rng : numpy.random.Generator, default=None
    transform : callable, default=None
    device : str or torch.device, default="cpu"
        Set by the net to its own device.
    num_replicas, rank : int, default=1, 0
        Data-parallel training: this process iterates over its share only,
        as with torch's ``DistributedSampler``. The (shuffled) order is
        padded to a multiple of ``num_replicas`` by repeating its first
        rows and each process takes every ``num_replicas``-th row from
        ``rank`` on, so that every process has as many batches (a process
        with fewer would leave the others waiting for its gradients). The
        processes must draw the same order: the same ``rng`` seed.
    """

    def __init__(self, dataset, batch_size=128, shuffle=False, rng=None, transform=None,
                 device="cpu", num_replicas=1, rank=0):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = rng
        self.transform = transform
        self.device = device
        self.num_replicas = num_replicas
        self.rank = rank

    def _n_rows(self):
        """Rows that this process iterates over."""
        return math.ceil(len(self.dataset) / self.num_replicas)

    def __len__(self):
        return math.ceil(self._n_rows() / self.batch_size)

    def __iter__(self):
        ds = self.dataset
        n, size = len(ds), self.batch_size
        order = ds.indices
        if self.shuffle:
            rng = self.rng if self.rng is not None else np.random.default_rng()
            perm = rng.permutation(n)
            order = perm if order is None else order[perm]
        if self.num_replicas > 1:
            if order is None:
                order = np.arange(n)
            order = np.resize(order, self._n_rows() * self.num_replicas)[self.rank :: self.num_replicas]
            n = len(order)
        first = ds.X if not isinstance(ds.X, dict) else next(iter(ds.X.values()))
        on_tensor = isinstance(first, torch.Tensor)
        if order is not None and on_tensor:
            order = torch.from_numpy(np.asarray(order, dtype=np.int64)).to(first.device)
        for start in range(0, n, size):
            if order is None:
                idx = slice(start, start + size)
            elif on_tensor:
                idx = order[start : start + size]
            else:
                # Sorted rows read a memmap in file order; a batch is a set.
                idx = np.sort(order[start : start + size])
            Xi = _to_device(_take(ds.X, idx), self.device)
            yi = _to_device(_take(ds.y, idx), self.device)
            if self.transform is not None:
                Xi = self.transform(Xi)
            yield Xi, yi


class ValidationSplit:
    """Hold out a random ``fraction`` of a dataset (skorch's ``train_split``).

    Holds only its parameters, so that a fitted net keeps no training rows.

    Parameters
    ----------
    fraction : float
        Share of the rows held out.
    seed : int
        Seed of the permutation.
    """

    def __init__(self, fraction, seed):
        self.fraction = fraction
        self.seed = seed

    def __call__(self, dataset, y=None, **fit_params):
        n = len(dataset)
        n_valid = int(math.floor(self.fraction * n))
        if n_valid < 1 or n - n_valid < 1:
            return dataset, None
        perm = np.random.default_rng(self.seed).permutation(n)
        return dataset.subset(np.sort(perm[n_valid:])), dataset.subset(np.sort(perm[:n_valid]))


def device_tensor(X, device):
    """``X`` (validated, 2-D float) as one float32 tensor on ``device``.

    On the CPU a C-contiguous float32 array (a read-only memmap too) is
    shared, not copied (nothing writes to it); anything else is copied once.
    """
    device = torch.device(device)
    if (
        device.type == "cpu"
        and isinstance(X, np.ndarray)
        and X.dtype == np.float32
        and X.flags.c_contiguous
    ):
        with warnings.catch_warnings():
            # A read-only array (a memmap) is shared all the same: the
            # training loop only reads it.
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            return torch.from_numpy(X)
    if isinstance(X, np.ndarray) and device.type == "cpu":
        return torch.from_numpy(np.array(X, dtype=np.float32, order="C"))
    out = torch.empty(X.shape, dtype=torch.float32, device=device)
    step = 65536
    for start in range(0, len(X), step):
        out[start : start + step] = _to_device(X[start : start + step], device)
    return out


def fits_on_device(X, device, share=0.5):
    """Whether the float32 copy of ``X`` takes at most ``share`` of the
    device's free memory (always True on the CPU, where the data already
    are)."""
    device = torch.device(device)
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return X.shape[0] * int(np.prod(X.shape[1:])) * 4 <= share * free
