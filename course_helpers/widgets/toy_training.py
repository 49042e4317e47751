"""The small training run behind the loss explorer: a real PyTorch loop with bugs you can switch on.

The explorer's job is to show what a bug *looks like* in the curves, so the loop below is
an ordinary training loop, and each bug toggle removes or moves one real line of it:
`optimizer.zero_grad()` skipped, `optimizer.step()` called before `loss.backward()`,
validation run without `model.eval()`. Nothing is simulated.

The task is deliberately tiny (learn y = 2x from 16 noisy points with a 64-unit network
that has dropout) so that a whole run takes a few tens of milliseconds and the explorer
can re-train on every slider move. Everything runs under its own random seed and leaves
the learner's global random state untouched.
"""
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn

OPTIMIZERS = ("SGD", "momentum", "Adam")
TRAIN_POINTS, VAL_POINTS, NOISE = 16, 64, 0.4


@dataclass(frozen=True)
class Settings:
    """Everything the explorer's controls can change."""

    learning_rate: float = 0.05
    epochs: int = 40
    batch_size: int = 16
    optimizer: str = "SGD"
    skip_zero_grad: bool = False
    step_before_backward: bool = False
    validate_in_train_mode: bool = False
    seed: int = 0

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {self.optimizer!r}.")
        if not (self.learning_rate > 0 and self.epochs >= 1 and self.batch_size >= 1):
            raise ValueError("learning_rate must be > 0, epochs and batch_size at least 1; got "
                             f"{self.learning_rate}, {self.epochs}, {self.batch_size}.")


@dataclass
class Run:
    """What one training run produced: per-epoch losses, the fitted curve, and any crash."""

    settings: Settings
    start_loss: float
    train_losses: list[float] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    fit_x: list[float] = field(default_factory=list)
    fit_y: list[float] = field(default_factory=list)
    weights_moved: bool = True
    error: str | None = None


def make_data(seed: int = 0):
    """Noisy points around y = 2x: (x_train, y_train, x_val, y_val), each of shape (n, 1)."""
    generator = torch.Generator().manual_seed(seed)

    def points(n):
        x = torch.rand(n, 1, generator=generator) * 2 - 1
        return x, 2 * x + NOISE * torch.randn(n, 1, generator=generator)

    return (*points(TRAIN_POINTS), *points(VAL_POINTS))


def make_model() -> nn.Module:
    """64 tanh units with dropout: enough to overfit 16 points, small enough to train in milliseconds."""
    return nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Dropout(0.2), nn.Linear(64, 1))


def make_optimizer(name: str, parameters, learning_rate: float) -> torch.optim.Optimizer:
    if name == "SGD":
        return torch.optim.SGD(parameters, lr=learning_rate)
    if name == "momentum":
        return torch.optim.SGD(parameters, lr=learning_rate, momentum=0.9)
    return torch.optim.Adam(parameters, lr=learning_rate)


def train_toy(settings: Settings, data=None) -> Run:
    """Train a fresh model with `settings`; the result is the same every time for the same settings."""
    with torch.random.fork_rng(devices=[]), one_thread():
        torch.manual_seed(settings.seed)
        return _train(settings, data if data is not None else make_data(settings.seed))


@contextmanager
def one_thread():
    """Run torch on one thread, then restore the learner's setting.

    Tensors this small gain nothing from a second thread, but waiting threads spin:
    on a busy 2-core machine (the kernel, the Jupyter server and the browser at once)
    a run took several times longer with torch's default of two threads.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train(settings: Settings, data) -> Run:
    x_train, y_train, x_val, y_val = data
    model = make_model()
    optimizer = make_optimizer(settings.optimizer, model.parameters(), settings.learning_rate)
    loss_fn = nn.MSELoss()
    before = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        run = Run(settings, start_loss=loss_fn(model.eval()(x_train), y_train).item())
    shuffler = torch.Generator().manual_seed(settings.seed)
    batch_size = min(settings.batch_size, len(x_train))

    train_losses, val_losses = [], []
    try:
        for _ in range(settings.epochs):
            model.train()
            batches = [(x_train, y_train)]  # one full batch: nothing to shuffle or slice
            if batch_size < len(x_train):
                order = torch.randperm(len(x_train), generator=shuffler)
                batches = [(x_train[rows], y_train[rows]) for rows in order.split(batch_size)]
            batch_losses = []
            for x_batch, y_batch in batches:
                if not settings.skip_zero_grad:
                    optimizer.zero_grad()
                loss = loss_fn(model(x_batch), y_batch)
                if settings.step_before_backward:
                    optimizer.step()
                    loss.backward()
                else:
                    loss.backward()
                    optimizer.step()
                batch_losses.append(loss.detach())
            train_losses.append(torch.stack(batch_losses).mean())

            if not settings.validate_in_train_mode:
                model.eval()
            # Validation gets its own random stream, so that leaving dropout on here changes
            # the validation curve and nothing else: training sees the same masks either way.
            with torch.no_grad(), torch.random.fork_rng(devices=[]):
                val_losses.append(loss_fn(model(x_val), y_val))
    except RuntimeError as error:  # e.g. step before backward changed a weight backward needed
        run.error = f"{type(error).__name__}: {error}"
    # One conversion at the end: .item() inside the loop would cost a sync per step.
    run.train_losses = torch.stack(train_losses).tolist() if train_losses else []
    run.val_losses = torch.stack(val_losses).tolist() if val_losses else []
    run.weights_moved = any(not torch.equal(b, p.detach()) for b, p in zip(before, model.parameters()))

    model.eval()
    with torch.no_grad():
        grid = torch.linspace(-1.2, 1.2, 49).unsqueeze(1)
        run.fit_x, run.fit_y = grid.squeeze(1).tolist(), model(grid).squeeze(1).tolist()
    return run
