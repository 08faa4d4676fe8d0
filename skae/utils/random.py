"""A :class:`torch.Generator` that survives pickling and copying."""

import torch


class TorchGenerator:
    """A seeded :class:`torch.Generator`, created lazily on the device asked.

    ``torch.Generator`` objects can be neither pickled nor deep-copied, yet
    the skae networks (and the per-batch transforms of the data path) must
    be, so that a fitted ``net_`` pickles and goes on training on its own.
    This holder keeps the seed and, when pickled or copied, the generator's
    state, so that a copy continues the same stream of draws.

    Parameters
    ----------
    seed : int
        Seed of the stream.

    Examples
    --------
    >>> import copy, torch
    >>> from skae.utils.random import TorchGenerator
    >>> g = TorchGenerator(0)
    >>> a = torch.rand(2, generator=g.get(torch.device("cpu")))
    >>> h = copy.deepcopy(g)
    >>> bool(torch.equal(torch.rand(2, generator=g.get("cpu")),
    ...                  torch.rand(2, generator=h.get("cpu"))))
    True
    """

    def __init__(self, seed):
        self.seed = int(seed)
        self._generator = None
        self._state = None

    def get(self, device):
        """The generator for ``device`` (created, or moved, on first use)."""
        device = torch.device(device)
        gen = self._generator
        if gen is not None and gen.device.type == device.type and (
            device.index is None or gen.device.index in (None, device.index)
        ):
            return gen
        gen = torch.Generator(device=device).manual_seed(self.seed)
        if self._state is not None and self._state[0] == device.type:
            gen.set_state(self._state[1])
        self._generator = gen
        return gen

    def __getstate__(self):
        state = self._state
        if self._generator is not None:
            state = (self._generator.device.type, self._generator.get_state())
        return {"seed": self.seed, "_state": state, "_generator": None}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self):
        return f"TorchGenerator(seed={self.seed})"
