"""train_epoch(model, loader, loss_fn, optimizer) -> float, written as learners write it."""
import torch
from tqdm import tqdm

from . import case

E = "train_epoch"


# -- correct shapes ---------------------------------------------------------------------
@case(E)
def canonical(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(E)
def enumerate_tqdm_weighted(model, loader, loss_fn, optimizer):
    model.train(True)
    running, seen = 0.0, 0
    for i, (x, y) in enumerate(tqdm(loader, desc="train")):
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        running += loss.item() * len(x)
        seen += len(x)
    return running / seen


@case(E)
def while_loop_iter_next(model, loader, loss_fn, optimizer):
    model.train()
    batches = iter(loader)
    losses = []
    while True:
        try:
            x, y = next(batches)
        except StopIteration:
            break
        for p in model.parameters():
            p.grad = None
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().item())
    return sum(losses) / len(losses)


@case(E)
def device_clip_and_set_to_none_false(model, loader, loss_fn, optimizer):
    device = next(model.parameters()).device
    model.train()
    total = torch.zeros(())
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        total += loss.detach()
    return float(total) / len(loader)


@case(E)
def model_zero_grad_and_scheduler(model, loader, loss_fn, optimizer):
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 / (1 + step))
    model.train()
    batch_losses = []
    for step, batch in enumerate(loader):
        model.zero_grad()
        x, y = batch
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        batch_losses.append(float(loss))
    return sum(batch_losses) / len(batch_losses)


@case(E)
def own_criterion_and_numpy_mean(model, loader, loss_fn, optimizer):
    import numpy as np
    criterion = torch.nn.CrossEntropyLoss()
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return np.mean(losses)


@case(E)
def clears_after_forward_clips_by_value(model, loader, loss_fn, optimizer):
    model.train()
    t = 0.0
    for x, y in loader:
        out = model(x)
        optimizer.zero_grad()
        loss = loss_fn(out, y)
        loss.backward()
        torch.nn.utils.clip_grad_value_(model.parameters(), 0.01)
        optimizer.step()
        t += loss.item()
    return t / len(loader)


@case(E)
def autograd_backward_and_dataset_mean(model, loader, loss_fn, optimizer):
    model.train()
    running = 0.0
    for inputs, targets in loader:
        for p in model.parameters():
            if p.grad is not None:
                p.grad.zero_()
        loss = loss_fn(model(inputs), targets)
        running += loss.item() * inputs.size(0)
        torch.autograd.backward(loss)
        optimizer.step()
    return running / len(loader.dataset)


@case(E)
def functional_loss_and_train_every_batch(model, loader, loss_fn, optimizer):
    import torch.nn.functional as F
    total = 0.0
    for x, y in loader:
        model.train()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


# -- missing-zero-grad ------------------------------------------------------------------
@case(E, "missing-zero-grad")
def forgets_zero_grad(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(E, "missing-zero-grad")
def zero_grad_outside_batch_loop(model, loader, loss_fn, optimizer):
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for x, y in loader:
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(E, "missing-zero-grad")
def zero_grad_on_some_batches(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        if i % 3 == 0:
            optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


# -- zero-grad-after-backward -----------------------------------------------------------
@case(E, "zero-grad-after-backward")
def clears_before_step(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(E, "zero-grad-after-backward")
def grad_none_before_step(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        loss = loss_fn(model(x), y)
        loss.backward()
        for p in model.parameters():
            p.grad = None
        optimizer.step()
        total += loss.item()
    return total / len(loader)


# -- step-before-backward ---------------------------------------------------------------
@case(E, "step-before-backward")
def steps_then_backward(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        optimizer.step()
        loss.backward()
        total += loss.item()
    return total / len(loader)


@case(E, "step-before-backward")
def steps_then_backward_no_clear_crashes(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        loss = loss_fn(model(x), y)
        optimizer.step()
        loss.backward()
        total += loss.item()
    return total / len(loader)


# -- missing-backward / missing-step ----------------------------------------------------
@case(E, "missing-backward")
def never_backward(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(E, "missing-backward")
def backward_not_called(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case(E, "missing-step")
def never_steps(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        total += loss.item()
    return total / len(loader)


@case(E, "missing-step")
def step_not_called(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step
        total += loss.item()
    return total / len(loader)


# -- double-backward / wrong-step-count -------------------------------------------------
@case(E, "double-backward")
def backward_again_for_logging(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward(retain_graph=True)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(E, "double-backward")
def backward_twice_crash(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        loss.backward()
        total += loss.item()
    return total / len(loader)


@case(E, "wrong-step-count")
def step_after_the_loop(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        total += loss.item()
    optimizer.step()
    return total / len(loader)


@case(E, "wrong-step-count")
def one_backward_and_step_after_the_loop(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    optimizer.zero_grad()
    for x, y in loader:
        loss = loss_fn(model(x), y)
        total += loss.item()
    loss.backward()
    optimizer.step()
    return total / len(loader)


@case(E, "wrong-step-count")
def step_every_second_batch(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        loss.backward()
        if i % 2 == 1:
            optimizer.step()
            optimizer.zero_grad()
        total += loss.item()
    return total / len(loader)


# -- train-mode-missing -----------------------------------------------------------------
@case(E, "train-mode-missing")
def never_calls_train(model, loader, loss_fn, optimizer):
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(E, "train-mode-missing")
def train_without_parentheses(model, loader, loss_fn, optimizer):
    model.train
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(E, "train-mode-missing")
def calls_eval_by_mistake(model, loader, loss_fn, optimizer):
    model.eval()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


# -- loss-tensor-logged -----------------------------------------------------------------
@case(E, "loss-tensor-logged")
def running_sum_of_tensors(model, loader, loss_fn, optimizer):
    model.train()
    total = 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total = total + loss
    return total.item() / len(loader)


@case(E, "loss-tensor-logged")
def list_of_tensors_then_item(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss)
    return (sum(losses) / len(losses)).item()


@case(E, "loss-tensor-logged")
def returns_a_tensor(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.detach()
    return total / len(loader)


# -- wrong-loss-values ------------------------------------------------------------------
@case(E, "wrong-loss-values")
def returns_the_sum(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total


@case(E, "wrong-loss-values")
def returns_the_last_loss(model, loader, loss_fn, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return loss.item()


@case(E, "train-mode-missing")
def scales_inputs_and_forgets_train(model, loader, loss_fn, optimizer):
    total = 0.0
    for x, y in loader:
        x = (x - x.mean()) / (x.std() + 1e-8)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)
