"""VAETransformer against a bare PyTorch training loop of the same VAE on MNIST.

Usage::

    python benchmarks/vae_mnist.py DATA_DIR [--epochs 50] [--repeats 2]

``DATA_DIR`` holds ``mnist/t10k-images-idx3-ubyte.gz`` (or is that ``mnist``
folder itself). The 10,000 images are split 8,000 / 2,000
(``train_test_split(test_size=0.2, random_state=0)``) and binarised at 0.5.
Both models are 784-400-20 with ReLU hidden layers and a Bernoulli decoder,
trained for 50 epochs with Adam (lr 1e-3) on batches of 128, one draw of z
per sample and step. For each, the script prints the test ELBO and the test
log-likelihood (importance weighted, K = 100) in nats per image and the fit
time (wall and CPU seconds, after an untimed warm-up), then the fit-time
ratios. The bare loop is evaluated by its own code
(torch.distributions), independent of skae's.

Targets (issue 4): VAETransformer's test log-likelihood within 1 nat of the
bare loop's or better, fit-time ratio at most 1.10.
"""

import argparse
import gzip
import math
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn
from torch.distributions import Bernoulli, Normal

from skae import VAETransformer

HIDDEN, LATENT, LR, BATCH, K = 400, 20, 1e-3, 128, 100


def load_mnist(data_dir):
    data_dir = Path(data_dir)
    for path in (data_dir / "mnist", data_dir):
        file = path / "t10k-images-idx3-ubyte.gz"
        if file.exists():
            images = np.frombuffer(gzip.open(file).read(), np.uint8, offset=16)
            return images.reshape(-1, 784)
    raise SystemExit(f"no t10k-images-idx3-ubyte.gz under {data_dir} or {data_dir / 'mnist'}")


class BareVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(784, HIDDEN), nn.ReLU())
        self.mu = nn.Linear(HIDDEN, LATENT)
        self.logvar = nn.Linear(HIDDEN, LATENT)
        self.decoder = nn.Sequential(
            nn.Linear(LATENT, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 784)
        )

    def encode(self, x):
        h = self.trunk(x)
        return self.mu(h), self.logvar(h)


def fit_bare(X, epochs, seed=0):
    """The textbook loop: negative ELBO, closed-form KL, Adam."""
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BareVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    X = torch.as_tensor(X, dtype=torch.float32)
    for _ in range(epochs):
        perm = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), BATCH):
            x = X[perm[start : start + BATCH]]
            mu, logvar = model.encode(x)
            eps = torch.randn(mu.shape, generator=generator)
            logits = model.decoder(mu + torch.exp(0.5 * logvar) * eps)
            rec = nn.functional.binary_cross_entropy_with_logits(
                logits, x, reduction="none"
            ).sum(dim=1)
            kl = 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(dim=1)
            loss = (rec + kl).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


@torch.no_grad()
def evaluate_bare(model, X, seed=1, rows=100):
    """Test ELBO (reconstruction averaged over K draws, closed-form KL) and
    IWAE log-likelihood with K draws, in nats per image."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.as_tensor(X, dtype=torch.float32)
    elbos, logliks = [], []
    prior = Normal(0.0, 1.0)
    for start in range(0, len(X), rows):
        x = X[start : start + rows]
        mu, logvar = model.encode(x)
        q = Normal(mu, torch.exp(0.5 * logvar))
        z = q.loc + q.scale * torch.randn((K, *mu.shape), generator=generator)
        log_px = Bernoulli(logits=model.decoder(z)).log_prob(x).sum(dim=-1)  # (K, n)
        log_w = log_px + prior.log_prob(z).sum(-1) - q.log_prob(z).sum(-1)
        kl = 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(dim=1)
        elbos.append(log_px.mean(dim=0) - kl)
        logliks.append(torch.logsumexp(log_w, dim=0) - math.log(K))
    return torch.cat(elbos).mean().item(), torch.cat(logliks).mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=2, help="fits of each, in alternating order; times are the minimum")
    args = parser.parse_args()

    images = load_mnist(args.data_dir)
    X = (images / 255.0 > 0.5).astype(np.float32)
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    print(f"MNIST binarised: {len(X_train)} train / {len(X_test)} test, "
          f"784-{HIDDEN}-{LATENT}, {args.epochs} epochs, torch threads {torch.get_num_threads()}")

    def make_vae(epochs):
        return VAETransformer(
            n_components=LATENT,
            hidden_layer_sizes=(HIDDEN,),
            activation="relu",
            likelihood="bernoulli",
            n_importance_samples=K,
            max_epochs=epochs,
            batch_size=BATCH,
            lr=LR,
            early_stopping=False,
            random_state=0,
        )

    # Warm-up, untimed: the first fit in a process pays for thread-pool and
    # kernel initialisation, which would count against whichever runs first.
    fit_bare(X_train[:1024], 1)
    make_vae(1).fit(X_train[:1024])

    # Wall and CPU seconds; on a shared machine CPU time is the steadier.
    times = {"VAETransformer": [], "bare PyTorch": []}
    fitted = {}

    def timed_fit(name):
        wall, cpu = time.perf_counter(), time.process_time()
        if name == "bare PyTorch":
            fitted[name] = fit_bare(X_train, args.epochs)
        else:
            fitted[name] = make_vae(args.epochs).fit(X_train)
        times[name].append((time.perf_counter() - wall, time.process_time() - cpu))

    for repeat in range(args.repeats):
        # Alternate which goes first, so that neither always meets the
        # machine in the same state.
        order = ["bare PyTorch", "VAETransformer"][:: 1 if repeat % 2 == 0 else -1]
        for name in order:
            timed_fit(name)
    times = {name: np.min(t, axis=0) for name, t in times.items()}

    vae = fitted["VAETransformer"]
    results = {
        "VAETransformer": (vae.elbo_terms(X_test).elbo.mean(), vae.score(X_test)),
        "bare PyTorch": evaluate_bare(fitted["bare PyTorch"], X_test),
    }
    print(f"{'model':<16}{'test ELBO':>11}{'test log-lik (K=100)':>22}{'fit wall s':>12}{'fit CPU s':>11}")
    for name, (elbo, loglik) in results.items():
        wall, cpu = times[name]
        print(f"{name:<16}{elbo:>11.2f}{loglik:>22.2f}{wall:>12.1f}{cpu:>11.1f}")
    diff = results["VAETransformer"][1] - results["bare PyTorch"][1]
    ratio = times["VAETransformer"] / times["bare PyTorch"]
    print(f"log-lik difference (VAETransformer - bare): {diff:+.2f} nats (target >= -1)")
    print(f"fit-time ratio VAETransformer / bare: wall {ratio[0]:.3f}, CPU {ratio[1]:.3f} "
          "(target <= 1.10)")

if __name__ == "__main__":
    main()
