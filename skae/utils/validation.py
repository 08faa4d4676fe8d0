"""Checks of parameters, devices and data shared by every estimator.

Parameter constraints use scikit-learn's own machinery so that messages read
exactly like scikit-learn's; it is private there, so it is imported in this
one place only.
"""

import numpy as np
import torch
from sklearn.utils._param_validation import (  # noqa: F401  (re-exported)
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)


def validate_params(estimator):
    """Check ``estimator``'s parameters against its ``_parameter_constraints``.

    Raises
    ------
    ValueError
        Naming the parameter, what it accepts and what it got.
    """
    validate_parameter_constraints(
        estimator._parameter_constraints,
        estimator.get_params(deep=False),
        caller_name=type(estimator).__name__,
    )


def check_device(device, caller_name="estimator"):
    """Resolve ``device`` to a :class:`torch.device` that is available here.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``..., or ``"auto"``:
        CUDA when available, then MPS, then the CPU.
    caller_name : str
        Used in error messages.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the string is not a device, or the device is not available on
        this machine.

    Examples
    --------
    >>> from skae.utils.validation import check_device
    >>> check_device("cpu")
    device(type='cpu')
    """
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"{caller_name}: device={device!r} is not a valid torch device "
            "(use 'cpu', 'cuda', 'cuda:1', 'mps', ...)."
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"{caller_name}: device={device!r} was requested but CUDA is not "
                "available on this machine; use device='cpu'."
            )
        index = 0 if dev.index is None else dev.index
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"{caller_name}: device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are available."
            )
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(
                f"{caller_name}: device={device!r} was requested but MPS is not "
                "available on this machine; use device='cpu'."
            )
    elif dev.type != "cpu":
        raise ValueError(
            f"{caller_name}: device={device!r} is not supported; use 'cpu', "
            "'cuda', 'cuda:<index>' or 'mps'."
        )
    return dev


#: Values this far outside [0, 1] are round-off, not data out of range.
_UNIT_TOL = 1e-6


def check_unit_interval(X, caller_name, reason, alternative):
    """Raise a ``ValueError`` unless every value of ``X`` lies in [0, 1].

    Values within 1e-6 of the interval pass: they are round-off (scikit-learn's
    ``MinMaxScaler`` gives ``1.0000000000000002``).

    Parameters
    ----------
    X : ndarray
        The data to check.
    caller_name : str
        Name of the estimator, to start the message.
    reason : str
        The setting that needs [0, 1], such as ``"loss='bce'"``.
    alternative : str
        The setting to use instead for real-valued data, such as
        ``"loss='mse'"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skae.utils.validation import check_unit_interval
    >>> check_unit_interval(np.array([[0.0, 2.0]]), "AE", "loss='bce'", "loss='mse'")
    Traceback (most recent call last):
    ...
    ValueError: AE: loss='bce' needs data in [0, 1], but X ranges from 0.0 to 2.0. Scale it first (e.g. MinMaxScaler) or use loss='mse' for real-valued data.
    """
    lo, hi = float(np.min(X)), float(np.max(X))
    # Round-off is allowed: MinMaxScaler gives 1.0000000000000002.
    if lo < -_UNIT_TOL or hi > 1.0 + _UNIT_TOL:
        raise ValueError(
            f"{caller_name}: {reason} needs data in [0, 1], but X ranges from "
            f"{lo} to {hi}. Scale it first (e.g. MinMaxScaler) or use "
            f"{alternative} for real-valued data."
        )


def flatten_images(X):
    """``(n, channels, height, width)`` (or any ``ndim > 2``) arrays as flat
    rows ``(n, channels * height * width)``, a view where possible; other
    input is returned as it is, for scikit-learn's validation.

    Examples
    --------
    >>> import numpy as np
    >>> from skae.utils.validation import flatten_images
    >>> flatten_images(np.zeros((5, 1, 4, 4))).shape
    (5, 16)
    """
    if isinstance(X, np.ndarray) and X.ndim > 2:
        return X.reshape(len(X), -1)
    return X
