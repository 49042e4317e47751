"""train(model, loss_fn, optimizer, X, y, epochs) -> list[float], written as learners write it."""
import torch

from . import case

E = "train_loop"


# -- correct shapes ---------------------------------------------------------------------
@case(E)
def zero_grad_first(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(E)
def zero_grad_after_step_float(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    history = []
    for _ in range(epochs):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        history.append(float(loss))
    return history


@case(E)
def model_zero_grad_detach_item(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    out = []
    for _ in range(epochs):
        model.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        out.append(loss.detach().item())
    return out


@case(E)
def grad_none_by_hand(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        for p in model.parameters():
            p.grad = None
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(E)
def set_to_none_false_while(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses, epoch = [], 0
    while epoch < epochs:
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        epoch += 1
    return losses


@case(E)
def clipping_and_scheduler(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


@case(E)
def prints_progress(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for epoch in range(epochs):
        optimizer.zero_grad()
        outputs = model(X)
        loss = loss_fn(outputs, y)
        loss.backward()
        optimizer.step()
        print(f"epoch {epoch}: loss {loss.item():.4f}")
        losses.append(round(loss.item(), 8))
    return losses


@case(E)
def step_with_a_closure(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    history = []
    for _ in range(epochs):
        def closure():
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            return loss
        history.append(optimizer.step(closure).item())
    return history


@case(E)
def numpy_array_of_losses(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    import numpy as np
    out = np.zeros(epochs)
    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        out[epoch] = loss.item()
    return out


# -- missing-zero-grad ------------------------------------------------------------------
@case(E, "missing-zero-grad")
def no_zero_grad(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(E, "missing-zero-grad")
def zero_grad_without_parentheses(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(E, "missing-zero-grad")
def zero_grad_before_the_loop(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    optimizer.zero_grad()
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(E, "missing-zero-grad")
def zero_grad_every_other_epoch(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for epoch in range(epochs):
        if epoch % 2 == 0:
            optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# -- zero-grad-after-backward -----------------------------------------------------------
@case(E, "zero-grad-after-backward")
def clear_between_backward_and_step(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(E, "zero-grad-after-backward")
def model_zero_grad_before_step(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        losses.append(loss.item())
        loss.backward()
        model.zero_grad(set_to_none=False)
        optimizer.step()
    return losses


# -- step-before-backward ---------------------------------------------------------------
@case(E, "step-before-backward")
def step_then_backward(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        optimizer.step()
        loss.backward()
        losses.append(loss.item())
    return losses


@case(E, "step-before-backward")
def step_first_then_forward(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        prediction = model(X)
        optimizer.step()
        loss = loss_fn(prediction, y)
        loss.backward()
        losses.append(loss.item())
    return losses


# -- missing-backward -------------------------------------------------------------------
@case(E, "missing-backward")
def no_backward(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(E, "missing-backward")
def backward_without_parentheses(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward
        optimizer.step()
        losses.append(loss.item())
    return losses


# -- missing-step -----------------------------------------------------------------------
@case(E, "missing-step")
def no_step(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        losses.append(loss.item())
    return losses


@case(E, "missing-step")
def step_without_parentheses(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step
        losses.append(loss.item())
    return losses


# -- double-backward --------------------------------------------------------------------
@case(E, "double-backward")
def backward_twice_crashes(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(E, "double-backward")
def backward_twice_retained(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward(retain_graph=True)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return losses


# -- wrong-step-count -------------------------------------------------------------------
@case(E, "wrong-step-count")
def step_every_other_epoch(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        if epoch % 2 == 1:
            optimizer.step()
        losses.append(loss.item())
    return losses


@case(E, "wrong-step-count")
def step_twice(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.step()
        losses.append(loss.item())
    return losses


# -- loss-tensor-logged -----------------------------------------------------------------
@case(E, "loss-tensor-logged")
def appends_loss_tensor(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss)
    return losses


@case(E, "loss-tensor-logged")
def appends_detached_tensor(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return losses


@case(E, "loss-tensor-logged")
def keeps_graphs_returns_floats(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    kept = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        kept.append(loss)
    return [l.item() for l in kept]


# -- wrong-loss-values ------------------------------------------------------------------
@case(E, "wrong-loss-values")
def logs_loss_after_the_step(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            losses.append(loss_fn(model(X), y).item())
    return losses


@case(E, "wrong-loss-values")
def logs_loss_per_example(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item() / len(X))
    return losses


# -- wrong-return-type ------------------------------------------------------------------
@case(E, "wrong-return-type")
def forgets_to_return(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())


@case(E, "wrong-return-type")
def returns_last_loss_only(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
    return loss.item()


# -- one epoch short: a numbers bug and a step count, not a broken function --------------
@case(E, "wrong-step-count", "wrong-loss-values")
def one_epoch_short(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs - 1):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
