"""train_loop's modes concern: the model arrives in evaluation mode (the hidden fixtures
have dropout and batch-norm), so a loop that never calls `model.train()` trains in the
wrong mode. Setting the mode once before the loop, or every epoch, is correct.
"""
import torch
import torch.nn.functional as F

from . import case

E = "train_loop"


# -- train-mode-missing --------------------------------------------------------------------
@case(E, "train-mode-missing")
def never_sets_training_mode(model, loss_fn, optimizer, X, y, epochs):
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(E, "train-mode-missing")
def eval_first_to_be_safe(model, loss_fn, optimizer, X, y, epochs):
    model.eval()
    history = []
    for _ in range(epochs):
        pred = model(X)
        loss = loss_fn(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


@case(E, "train-mode-missing")
def train_named_but_not_called(model, loss_fn, optimizer, X, y, epochs):
    losses = []
    for epoch in range(epochs):
        model.train
        optimizer.zero_grad()
        loss = ((model(X) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    return losses


# model.train() only after the loop, "to hand the model back ready to train".
@case(E, "train-mode-missing")
def training_mode_set_after_the_loop(model, loss_fn, optimizer, X, y, epochs):
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.train()
    return losses


# Two bugs, both named: no model.train(), and gradients never cleared.
@case(E, "train-mode-missing", "missing-zero-grad")
def no_training_mode_and_no_zero_grad(model, loss_fn, optimizer, X, y, epochs):
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# -- correct -------------------------------------------------------------------------------
@case(E)
def training_mode_once_before_the_loop(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(E)
def training_mode_every_epoch_restores_the_old_one(model, loss_fn, optimizer, X, y, epochs):
    was_training = model.training
    losses = []
    for _ in range(epochs):
        model.train(True)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.train(was_training)
    return losses


# An extra forward pass per epoch in eval mode without gradients, only to print a number:
# it trains nothing, and the returned list is the training passes' losses.
@case(E)
def training_mode_each_epoch_with_an_eval_printout(model, loss_fn, optimizer, X, y, epochs):
    losses = []
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            print(f"epoch {epoch}: train {loss.item():.4f}, eval-mode {loss_fn(model(X), y).item():.4f}")
    return losses
