"""Adversarial autoencoder as a scikit-learn transformer and generative model."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import PassthroughScoring
from skorch.dataset import unpack_data

from ._base import _BaseAE
from ._docstrings import fill_doc
from ._net import _AENet
from .losses import RECONSTRUCTION_LOSSES
from .modules.adversarial import AdversarialModel, Discriminator
from .priors import make_prior
from .utils.validation import HasMethods, Interval, StrOptions

#: Per-batch figures of the adversarial phases, averaged per epoch into
#: the history (``valid_`` ones on the validation split).
_ADVERSARIAL_SCORES = ("discriminator_loss", "generator_loss", "discriminator_accuracy")


class _AdversarialNet(_AENet):
    """The net of the adversarial models: two optimizers, one per network.

    The model's discriminators are registered as the net's second module,
    ``discriminator_`` (skorch moves it to the device and switches its
    training mode with the model). ``optimizer_`` trains the autoencoder
    (encoder and decoder), ``discriminator_optimizer_`` the discriminators
    at ``discriminator_lr``. Each batch costs one forward pass of the
    autoencoder: its codes give the reconstruction loss and the encoder's
    adversarial (generator) loss, whose weighted sum ``reconstruction +
    adversarial_weight / n_features * generator`` (the reconstruction loss
    is a mean per feature) takes one backward pass and one step
    of ``optimizer_`` (the paper's reconstruction and regularisation phases
    merged, as pythae's ``Adversarial_AE`` does); then the discriminators
    take their step on the same codes, detached, against prior draws.
    """

    #: Per-batch figures recorded besides ``train_loss``.
    _scores = _ADVERSARIAL_SCORES

    def __init__(self, module, *args, adversarial_weight=1.0, discriminator_lr=None, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.adversarial_weight = adversarial_weight
        self.discriminator_lr = discriminator_lr

    @property
    def _default_callbacks(self):
        callbacks = super()._default_callbacks
        extra = []
        for name in self._scores:
            # Accuracy is a diagnostic, neither better high nor low.
            better = None if name.endswith("accuracy") else True
            extra.append((name, PassthroughScoring(name, lower_is_better=better, on_train=True)))
            extra.append((f"valid_{name}", PassthroughScoring(f"valid_{name}", better)))
        return callbacks[:-1] + extra + callbacks[-1:]  # print_log last

    def initialize_module(self):
        super().initialize_module()
        self.discriminator_ = self.module_.discriminators
        return self

    def initialize_optimizer(self, *args, **kwargs):
        autoencoder = [
            (name, p) for name, p in self.module_.named_parameters()
            if not name.startswith("discriminators.")
        ]
        groups, kw = self.get_params_for_optimizer("optimizer", autoencoder)
        self.optimizer_ = self.optimizer(*groups, **kw)
        lr = kw.get("lr", self.lr)
        groups, kw = self.get_params_for_optimizer(
            "optimizer", self.discriminator_.named_parameters()
        )
        d_lr = lr if self.discriminator_lr is None else self.discriminator_lr
        self.discriminator_optimizer_ = self.optimizer(*groups, **{**kw, "lr": d_lr})
        return self

    def _record(self, prefix, disc, generator, terms):
        record = self.history.record_batch
        record(prefix + "discriminator_loss", disc.loss.sum().item())
        record(prefix + "discriminator_accuracy", disc.accuracy.mean().item())
        record(prefix + "generator_loss", generator.item())

    def _generator_weight(self, X):
        """Weight of the generator loss in the autoencoder's loss. The
        reconstruction loss is a mean per feature: ``adversarial_weight``,
        against the per-sample reconstruction loss (summed over the
        features), is divided by their number."""
        return self.adversarial_weight / X.shape[1]

    def _adversarial_loss(self, module, parts, generator):
        """The generator loss the encoder steps on: by default ``generator``
        (the mean over the batch of :meth:`generator_terms`, what the
        history records)."""
        return generator

    def _inputs(self, Xi):
        """The batch's data and the model's other inputs (keyword arguments
        of ``train_terms``)."""
        return Xi, {}

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        Xi, kwargs = self._inputs(unpack_data(batch)[0])
        module = self.module_
        terms, parts = module.train_terms(Xi, **kwargs)
        # 1. The autoencoder: reconstruction and, at the same codes, the
        # encoder as the discriminators' adversary, in one backward pass.
        generator = module.generator_terms(parts).mean()
        adversarial = self._adversarial_loss(module, parts, generator)
        loss = self.get_loss(terms, None, X=Xi, training=True)
        self.optimizer_.zero_grad()
        (loss + self._generator_weight(Xi) * adversarial).backward()
        self.optimizer_.step()
        # 2. The discriminators, on this batch's codes against prior draws
        # (zero_grad also drops what the generator's pass left on them).
        draws = module.prior_draws(len(Xi), Xi.device, Xi.dtype)
        disc = module.discriminator_terms(parts, draws)
        self.discriminator_optimizer_.zero_grad()
        disc.loss.sum().backward()
        self.discriminator_optimizer_.step()
        self._record("", disc, generator.detach(), terms)
        return {"loss": loss, "y_pred": terms}

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        Xi, kwargs = self._inputs(unpack_data(batch)[0])
        module = self.module_
        with torch.no_grad():
            terms, parts = module.train_terms(Xi, **kwargs)
            loss = self.get_loss(terms, None, X=Xi, training=False)
            draws = module.prior_draws(len(Xi), Xi.device, Xi.dtype)
            self._record("valid_", module.discriminator_terms(parts, draws),
                         module.generator_terms(parts).mean(), terms)
        return {"loss": loss, "y_pred": terms}


def _check_positive_int(value, name, caller):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{caller}: {name} must be a positive int, got {value!r}.")


class _AdversarialMixin:
    """What the adversarial estimators share: parameters, the net, sampling."""

    _parameter_constraints = {
        **_BaseAE._parameter_constraints,
        "loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
        "discriminator_hidden_layer_sizes": ["array-like"],
        "adversarial_weight": [Interval(Real, 0, None, closed="left")],
        "discriminator_lr": [Interval(Real, 0, None, closed="neither"), None],
    }

    def _discriminator(self, n_inputs, batch_mean=False):
        sizes = self.discriminator_hidden_layer_sizes
        try:
            sizes = tuple(sizes)
        except TypeError:
            sizes = (sizes,)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
            raise ValueError(
                f"{type(self).__name__}: discriminator_hidden_layer_sizes must be a "
                f"tuple of positive ints, got {self.discriminator_hidden_layer_sizes!r}."
            )
        return Discriminator(n_inputs, sizes, "relu", batch_mean)

    def _net_class(self):
        return _AdversarialNet

    def _net_params(self):
        return {
            "adversarial_weight": self.adversarial_weight,
            "discriminator_lr": self.discriminator_lr,
        }

    def _prior_codes(self, n_samples, random_state, caller):
        """``n_samples`` draws of each prior, seeded by ``random_state``,
        concatenated as the decoder reads them, float64 NumPy."""
        check_is_fitted(self)
        _check_positive_int(n_samples, "n_samples", caller)
        if random_state is None:
            seed = int(np.random.default_rng().integers(2**62))
        else:
            try:
                seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"{caller}: random_state must be None, an int in [0, 2**32 - 1] or "
                    f"a RandomState instance, got {random_state!r}."
                ) from exc
        generator = torch.Generator().manual_seed(seed)
        module = self.net_.module_
        draws = [p.sample(n_samples, generator).double() for p in module.priors]
        return torch.cat(draws, dim=1).numpy()


@fill_doc
class AdversarialAE(_AdversarialMixin, _BaseAE):
    """Adversarial autoencoder: codes shaped to any prior by a discriminator.

    An autoencoder (encoder ``h``, decoder ``g``, trained on the
    reconstruction loss ``L(x, g(h(x)))``) whose codes are pushed towards a
    chosen prior ``p(z)`` by an adversary [1]_: a discriminator ``D`` (an
    MLP on the codes) learns to tell codes ``h(x)`` from draws of ``p(z)``,
    and the encoder learns to fool it. The distribution of the codes then
    matches the prior, so that decoding prior draws generates data
    (:meth:`sample`) and the code space has the prior's shape: a Gaussian,
    a mixture of ``n_modes`` Gaussians, a uniform box, a swiss roll, or any
    distribution that can be sampled. Unlike the VAE's KL term, the prior is
    only ever sampled, never evaluated.

    Each batch takes one forward pass of the autoencoder and two steps:
    one of the autoencoder on ``L + adversarial_weight * (-log D(h(x)))``
    (the paper's reconstruction phase and the encoder's half of its
    regularisation phase, merged as in pythae), then one of the
    discriminator on the same codes; see the user guide.

    :meth:`transform` returns ``h(x)``, :meth:`inverse_transform` ``g(z)``,
    :meth:`sample` decodes prior draws and :meth:`score_samples` gives the
    reconstruction log-likelihood plus the prior's log-density of the code.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the code (2 for ``prior="swiss_roll"``).
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    activation : {"relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu"}, \
            default="relu"
        Hidden activation of the encoder and decoder. The code layer is
        linear: the codes can reach any part of the prior's support.
    %(architecture)s
    loss : {"mse", "mae", "bce"}, default="mse"
        Reconstruction loss: squared error, absolute error, or cross-entropy
        for data in [0, 1] (the decoder's output then goes through a
        sigmoid).
    prior : {"gaussian", "mixture", "uniform", "swiss_roll"} or object, \
            default="gaussian"
        The distribution the codes are matched to: ``N(0, I)``; an
        equal-weight mixture of ``n_modes`` Gaussians with their means on a
        circle of radius 4 (:class:`skae.priors.GaussianMixture`); uniform
        on ``[-2, 2]`` per coordinate; a 2-D swiss roll
        (:class:`skae.priors.SwissRoll`); or any object with a method
        ``sample(n, generator)`` that returns ``n`` codes (a tensor or array
        of shape ``(n, n_components)``) drawn with the
        :class:`torch.Generator` ``generator``, and optionally
        ``log_prob(z)``. Such an object must pickle for the model to.
    n_modes : int, default=10
        Number of modes of ``prior="mixture"``.
    discriminator_hidden_layer_sizes : tuple of int, default=(64, 64)
        Widths of the discriminator's hidden layers (ReLU).
    adversarial_weight : float, default=5.0
        Weight of the encoder's adversarial loss ``-log D(h(x))`` against
        the reconstruction loss summed over the features (the per-sample
        negative log-likelihood, as the VAE's KL term is weighed), so that
        the same value suits data of any width. Too high and the encoder
        chases the discriminator at the expense of the reconstruction (and
        the codes oscillate); too low and the codes keep the shape the
        reconstruction gives them. 0 trains a plain autoencoder (the
        discriminator still learns).
    discriminator_lr : float or None, default=None
        Learning rate of the discriminator; None means ``lr``.
    standardize : bool or "auto", default="auto"
        Standardise each feature before the network sees it. ``"auto"``
        means True for ``loss="mse"`` or ``"mae"`` and False for
        ``loss="bce"``.
    max_epochs : int, default=100
        Number of passes over the training data.
    batch_size : int, default=128
        Samples per step.
    lr : float, default=1e-3
        Learning rate of the autoencoder.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
            default="adam"
        The optimiser class, one instance for the autoencoder and one for
        the discriminator.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimisers.
    %(optimizer_params)s
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when
        its reconstruction loss has not improved by a relative ``tol`` for
        ``n_iter_no_change`` epochs, and restore the weights of the best
        epoch. Off by default: the reconstruction loss alone does not say
        whether the codes match the prior yet.
    %(validation_fraction)s
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum relative improvement of the validation loss.
    %(warm_start)s
    %(stream_data)s
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, or ``(name, callback)`` tuples. They are
        copied at each fit.
    %(device)s
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights (of the discriminator too), the
        validation split, the shuffling and the prior draws. The same value
        gives identical results on CPU.
    verbose : int, default=0
        1 prints skorch's per-epoch table: the reconstruction loss
        (``train_loss``), the discriminator's and the generator's losses,
        the discriminator's accuracy on its batches, their validation
        counterparts and the duration.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the
        :class:`~skae.modules.AdversarialModel` (its discriminator is
        ``net_.discriminator_``).
    history_ : skorch.History
        Per-epoch training record: ``train_loss`` (the reconstruction loss,
        mean per feature), ``discriminator_loss`` (``log 4 = 1.386`` when it
        cannot tell codes from prior draws), ``generator_loss`` (``log 2 =
        0.693`` then), ``discriminator_accuracy``, and with a validation
        split ``valid_loss`` (reconstruction) and ``valid_discriminator_loss``,
        ``valid_generator_loss``, ``valid_discriminator_accuracy``.
    n_epochs_ : int
        Number of epochs run.
    n_components_ : int
        Dimension of the code.
    noise_scale_ : float or None
        Noise scale of the likelihood behind :meth:`score_samples` (see
        :class:`~skae.AutoEncoderTransformer`); None for ``"bce"``.
    mean_ : ndarray of shape (n_features_in_,) or None
        Per-feature mean used for standardisation (None when off).
    scale_ : ndarray of shape (n_features_in_,) or None
        Per-feature standard deviation used for standardisation.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.mixture.GaussianMixture : A density model with ``sample``.
    VAETransformer : Codes pulled towards ``N(0, I)`` by a KL term, with a
        likelihood bound.
    AdversarialClustering : The categorical-prior variant, for clustering.
    AutoEncoderTransformer : The same autoencoder without a prior.

    Notes
    -----
    The model has no tractable density: :meth:`score_samples` is ``log p(x
    | g(h(x))) + log p(h(x))``, the reconstruction log-likelihood of
    :class:`~skae.AutoEncoderTransformer` (same noise model, calibrated on
    the training data) plus the prior's log-density at the code where the
    prior has one (``"gaussian"``, ``"mixture"``, a user prior with
    ``log_prob``). It is the log of the joint density ``p(x, z)`` at the
    encoder's code, not of ``p(x)``: badly reconstructed samples and
    samples whose codes land where the prior puts little mass both score
    low, which is what :class:`~skae.AEOutlierDetector` needs.

    References
    ----------
    .. [1] A. Makhzani, J. Shlens, N. Jaitly, I. Goodfellow and B. Frey,
       "Adversarial autoencoders", ICLR workshop 2016 (arXiv:1511.05644).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AdversarialAE
    >>> X, _ = load_digits(return_X_y=True)
    >>> aae = AdversarialAE(prior="mixture", max_epochs=2, random_state=0)
    >>> aae.fit_transform(X).shape
    (1797, 2)
    >>> aae.sample(5, random_state=0).shape
    (5, 64)
    >>> sorted(k for k in aae.history_[-1] if k.endswith("loss"))
    ['discriminator_loss', 'generator_loss', 'train_loss']
    """

    _parameter_constraints = {
        **_AdversarialMixin._parameter_constraints,
        "prior": [
            StrOptions({"gaussian", "mixture", "uniform", "swiss_roll"}),
            HasMethods(["sample"]),
        ],
        "n_modes": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        architecture=None,
        loss="mse",
        prior="gaussian",
        n_modes=10,
        discriminator_hidden_layer_sizes=(64, 64),
        adversarial_weight=5.0,
        discriminator_lr=None,
        standardize="auto",
        max_epochs=100,
        batch_size=128,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        optimizer_params=None,
        early_stopping=False,
        validation_fraction=None,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        stream_data="auto",
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.architecture = architecture
        self.loss = loss
        self.prior = prior
        self.n_modes = n_modes
        self.discriminator_hidden_layer_sizes = discriminator_hidden_layer_sizes
        self.adversarial_weight = adversarial_weight
        self.discriminator_lr = discriminator_lr
        self.standardize = standardize
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.optimizer_params = optimizer_params
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.stream_data = stream_data
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _check_input(self, X):
        make_prior(self.prior, self.n_components, self.n_modes, type(self).__name__)
        super()._check_input(X)

    def _build_module(self, n_features, scaler, seed):
        spec = self._architecture()
        name = type(self).__name__
        prior = make_prior(self.prior, self.n_components, self.n_modes, name)
        return AdversarialModel(
            spec.encoder(n_features, self.n_components),
            spec.decoder(self.n_components, n_features),
            self.get_likelihood(),
            scaler,
            priors=[prior],
            discriminators=[self._discriminator(self.n_components)],
            seed=seed,
        )

    def sample(self, n_samples=1, random_state=None):
        """Generate data: prior draws passed through the decoder.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws. None gives new draws at each call (numpy's
            global RNG is not touched).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_)
            The decoder's mean for each draw, in the units of the training
            data, float64.
        """
        Z = self._prior_codes(n_samples, random_state, "AdversarialAE.sample")
        return self._map_batches(lambda m, z: m.decode(z), Z)

    def score_samples(self, X):
        """Reconstruction log-likelihood plus the prior's log-density of the code.

        ``log p(x | g(h(x))) + log p(h(x))`` in nats (see Notes): the first
        term as :meth:`AutoEncoderTransformer.score_samples`, the second
        only where the prior has a density (not for ``"uniform"``,
        ``"swiss_roll"`` or a user prior without ``log_prob``). Higher is
        more typical of the training data; an outlier score for
        :class:`~skae.AEOutlierDetector`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return super().score_samples(X)
