"""Phases 2 and 3: the graded test cells reject wrong learner code and accept other correct code.

The course CI proves the reference solutions pass and the stubs fail. That is not enough:
a hidden test that accepts a wrong answer, or rejects a right one written differently,
would pass both checks. Here each exercise's test cells run in-process (no kernel) against
learner-like variants: each wrong variant must fail at least one of its test cells (the hidden
one included where the visible one is too lenient), each correct variant must pass them all.
Code that gets the right numbers by calling the library function the exercise asks the
learner to write (autograd, F.mse_loss, an optimizer) must fail on the guard's own message.
"""
import contextlib
import io
import textwrap

import nbformat
import pytest

from notebook_tools import ROOT, is_test_cell, nbgrader_meta

PHASE_2 = ROOT / "source" / "02_autograd" / "02_autograd.ipynb"
PHASE_3 = ROOT / "source" / "03_losses_optimizers" / "03_losses_optimizers.ipynb"


def exercises(path) -> dict[str, list[str]]:
    """Map each solution cell's grade_id to the sources of the test cells that follow it."""
    notebook = nbformat.read(path, as_version=4)
    found, current = {}, None
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("solution"):
            current = meta["grade_id"]
            found[current] = []
        elif is_test_cell(cell) and current is not None:
            found[current].append(cell.source)
    return found


def reference_solution(path, grade_id) -> str:
    notebook = nbformat.read(path, as_version=4)
    return next(cell.source for cell in notebook.cells if nbgrader_meta(cell).get("grade_id") == grade_id)


def failures(path, grade_id, solution: str) -> list[str]:
    """Run `solution` and then the exercise's test cells; return one line per failing test cell."""
    namespace = {"__name__": "__main__"}
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        exec("import warnings\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn", namespace)
        exec(textwrap.dedent(solution), namespace)
    failed = []
    for source in exercises(path)[grade_id]:
        try:
            with contextlib.redirect_stdout(quiet):
                exec(source, namespace)
        except Exception as error:  # a test cell fails with whatever the learner's code raised
            failed.append(f"{type(error).__name__}: {str(error)[:200]}")
    return failed


WRONG = [
    (PHASE_2, "line_loss_grads", "forgets the factor 2", '''
        def line_loss_grads(w, b, x, y):
            r = w * x + b - y
            return (r * x).mean(), r.mean()
    '''),
    (PHASE_2, "line_loss_grads", "sums instead of averaging", '''
        def line_loss_grads(w, b, x, y):
            r = w * x + b - y
            return (2 * r * x).sum(), (2 * r).sum()
    '''),
    (PHASE_2, "gradient", "differentiates x itself, so gradients accumulate", '''
        def gradient(f, x):
            x.requires_grad_(True)
            f(x).backward()
            return x.grad
    '''),
    (PHASE_2, "gradient", "returns a gradient that is still part of a graph", '''
        def gradient(f, x):
            p = x.detach().clone().requires_grad_(True)
            return torch.autograd.grad(f(p), p, create_graph=True)[0]
    '''),
    (PHASE_2, "gradient", "loses the gradient when x already requires grad", '''
        def gradient(f, x):
            p = x.clone() if x.requires_grad else x.clone().requires_grad_(True)
            f(p).backward()
            return p.grad
    '''),
    (PHASE_2, "finite_difference", "uses a forward difference", '''
        def finite_difference(f, x, h=1e-6):
            flat = x.detach().reshape(-1)
            out = torch.zeros_like(flat)
            for i in range(flat.numel()):
                s = torch.zeros_like(flat); s[i] = h
                out[i] = (f((flat + s).reshape(x.shape)) - f(flat.reshape(x.shape))) / h
            return out.reshape(x.shape)
    '''),
    (PHASE_2, "finite_difference", "shifts x in place and leaves it moved", '''
        def finite_difference(f, x, h=1e-6):
            out = torch.zeros(x.shape, dtype=x.dtype)
            flat = x.detach().view(-1)
            for i in range(flat.numel()):
                flat[i] += h; up = f(x.detach())
                flat[i] -= 2 * h; down = f(x.detach())
                out.view(-1)[i] = (up - down) / (2 * h)
            return out
    '''),
    (PHASE_2, "finite_difference", "ignores the h argument", '''
        def finite_difference(f, x, h=1e-6):
            h = 1e-6
            flat = x.detach().reshape(-1)
            out = torch.zeros(flat.shape, dtype=x.dtype)
            for i in range(flat.numel()):
                s = torch.zeros_like(flat); s[i] = h
                out[i] = (f((flat + s).reshape(x.shape)) - f((flat - s).reshape(x.shape))) / (2 * h)
            return out.reshape(x.shape)
    '''),
    (PHASE_2, "finite_difference", "returns autograd's exact gradient instead of an estimate", '''
        def finite_difference(f, x, h=1e-6):
            p = x.detach().clone().requires_grad_(True)
            return torch.autograd.grad(f(p), p)[0]
    '''),
    (PHASE_2, "answer_two_backwards", "forgets that the two backward() calls add up", '''
        def answer_grad_after_two_backwards():
            return 10.0
    '''),
    (PHASE_3, "mse", "accepts any reduction", '''
        def mse(prediction, target, reduction="mean"):
            squared = (prediction - target) ** 2
            if reduction == "sum":
                return squared.sum()
            if reduction == "none":
                return squared
            return squared.mean()
    '''),
    (PHASE_3, "mse", "cuts the graph", '''
        def mse(prediction, target, reduction="mean"):
            squared = (prediction.detach() - target) ** 2
            if reduction == "mean": return squared.mean()
            if reduction == "sum": return squared.sum()
            if reduction == "none": return squared
            raise ValueError(f"bad reduction {reduction!r}")
    '''),
    (PHASE_3, "cross_entropy", "exponentiates raw logits", '''
        def cross_entropy(logits, targets):
            p = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
            return -p[torch.arange(len(targets)), targets].log().mean()
    '''),
    (PHASE_3, "cross_entropy", "sums over the batch", '''
        def cross_entropy(logits, targets):
            lp = logits.log_softmax(dim=1)
            return -lp[torch.arange(len(targets)), targets].sum()
    '''),
    (PHASE_3, "cross_entropy", "takes softmax twice", '''
        def cross_entropy(logits, targets):
            lp = logits.softmax(dim=1).log_softmax(dim=1)
            return -lp[torch.arange(len(targets)), targets].mean()
    '''),
    (PHASE_3, "sgd_step", "never clears the gradients", '''
        def sgd_step(params, lr):
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p -= lr * p.grad
    '''),
    (PHASE_3, "sgd_step", "rebinds p instead of updating it", '''
        def sgd_step(params, lr):
            for p in params:
                if p.grad is not None:
                    p = p.detach() - lr * p.grad
                    p.grad = None
    '''),
    (PHASE_3, "sgd_step", "loops twice over a one-shot generator", '''
        def sgd_step(params, lr):
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p -= lr * p.grad
            for p in params:
                p.grad = None
    '''),
    (PHASE_3, "sgd_step", "crashes on a parameter without a gradient", '''
        def sgd_step(params, lr):
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad = None
    '''),
    (PHASE_3, "sgd_step", "steps with momentum", '''
        def sgd_step(params, lr, _velocity={}):
            with torch.no_grad():
                for p in params:
                    if p.grad is None:
                        continue
                    v = _velocity.get(id(p), torch.zeros_like(p)) * 0.9 + p.grad
                    _velocity[id(p)] = v
                    p -= lr * v
                    p.grad = None
    '''),
    (PHASE_3, "answer_largest_stable_lr", "halves the threshold", '''
        def answer_largest_stable_lr():
            return 0.1
    '''),
]

# Right numbers, but the library did the exercise: each must fail on the guard's message.
CHEATS = [
    (PHASE_2, "line_loss_grads", "asks backward() for the gradient", '''
        def line_loss_grads(w, b, x, y):
            w = w.clone().requires_grad_(True)
            b = b.clone().requires_grad_(True)
            ((w * x + b - y) ** 2).mean().backward()
            return w.grad, b.grad
    '''),
    (PHASE_2, "line_loss_grads", "asks torch.autograd.grad, imported under another name", '''
        from torch.autograd import grad as derivative

        def line_loss_grads(w, b, x, y):
            w, b = w.detach().requires_grad_(True), b.detach().requires_grad_(True)
            dw, db = derivative(((w * x + b - y) ** 2).mean(), (w, b))
            return dw.detach(), db.detach()
    '''),
    (PHASE_2, "line_loss_grads", "asks torch.func.grad", '''
        def line_loss_grads(w, b, x, y):
            loss = lambda w, b: ((w * x + b - y) ** 2).mean()
            return torch.func.grad(loss, argnums=(0, 1))(w, b)
    '''),
    (PHASE_3, "mse", "calls F.mse_loss", '''
        def mse(prediction, target, reduction="mean"):
            if reduction not in ("mean", "sum", "none"):
                raise ValueError(f"bad reduction {reduction!r}")
            return F.mse_loss(prediction, target, reduction=reduction)
    '''),
    (PHASE_3, "mse", "calls nn.MSELoss, imported under another name", '''
        from torch.nn import MSELoss as Squared

        def mse(prediction, target, reduction="mean"):
            if reduction not in ("mean", "sum", "none"):
                raise ValueError(f"bad reduction {reduction!r}")
            return Squared(reduction=reduction)(prediction, target)
    '''),
    (PHASE_3, "cross_entropy", "calls F.cross_entropy", '''
        def cross_entropy(logits, targets):
            return F.cross_entropy(logits, targets)
    '''),
    (PHASE_3, "cross_entropy", "calls nn.CrossEntropyLoss", '''
        def cross_entropy(logits, targets):
            return nn.CrossEntropyLoss()(logits, targets)
    '''),
    (PHASE_3, "sgd_step", "builds an optim.SGD on every call", '''
        def sgd_step(params, lr):
            optimizer = torch.optim.SGD(list(params), lr=lr)
            optimizer.step()
            optimizer.zero_grad()
    '''),
    (PHASE_3, "sgd_step", "steps an optimizer it keeps between calls", '''
        _optimizers = {}

        def sgd_step(params, lr):
            params = list(params)
            key = tuple(id(p) for p in params)
            if key not in _optimizers:
                _optimizers[key] = torch.optim.SGD(params, lr=lr)
            _optimizers[key].param_groups[0]["lr"] = lr
            _optimizers[key].step()
            _optimizers[key].zero_grad()
    '''),
]

RIGHT = [
    (PHASE_2, "line_loss_grads", "dot products", '''
        def line_loss_grads(w, b, x, y):
            n = x.numel()
            r = w * x + b - y
            return 2 / n * torch.dot(r, x), 2 / n * r.sum()
    '''),
    (PHASE_2, "gradient", "backward() on a detached copy", '''
        def gradient(f, x):
            p = x.detach().clone()
            p.requires_grad = True
            f(p).backward()
            return p.grad
    '''),
    (PHASE_2, "finite_difference", "shifts a private copy in place and restores it", '''
        def finite_difference(f, x, h=1e-6):
            out = torch.zeros(x.shape, dtype=x.dtype)
            point = x.detach().clone()
            flat = point.view(-1)
            for i in range(flat.numel()):
                old = flat[i].item()
                flat[i] = old + h; up = f(point)
                flat[i] = old - h; down = f(point)
                flat[i] = old
                out.view(-1)[i] = (up - down) / (2 * h)
            return out
    '''),
    (PHASE_2, "answer_two_backwards", "an int", '''
        def answer_grad_after_two_backwards():
            return 20
    '''),
    (PHASE_3, "mse", "a table of reducers", '''
        def mse(prediction, target, reduction="mean"):
            reducers = {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}
            if reduction not in reducers:
                raise ValueError(f"unknown reduction: {reduction}")
            return reducers[reduction]((prediction - target).pow(2))
    '''),
    (PHASE_3, "cross_entropy", "log_softmax and gather", '''
        def cross_entropy(logits, targets):
            lp = logits.log_softmax(dim=1)
            return -lp.gather(1, targets.unsqueeze(1)).mean()
    '''),
    (PHASE_3, "cross_entropy", "the max-shift trick by hand", '''
        def cross_entropy(logits, targets):
            shifted = logits - logits.max(dim=1, keepdim=True).values
            lp = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
            return -lp[range(len(targets)), targets].mean()
    '''),
    (PHASE_3, "sgd_step", ".data and grad.zero_()", '''
        def sgd_step(params, lr):
            for p in params:
                if p.grad is None:
                    continue
                p.data.add_(p.grad.data, alpha=-lr)
                p.grad.zero_()
    '''),
    (PHASE_3, "sgd_step", "a list first, then a foreach update", '''
        def sgd_step(params, lr):
            params = [p for p in params if p.grad is not None]
            with torch.no_grad():
                torch._foreach_add_(params, [p.grad for p in params], alpha=-lr)
            for p in params:
                p.grad = None
    '''),
    (PHASE_2, "line_loss_grads", "under no_grad, with torch.mean", '''
        def line_loss_grads(w, b, x, y):
            with torch.no_grad():
                r = torch.sub(torch.add(torch.mul(w, x), b), y)
                return torch.mean(2 * r * x), torch.mean(2 * r)
    '''),
    (PHASE_3, "mse", "torch.square and a dict dispatch, for inputs that require grad", '''
        def mse(prediction, target, reduction="mean"):
            squared = torch.square(prediction - target)
            try:
                return {"mean": squared.mean, "sum": squared.sum, "none": lambda: squared}[reduction]()
            except (KeyError, TypeError):
                raise ValueError(f"unknown reduction {reduction!r}") from None
    '''),
    (PHASE_3, "sgd_step", "p.sub_ under no_grad, zeroing the gradients", '''
        def sgd_step(params, lr):
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p.sub_(lr * p.grad)
                        p.grad.zero_()
    '''),
]


def _id(case):
    return f"{case[1]}: {case[2]}"


@pytest.mark.parametrize("path, grade_id", [(PHASE_2, g) for g in exercises(PHASE_2)] +
                         [(PHASE_3, g) for g in exercises(PHASE_3)],
                         ids=lambda value: value if isinstance(value, str) else value.parent.name)
def test_reference_solution_passes_and_every_exercise_has_a_visible_and_hidden_check(path, grade_id):
    tests = exercises(path)[grade_id]
    assert tests, f"{grade_id} has no test cell"
    assert any("### BEGIN HIDDEN TESTS" in source for source in tests), f"{grade_id} has no hidden test"
    assert failures(path, grade_id, reference_solution(path, grade_id)) == []


@pytest.mark.parametrize("path, grade_id, label, source", WRONG, ids=[_id(case) for case in WRONG])
def test_wrong_code_fails(path, grade_id, label, source):
    assert failures(path, grade_id, source), f"the tests of {grade_id} accept code that {label}"


@pytest.mark.parametrize("path, grade_id, label, source", CHEATS, ids=[_id(case) for case in CHEATS])
def test_code_that_lets_the_library_do_the_exercise_fails_with_a_friendly_message(path, grade_id, label, source):
    found = failures(path, grade_id, source)
    assert any("let the library do the work" in line for line in found), \
        f"the tests of {grade_id} do not catch code that {label}: {found}"


@pytest.mark.parametrize("path, grade_id, label, source", RIGHT, ids=[_id(case) for case in RIGHT])
def test_other_correct_code_passes(path, grade_id, label, source):
    assert failures(path, grade_id, source) == [], f"the tests of {grade_id} reject correct code ({label})"


def test_phase_2_has_the_sections_the_autograder_links_to():
    notebook = nbformat.read(PHASE_2, as_version=4)
    headings = {line[3:].strip() for cell in notebook.cells if cell.cell_type == "markdown"
                for line in cell.source.splitlines() if line.startswith("## ")}
    assert {"Gradients accumulate", "Turning autograd off", "Backward twice"} <= headings


def test_phase_3_teaches_a_module_before_any_demo_builds_one():
    """nn.Sequential, an nn.Module subclass and an activation appear in demos only after the section on modules."""
    notebook = nbformat.read(PHASE_3, as_version=4)
    heading = next(i for i, cell in enumerate(notebook.cells)
                   if cell.cell_type == "markdown" and cell.source.startswith("## A model is an `nn.Module`"))
    uses = [i for i, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and not is_test_cell(cell)
            and any(word in cell.source for word in ("nn.Sequential(", "(nn.Module)", "nn.Tanh()", "nn.ReLU()"))]
    assert uses and min(uses) > heading, f"cells {uses} use modules; the section starts at cell {heading}"
    collapse = "\n".join(notebook.cells[i].source for i in uses)
    assert "stack[1].weight @ stack[0].weight" in collapse, "the two-linear-layers-collapse cell is missing"
