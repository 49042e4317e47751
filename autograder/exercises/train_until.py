"""Phase 4, `train_until(model, loss_fn, optimizer, X, y, target_loss, max_epochs) -> list[float]`.

`train`, with a loop that ends itself: full-batch training in training mode, one update
per epoch, each epoch's loss (computed on that epoch's forward pass) logged as a Python
float; the loop stops right after the first epoch whose loss is below `target_loss`, and
never runs more than `max_epochs` epochs. Returns the losses of the epochs it ran.

Where the run should have stopped is read from the run's own losses (the given loss
function's value on each epoch's forward pass), so a bug of order, which changes every
loss, is never also counted as a wrong stop. Whether the last epoch still makes its update
is left to the learner: `break` after `optimizer.step()` or before it both stop there.
Like `train`, it is held to the whole contract (autograder/exercises/contract.py): every
epoch trains on all of X, each row with its own target, by a descent step of the given
optimizer.
The fixtures' target lies where a correct loop stops half-way through its budget
(tests/test_phase4_notebook.py holds them to it).
"""
from autograder.diagnoses import diagnosis
from autograder.exercises.contract import by_update, check_contract
from autograder.exercises.train_loop import TrainLoop
from autograder.inspector.kept_graphs import check_kept_graphs
from autograder.inspector.modes import check_train_mode
from autograder.inspector.numbers import check_loss_list, value
from autograder.inspector.order import Plan, check_order
from autograder.inspector.updates import check_updates
from autograder.inspector.values import read_float_list
from autograder.inspector.words import count


def train_until(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    """The contract, written plainly: the curve a correct loop draws on the same fixtures."""
    model.train()
    losses = []
    for _ in range(max_epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if losses[-1] < target_loss:
            break
    return losses


def epoch_passes(trace) -> list:
    """One training forward pass per epoch the loop ran: those with autograd on and a loss."""
    return [f for f in trace.forwards if f.split == "train" and f.grad_enabled and value(f) is not None]


def stop_problem(losses: list[float], target: float, most: int) -> str:
    """'' when a loop that computed `losses` (one per epoch) stopped where the contract says; else what happened."""
    below = next((epoch for epoch, loss in enumerate(losses, start=1) if loss < target), None)
    ran = len(losses)
    if below is not None and ran > below:
        return (f"The loss of epoch {below} was {losses[below - 1]:.6g}, below target_loss={target:g}, but your loop "
                f"went on for {count(ran - below, 'more epoch')} ({count(ran, 'epoch')} in all).")
    if below is None and ran > most:
        return f"Your loop ran {count(ran, 'epoch')}, more than max_epochs={most}."
    if below is None and ran < most:
        return (f"Your loop stopped after {count(ran, 'epoch')}, but no loss had gone below target_loss={target:g} "
                f"yet (the last was {losses[-1]:.6g}) and max_epochs={most} allowed more.")
    return ""


class TrainUntil(TrainLoop):
    name = "train_until"
    function_name = "train_until"
    reference = staticmethod(train_until)
    signature = "train_until(model, loss_fn, optimizer, X, y, target_loss, max_epochs) -> list[float]"
    concerns = (*TrainLoop.concerns, "tracking")
    public = {**{k: v for k, v in TrainLoop.public.items() if k != "epochs"}, "target_loss": 1.5, "max_epochs": 16}
    hidden = {**{k: v for k, v in TrainLoop.hidden.items() if k != "epochs"}, "target_loss": 0.8, "max_epochs": 20}

    def workload(self, fixture):
        return f"at most {count(fixture.params['max_epochs'], 'epoch')}"

    def build(self, params):
        fixture = super().build(dict(params, epochs=params["max_epochs"]))
        model, loss_fn, optimizer, x, y, _ = fixture.args
        fixture.args = (model, loss_fn, optimizer, x, y, params["target_loss"], params["max_epochs"])
        fixture.params = params
        return fixture

    def judge(self, trace, result, fixture):
        target, most = fixture.params["target_loss"], fixture.params["max_epochs"]
        passes = epoch_passes(trace)
        ran = len(passes)
        # the stopping epoch may end before its update: then one step fewer than epochs
        steps = ran - 1 if passes and not passes[-1].trained else ran
        values, found = read_float_list(result, "The returned list of losses", ran, is_loss=True)
        found += check_order(trace, Plan(steps=steps, batches=steps, unit="epoch"))
        found += check_updates(trace)
        found += check_train_mode(trace)
        found += check_kept_graphs(trace)
        if values is not None:
            found += check_loss_list(values, passes, "The returned loss")
        problem = stop_problem([value(f) for f in passes], target, most) if passes else ""
        if problem:
            found.append(diagnosis("target-stop-wrong", problem))
        # an epoch that stopped before its update trained on nothing: by_update counts the epochs that did
        return check_contract(trace, found, epochs=by_update(trace), examples=fixture.params["samples"],
                              batch_size=None)
