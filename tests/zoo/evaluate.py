"""evaluate(model, loader, loss_fn) -> (mean loss, accuracy), written as learners write it."""
import torch

from . import case

E = "evaluate"


# -- correct shapes ---------------------------------------------------------------------
@case(E)
def no_grad_block(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += loss_fn(out, y).item()
            correct += (out.argmax(dim=1) == y).sum().item()
            count += len(y)
    return total / len(loader), correct / count


@case(E)
@torch.no_grad()
def decorated_and_restores_mode(model, loader, loss_fn):
    was_training = model.training
    model.train(False)
    losses, accuracies = [], []
    for inputs, targets in loader:
        logits = model(inputs)
        losses.append(float(loss_fn(logits, targets)))
        accuracies.append((logits.argmax(1) == targets).float().mean().item())
    model.train(was_training)
    return sum(losses) / len(losses), sum(accuracies) / len(accuracies)


@case(E)
def inference_mode_weighted(model, loader, loss_fn):
    model.eval()
    loss_sum, hits, n = 0.0, 0, 0
    with torch.inference_mode():
        for x, y in loader:
            pred = model(x)
            loss_sum += loss_fn(pred, y).item() * len(y)
            hits += int((pred.argmax(-1) == y).sum())
            n += len(y)
    return loss_sum / n, hits / n


@case(E)
def set_grad_enabled_context(model, loader, loss_fn):
    model.eval()
    results = []
    with torch.set_grad_enabled(False):
        for x, y in loader:
            out = model(x)
            results.append((loss_fn(out, y).item(), (out.argmax(1) == y).sum().item(), len(y)))
    loss = sum(r[0] for r in results) / len(results)
    acc = sum(r[1] for r in results) / sum(r[2] for r in results)
    return loss, acc


@case(E)
def functional_loss_then_back_to_train(model, loader, loss_fn):
    import torch.nn.functional as F
    model.eval()
    total, hits, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += F.cross_entropy(out, y).item()
            hits += (out.argmax(1) == y).sum().item()
            n += len(y)
    model.train()
    return total / len(loader), hits / n


# -- eval-mode-missing ------------------------------------------------------------------
@case(E, "eval-mode-missing")
def forgets_eval(model, loader, loss_fn):
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += loss_fn(out, y).item()
            correct += (out.argmax(dim=1) == y).sum().item()
            count += len(y)
    return total / len(loader), correct / count


@case(E, "eval-mode-missing")
def eval_without_parentheses(model, loader, loss_fn):
    model.eval
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += loss_fn(out, y).item()
            correct += (out.argmax(dim=1) == y).sum().item()
            count += len(y)
    return total / len(loader), correct / count


# -- grad-enabled-in-eval ---------------------------------------------------------------
@case(E, "grad-enabled-in-eval")
def forgets_no_grad(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        out = model(x)
        total += loss_fn(out, y).item()
        correct += (out.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / len(loader), correct / count


@case(E, "grad-enabled-in-eval")
def no_grad_around_the_wrong_part(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        out = model(x)
        with torch.no_grad():
            total += loss_fn(out, y).item()
            correct += (out.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / len(loader), correct / count


# -- trains-on-validation ---------------------------------------------------------------
@case(E, "trains-on-validation", "grad-enabled-in-eval")
def backward_while_evaluating(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        total += loss.item()
        correct += (out.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / len(loader), correct / count


@case(E, "trains-on-validation", "grad-enabled-in-eval")
def steps_on_validation_data(model, loader, loss_fn):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.eval()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total += loss.item()
        correct += (out.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / len(loader), correct / count


# -- loss-tensor-logged / wrong-return-type ---------------------------------------------
@case(E, "loss-tensor-logged")
def returns_loss_tensor(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total = total + loss_fn(out, y)
            correct += (out.argmax(dim=1) == y).sum().item()
            count += len(y)
    return total / len(loader), correct / count


@case(E, "loss-tensor-logged", "wrong-return-type")
def returns_two_tensors(model, loader, loss_fn):
    model.eval()
    losses, hits, count = [], 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            losses.append(loss_fn(out, y))
            hits = hits + (out.argmax(dim=1) == y).sum()
            count += len(y)
    return torch.stack(losses).mean(), hits / count


@case(E, "wrong-return-type")
def returns_a_dict(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += loss_fn(out, y).item()
            correct += (out.argmax(dim=1) == y).sum().item()
            count += len(y)
    return {"loss": total / len(loader), "accuracy": correct / count}


# -- wrong-accuracy / wrong-loss-values -------------------------------------------------
@case(E, "wrong-accuracy")
def accuracy_as_percentage(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += loss_fn(out, y).item()
            correct += (out.argmax(dim=1) == y).sum().item()
            count += len(y)
    return total / len(loader), 100 * correct / count


@case(E, "wrong-accuracy")
def divides_hits_by_batches(model, loader, loss_fn):
    model.eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += loss_fn(out, y).item()
            correct += (out.argmax(dim=1) == y).sum().item()
    return total / len(loader), correct / len(loader)


@case(E, "wrong-accuracy")
def counts_only_the_last_batch(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += loss_fn(out, y).item()
            correct = (out.argmax(dim=1) == y).sum().item()
            count += len(y)
    return total / len(loader), correct / count


@case(E, "wrong-loss-values")
def sums_instead_of_mean(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += loss_fn(out, y).item()
            correct += (out.argmax(dim=1) == y).sum().item()
            count += len(y)
    return total, correct / count


@case(E, "wrong-loss-values")
def divides_by_examples(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += loss_fn(out, y).item()
            correct += (out.argmax(dim=1) == y).sum().item()
            count += len(y)
    return total / count, correct / count
