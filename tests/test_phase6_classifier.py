"""course_helpers.classifier: the pieces phase 6's notebook and benchmark share."""
import csv

import pytest
import torch
from matplotlib.figure import Figure
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_helpers.classifier import (DigitsMLP, MetricsLog, StopsAfter, WithProgress, confusion_matrix,
                                       make_loaders, make_optimizer, plot_confusion, reference_evaluate,
                                       reference_fit, split_digits, train_one_epoch, train_reference)
from course_helpers.datasets import SlowDataset
from course_helpers.memory import bytes_saved_for_backward


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest (and steadiest on a busy CPU) on one thread; restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def split():
    return split_digits()


def test_split_is_disjoint_complete_and_repeatable(split):
    train_set, val_set = split
    assert len(train_set) + len(val_set) == 1797
    assert len(val_set) == round(1797 * 0.2)
    train_rows = {tuple(row) for row in train_set.tensors[0].tolist()}
    val_rows = {tuple(row) for row in val_set.tensors[0].tolist()}
    assert not train_rows & val_rows
    again_train, again_val = split_digits()
    assert torch.equal(again_val.tensors[0], val_set.tensors[0])
    assert torch.equal(again_train.tensors[1], train_set.tensors[1])


def test_split_ignores_global_random_state_but_follows_its_seed(split):
    torch.manual_seed(12345)
    _, same = split_digits(seed=0)
    _, other = split_digits(seed=1)
    assert torch.equal(same.tensors[1], split[1].tensors[1])
    assert not torch.equal(other.tensors[1], split[1].tensors[1])


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_split_refuses_a_fraction_outside_zero_one(fraction):
    with pytest.raises(ValueError, match="val_fraction"):
        split_digits(val_fraction=fraction)


def test_loaders_shuffle_training_reproducibly_and_keep_validation_in_order(split):
    train_set, val_set = split
    first, val_loader = make_loaders(train_set, val_set, batch_size=32, seed=0)
    second, _ = make_loaders(train_set, val_set, batch_size=32, seed=0)
    epoch_a = torch.cat([y for _, y in first])
    epoch_b = torch.cat([y for _, y in first])
    assert not torch.equal(epoch_a, train_set.tensors[1])  # shuffled
    assert not torch.equal(epoch_a, epoch_b)  # a new order every epoch
    assert torch.equal(epoch_a, torch.cat([y for _, y in second]))  # the same orders on a rerun
    assert torch.equal(torch.cat([y for _, y in val_loader]), val_set.tensors[1])


def test_mlp_gives_ten_scores_and_dropout_only_in_training_mode():
    torch.manual_seed(0)
    model = DigitsMLP(hidden=32, dropout=0.5)
    x = torch.rand(4, 64)
    assert model(x).shape == (4, 10)
    assert model(x.view(4, 8, 8)).shape == (4, 10)
    model.train()
    assert not torch.equal(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))


def _tiny_problem(n=10, batch_size=4):
    generator = torch.Generator().manual_seed(3)
    x = torch.rand(n, 64, generator=generator)
    y = torch.randint(0, 10, (n,), generator=generator)
    return x, y, DataLoader(TensorDataset(x, y), batch_size=batch_size)


def test_reference_evaluate_measures_every_example_without_changing_the_model():
    torch.manual_seed(0)
    model = DigitsMLP(hidden=16).train()
    x, y, loader = _tiny_problem(n=10, batch_size=4)  # batches of 4, 4, 2
    before = [p.detach().clone() for p in model.parameters()]
    loss, accuracy = reference_evaluate(model, loader, nn.CrossEntropyLoss())
    assert isinstance(loss, float) and isinstance(accuracy, float)
    assert not model.training
    assert all(torch.equal(a, b) and p.grad is None for a, b, p in zip(before, model.parameters(), model.parameters()))
    with torch.no_grad():
        scores = model(x)
    assert loss == pytest.approx(nn.functional.cross_entropy(scores, y).item(), rel=1e-5)
    assert accuracy == pytest.approx((scores.argmax(1) == y).float().mean().item())


def test_train_one_epoch_trains_in_training_mode_and_counts_batches():
    torch.manual_seed(0)
    model = DigitsMLP(hidden=16).eval()
    _, _, loader = _tiny_problem(n=10, batch_size=4)
    before = [p.detach().clone() for p in model.parameters()]

    class Counter:
        updates = 0

        def update(self, n):
            self.updates += n

    counter = Counter()
    loss = train_one_epoch(model, loader, nn.CrossEntropyLoss(), make_optimizer(model), progress=counter)
    assert isinstance(loss, float) and loss > 0
    assert model.training
    assert counter.updates == len(loader) == 3
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_confusion_matrix_counts_every_example_and_agrees_with_accuracy():
    torch.manual_seed(0)
    model = DigitsMLP(hidden=16)
    _, y, loader = _tiny_problem(n=10, batch_size=4)
    counts = confusion_matrix(model, loader)
    assert counts.shape == (10, 10) and counts.sum().item() == 10
    assert torch.equal(counts.sum(dim=1), torch.bincount(y, minlength=10))
    _, accuracy = reference_evaluate(model, loader, nn.CrossEntropyLoss())
    assert counts.diag().sum().item() / 10 == pytest.approx(accuracy)
    figure = plot_confusion(counts)
    assert isinstance(figure, Figure)
    assert f"{accuracy:.1%}" in figure.axes[0].get_title()


def test_metrics_log_writes_rows_as_it_goes(tmp_path):
    log = MetricsLog(tmp_path / "new" / "folder" / "metrics.csv", ["epoch", "val_acc", "checkpoint"])
    log.write(epoch=1, val_acc=0.5, checkpoint=tmp_path / "a.pt")
    log.write(epoch=2, val_acc=0.75, checkpoint="")
    with open(log.path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["epoch", "val_acc", "checkpoint"], ["1", "0.5", str(tmp_path / "a.pt")], ["2", "0.75", ""]]
    assert log.read()[1] == {"epoch": "2", "val_acc": "0.75", "checkpoint": ""}


def test_metrics_log_refuses_tensors_and_wrong_fields_and_keeps_earlier_rows(tmp_path):
    log = MetricsLog(tmp_path / "metrics.csv", ["epoch", "train_loss"])
    log.write(epoch=1, train_loss=0.25)
    with pytest.raises(TypeError, match=r"\.item\(\)"):
        log.write(epoch=2, train_loss=torch.tensor(0.5, requires_grad=True) * 2)
    with pytest.raises(ValueError, match="missing"):
        log.write(epoch=2)
    with pytest.raises(ValueError, match="unexpected"):
        log.write(epoch=2, train_loss=0.1, val_loss=0.2)
    assert log.read() == [{"epoch": "1", "train_loss": "0.25"}]


def test_train_reference_returns_a_history_of_floats():
    result = train_reference(epochs=1, seed=0)
    history = result["history"]
    assert set(history) == {"train_loss", "val_loss", "val_acc"}
    assert all(len(values) == 1 and isinstance(values[0], float) for values in history.values())
    assert result["best_epoch"] == 1 and result["best_val_acc"] == history["val_acc"][0]
    assert result["best_val_acc"] > 0.5  # one epoch already learns most digits


def test_mlp_with_batchnorm_moves_its_running_statistics_in_training_mode_only():
    torch.manual_seed(0)
    model = DigitsMLP(hidden=16, batchnorm=True)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    assert len(norms) == 2
    x = torch.rand(8, 64)
    model.eval()
    model(x)
    assert torch.equal(norms[0].running_mean, torch.zeros(16)) and norms[0].num_batches_tracked.item() == 0
    model.train()
    model(x)
    assert not torch.equal(norms[0].running_mean, torch.zeros(16)) and norms[0].num_batches_tracked.item() == 1
    assert list(DigitsMLP().state_dict())[:2] == ["layers.0.weight", "layers.0.bias"]  # old checkpoints still load


def test_with_progress_passes_every_batch_through_and_counts_them_each_epoch():
    _, _, loader = _tiny_problem(n=10, batch_size=4)

    class Bar:
        n = 0

        def update(self, k):
            self.n += k

    bar = Bar()
    wrapped = WithProgress(loader, bar)
    assert len(wrapped) == 3
    for _ in range(2):
        batches = list(wrapped)
        assert [len(y) for _, y in batches] == [4, 4, 2]
    assert bar.n == 6


def test_wrapped_loaders_show_the_generator_a_resume_must_save(split):
    """fit_tracked saves `train_loader.generator`'s state: a wrapped loader hands out the wrapped one's."""
    train_loader, val_loader = make_loaders(*split, batch_size=32, seed=0)
    for wrapped in (WithProgress(train_loader, bar=None), StopsAfter(train_loader, 3)):
        assert wrapped.generator is train_loader.generator
    assert StopsAfter(val_loader, 3).generator is None  # no generator of its own: the global one shuffles
    stopping = StopsAfter(train_loader, 3)
    with pytest.raises(KeyboardInterrupt):
        list(stopping)


def test_reference_fit_is_one_epoch_of_training_then_validation_per_epoch():
    x, y, loader = _tiny_problem(n=10, batch_size=4)
    torch.manual_seed(0)
    model = DigitsMLP(hidden=16)
    history = reference_fit(model, loader, loader, nn.CrossEntropyLoss(), make_optimizer(model), 2)
    torch.manual_seed(0)
    again = DigitsMLP(hidden=16)
    optimizer = make_optimizer(again)
    expected = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(2):
        expected["train_loss"].append(train_one_epoch(again, loader, nn.CrossEntropyLoss(), optimizer))
        loss, acc = reference_evaluate(again, loader, nn.CrossEntropyLoss())
        expected["val_loss"].append(loss)
        expected["val_acc"].append(acc)
    assert history == expected


def test_train_reference_trains_with_the_fit_it_is_given():
    calls = []

    def counting_fit(model, train_loader, val_loader, loss_fn, optimizer, epochs):
        calls.append(epochs)
        return reference_fit(model, train_loader, val_loader, loss_fn, optimizer, epochs)

    result = train_reference(epochs=1, seed=0, fit=counting_fit)
    assert calls == [1] and result["history"] == train_reference(epochs=1, seed=0)["history"]


def test_the_notebooks_fit_trains_the_recipe_exactly_as_reference_fit_does():
    """The benchmark's 97 % runs through the notebook's own fit; it is the recipe, number for number."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "classifier.py"
    spec = importlib.util.spec_from_file_location("classifier_benchmark", path)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    notebook_fit = benchmark.notebook_fit()
    assert train_reference(epochs=1, fit=notebook_fit)["history"] == train_reference(epochs=1)["history"]


def test_bytes_saved_for_backward_counts_activations_once_and_never_the_weights():
    layer = nn.Linear(64, 32)
    x = torch.rand(10, 64, requires_grad=True)  # so the weight is saved too, for the input's gradient
    saved, out = bytes_saved_for_backward(lambda: layer(x), layer)
    assert out.shape == (10, 32)
    assert saved == x.untyped_storage().nbytes()  # the input is counted, the weight is not
    with_weights, _ = bytes_saved_for_backward(lambda: layer(x))
    assert with_weights == saved + layer.weight.untyped_storage().nbytes()
    with torch.no_grad():
        assert bytes_saved_for_backward(lambda: layer(x), layer)[0] == 0


def test_slow_dataset_hands_out_the_same_samples_and_refuses_a_negative_wait():
    data = TensorDataset(torch.arange(6.0).view(3, 2), torch.tensor([0, 1, 2]))
    slow = SlowDataset(data, seconds_per_sample=0.0)
    assert len(slow) == 3 and all(torch.equal(a, b) for a, b in zip(slow[2], data[2]))
    with pytest.raises(ValueError, match="seconds_per_sample"):
        SlowDataset(data, seconds_per_sample=-1)
