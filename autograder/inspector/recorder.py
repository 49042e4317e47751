"""Global torch hooks that watch one run of a learner's function and write a Trace.

The learner's code uses no wrapper: the model, loss function and optimizer it is given
are ordinary torch objects, and what happens to them is seen from the outside.

- Forward passes: global module forward hooks see every call of the model (its mode,
  whether autograd is on, which batch went in). On each output the given loss function
  is evaluated against the batch's targets, and on the learner's own graph
  (`retain_graph=True`) its gradient: the yardstick every step is compared with, however
  the learner computed their loss (`nn` module, `torch.nn.functional`, a formula), with
  the learner's own dropout masks and batch statistics. The output's graph node is
  tagged (`node.metadata`), so a loss's graph tells which forward passes fed it.
- Losses: the tensor `backward()` is called on *is* the loss (a `TorchFunctionMode` sees
  `Tensor.backward`), whoever computed it; torch loss modules' outputs are recorded too.
  Do-nothing pre-hooks on a loss's graph nodes are its markers: they run when a backward
  pass reaches the loss, and live exactly as long as the nodes, so weak references to
  them tell whether the learner kept the loss's graph alive.
- Tensor hooks on the parameters run before a new gradient is added to `.grad`, so they
  see gradients left over from earlier (FACTS: the natural place for stale gradients).
- Steps: the global optimizer step hooks copy the gradients each step is about to use
  and measure how far it moved the weights. Weights that change outside every step of
  the given optimizer (an optimizer the learner built, `p -= lr * p.grad`, `.data`) are
  noticed at the next forward pass, step, or at the end of the run.

The inspector's own autograd calls set `busy`, so its hooks ignore them. Forward and
step hooks also ignore other threads (another check running beside this one); backward
hooks cannot, since autograd runs them on its own threads for GPU tensors.
"""
import functools
from contextlib import contextmanager
import os
import sys
import threading
import warnings
import weakref

import torch
from torch.nn.modules import module as module_hooks
from torch.nn.modules.loss import _Loss
from torch.optim import optimizer as optimizer_hooks
from torch.overrides import TorchFunctionMode

from autograder.inspector.replay import Replay
from autograder.inspector.trace import BackwardPass, Call, Forward, Loss, Step, Trace, WeightChange

_OWN = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the autograder package
_TORCH = os.path.dirname(os.path.abspath(torch.__file__))
FORWARD_KEY = "autograder.forward"
LOSS_KEY = "autograder.loss"
WALK_LIMIT = 2000  # graph nodes looked at per loss; a small model's graph has a few dozen


def mode_layers(model: torch.nn.Module) -> tuple:
    """'dropout' and/or 'batch-norm': what train and eval mode change in this model."""
    kinds = []
    for module in model.modules():
        kind = ("dropout" if isinstance(module, torch.nn.modules.dropout._DropoutNd)
                else "batch-norm" if isinstance(module, torch.nn.modules.batchnorm._NormBase)
                and module.track_running_stats else None)
        if kind and kind not in kinds:
            kinds.append(kind)
    return tuple(kinds)


def describe_optimizer(optimizer) -> str:
    """'SGD (lr=0.1)', 'Adam (lr=0.01)'."""
    if optimizer is None:
        return ""
    try:
        lr = optimizer.param_groups[0]["lr"]
        return f"{type(optimizer).__name__} (lr={float(lr):g})"
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return type(optimizer).__name__


def caller() -> tuple | None:
    """(file, line) of the innermost frame that is the learner's: not torch's, not ours, not a library's."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith((_OWN, _TORCH, "<frozen")) or "site-packages" in name or name == __file__
                or os.path.basename(name) in ("contextlib.py", "threading.py")):
            return name, frame.f_lineno
        frame = frame.f_back
    return None


def walk(root) -> tuple[list, list]:
    """From a loss's graph node: (forward passes it reaches, the loss-side nodes between
    the root and the model's outputs)."""
    forwards, loss_side = [], []
    held, seen, stack = [], set(), [root]  # `held` keeps node wrappers alive so ids stay unique
    while stack and len(held) < WALK_LIMIT:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        held.append(node)
        metadata = node.metadata
        forward = metadata.get(FORWARD_KEY)
        if forward is not None:
            if all(forward is not f for f in forwards):
                forwards.append(forward)
            continue
        if hasattr(node, "variable"):
            continue  # a leaf's AccumulateGrad node lives as long as the parameter: never a loss node
        loss_side.append(node)
        stack.extend(next_node for next_node, _ in node.next_functions)
    forwards.sort(key=lambda f: f.seq)
    return forwards, loss_side[:20]


_DIRECT: dict = {}  # id(model) -> the Recorder watching it, for `model.forward(x)` called directly
_PATCHED: dict = {}  # model class -> [its own `forward` (or None: inherited), models watched]
_PATCH_LOCK = threading.Lock()


def _direct_forward(original):
    """`forward` for the watched model's class: a call that does not come through `model(x)`
    (where the global hooks see it) is recorded as a forward pass all the same."""
    @functools.wraps(original)
    def forward(self, *args, **kwargs):
        recorder = _DIRECT.get(id(self))
        if recorder is None or recorder.inside_model_call() or recorder._elsewhere():
            return original(self, *args, **kwargs)
        return recorder.direct_forward(self, original, args, kwargs)
    return forward


def _watch_direct_calls(recorder, model) -> None:
    kind = type(model)
    with _PATCH_LOCK:
        _DIRECT[id(model)] = recorder
        if kind not in _PATCHED:
            own = kind.__dict__.get("forward")
            _PATCHED[kind] = [own, 0]
            kind.forward = _direct_forward(kind.forward)
        _PATCHED[kind][1] += 1


def _unwatch_direct_calls(model) -> None:
    kind = type(model)
    with _PATCH_LOCK:
        _DIRECT.pop(id(model), None)
        entry = _PATCHED.get(kind)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del _PATCHED[kind]
            if entry[0] is not None:
                kind.forward = entry[0]
            else:
                del kind.forward


class _Marker:
    """Hangs on a loss's graph node; tells the recorder when a backward pass reaches it."""

    def __init__(self, recorder, loss: Loss):
        self.recorder, self.loss = recorder, loss

    def __call__(self, grad_outputs):
        if not self.recorder.busy:
            self.recorder.backward_reached(self.loss)
        return None


class _BackwardWatch(TorchFunctionMode):
    """Sees every `tensor.backward()` (and `torch.autograd.backward`) in the learner's code:
    the tensor is the step's loss."""

    def __init__(self, recorder):
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if not self.recorder._elsewhere():
            if func is torch.Tensor.backward and args:
                return self.recorder.run_backward(func, args[0], args, kwargs)
            if func is torch.autograd.backward:
                tensors = args[0] if args else kwargs.get("tensors")
                if isinstance(tensors, (list, tuple)) and len(tensors) == 1:
                    tensors = tensors[0]
                if isinstance(tensors, torch.Tensor):
                    return self.recorder.run_backward(func, tensors, args, kwargs)
        return func(*args, **kwargs)



@contextmanager
def _hooks_silenced(params: list):
    """The loss's own gradient, untouched by hooks the learner put on the parameters
    (`p.register_hook(lambda g: g * 0.5)` changes what `.grad` receives, not the loss)."""
    saved = [(p._backward_hooks, dict(p._backward_hooks)) for p in params if p._backward_hooks]
    for hooks, _ in saved:
        hooks.clear()
    try:
        yield
    finally:
        for hooks, kept in saved:
            hooks.update(kept)

class Recorder:
    """A context manager: installs the hooks on enter, removes every one of them on exit."""

    def __init__(self, model, loss_fn, optimizer, book):
        self.model, self.loss_fn, self.optimizer, self.book = model, loss_fn, optimizer, book
        named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        self.params = [p for _, p in named]
        self.trace = Trace(param_names=[name for name, _ in named],
                           param_shapes=[tuple(p.shape) for p in self.params],
                           mode_layers=mode_layers(model), fixture_optimizer=describe_optimizer(optimizer),
                           loss_kind=type(loss_fn).__name__ if loss_fn is not None else "")
        self.busy = False
        self._seq = 0
        self._handles = []
        self._watch = None
        self._last_forward = None
        self._open = []  # (module, Forward) of the model call now running
        self._parts = {id(m) for m in model.modules() if m is not model}
        self._current_backward = None
        self._thread = None
        self._initial = self._snapshot()
        self._known = self._initial
        self._states = [self._initial]  # every state the given optimizer left the weights in
        self._before_step = None
        self._step_state = None  # the given optimizer's state and gradients before its step
        self._replay = Replay(optimizer, self.params) if optimizer is not None else None
        self._trained = {}  # id(forward) -> (forward, [losses]) for kept-graph counting
        self._call = None
        self._call_start = None

    # -- installing -------------------------------------------------------------------
    def __enter__(self):
        self._thread = threading.get_ident()
        self._handles = [
            module_hooks.register_module_forward_pre_hook(self._on_forward_start),
            module_hooks.register_module_forward_hook(self._on_forward_end, always_call=True),  # even if it raised
            optimizer_hooks.register_optimizer_step_pre_hook(self._on_step_start),
            optimizer_hooks.register_optimizer_step_post_hook(self._on_step_end),
        ]
        for index, param in enumerate(self.params):
            self._handles.append(param.register_hook(self._param_hook(index, param)))
        self._watch = _BackwardWatch(self)
        self._watch.__enter__()
        _watch_direct_calls(self, self.model)
        return self

    def __exit__(self, *exc):
        _unwatch_direct_calls(self.model)
        if self._watch is not None:
            self._watch.__exit__(None, None, None)
            self._watch = None
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._check_drift(at_end=True)
        self.trace.weights_changed = self._differs(self._initial)
        return False

    # -- calls ------------------------------------------------------------------------
    def begin_call(self) -> Call:
        """The learner's function is about to be called (again) on the same objects."""
        self._check_drift()
        self._call = self._add(Call(self._next(), len(self.trace.calls) + 1))
        self._call_start = self._snapshot()
        return self._call

    def end_call(self, result) -> None:
        self._check_drift()
        call = self._call
        call.end, call.result = self._seq, result
        call.weights_changed = self._differs(self._call_start)
        self._call = None

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _add(self, event):
        self.trace.events.append(event)
        return event

    def _elsewhere(self) -> bool:
        return self.busy or threading.get_ident() != self._thread

    # -- weights ----------------------------------------------------------------------
    def _snapshot(self) -> list:
        return [p.detach().clone() for p in self.params]

    def _differs(self, state: list) -> bool:
        """NaN counts as equal to NaN: weights that blew up and stayed NaN did not change."""
        return any(not torch.equal(s, p.detach()) and not torch.allclose(s, p.detach(), rtol=0, atol=0, equal_nan=True)
                   for s, p in zip(state, self.params))

    def _largest_change(self, state: list) -> float:
        changes = [float((p.detach() - s).abs().nan_to_num(nan=0.0).max()) for s, p in zip(state, self.params)
                   if p.numel()]
        return max(changes, default=0.0)

    def _check_drift(self, at_end: bool = False):
        """Weights that changed since the last step of any optimizer: changed by hand."""
        self.busy = True
        try:
            if not self._differs(self._known):
                return
            largest = self._largest_change(self._known)
            restored = any(not self._differs(state) for state in self._states)
            self._add(WeightChange(self._next(), largest, restored=restored, at_end=at_end))
            self._known = self._snapshot()
        finally:
            self.busy = False

    # -- forward ----------------------------------------------------------------------
    def _on_forward_start(self, module, args):
        """A call of the model, or of one of its layers called on its own (`model[0](x)`)
        outside any call of the model: both are forward passes of the model."""
        if self._elsewhere() or self._open or not self._is_model_part(module):
            return None
        self._check_drift()
        located = self.book.locate(args[0]) if args else None
        batch = located.batch if located is not None else self.book.latest
        forward = self._add(Forward(self._next(), batch, module.training, torch.is_grad_enabled(), where=caller(),
                                    known=located.known if located else (), exact=located.exact if located else ()))
        self._last_forward = forward
        self._open.append((module, forward))
        return None

    def _is_model_part(self, module) -> bool:
        """The model, one of its layers, or a slice of it (`model[1:]`, a new Sequential of its layers)."""
        if module is self.model or id(module) in self._parts:
            return True
        children = list(module.children())
        return bool(children) and all(id(child) in self._parts for child in children)

    def inside_model_call(self) -> bool:
        return bool(self._open)

    def direct_forward(self, model, original, args, kwargs):
        """`model.forward(x)`: what the hooks do around `model(x)`, around the call itself."""
        self._on_forward_start(model, args)
        output = None
        try:
            output = original(model, *args, **kwargs)
            return output
        finally:
            self._on_forward_end(model, args, output)

    def _on_forward_end(self, module, args, output):
        if self._elsewhere():
            return None
        if self._open and self._open[-1][0] is module:
            _, forward = self._open.pop()
            if isinstance(output, torch.Tensor):
                self._measure(forward, output)
        elif (module is self.loss_fn or isinstance(module, _Loss)) and isinstance(output, torch.Tensor) \
                and output.numel() == 1:
            self._record_module_loss(output)
        return None

    def _measure(self, forward: Forward, output: torch.Tensor):
        """The output, the given loss function's value on it, and (training) its gradient."""
        forward.output = output.detach().cpu().clone()
        if output.grad_fn is not None:
            output.grad_fn.metadata[FORWARD_KEY] = forward
        if self.loss_fn is None or forward.batch is None:
            return
        self.busy = True
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a shape the loss would broadcast is no model output
                reference = self.loss_fn(output, forward.batch.y.to(output.device))
            forward.reference = float(reference.detach())
            if reference.requires_grad and forward.split != "val":
                tracked = [p for p in self.params if p.requires_grad]  # the learner may switch some off
                with _hooks_silenced(tracked):
                    grads = iter(torch.autograd.grad(reference, [output] + tracked, retain_graph=True,
                                                     allow_unused=True))
                first = next(grads)
                forward.reference_output_grad = first.detach().cpu().clone() if first is not None else None
                forward.reference_grads = [next(grads) if p.requires_grad else None for p in self.params]
                forward.reference_grads = [None if g is None else g.detach().cpu().clone()
                                           for g in forward.reference_grads]
        except (RuntimeError, TypeError, ValueError, IndexError, UserWarning):
            pass  # outputs the given loss cannot read: the checks fall back to the learner's losses
        finally:
            self.busy = False
        if output.requires_grad and forward.split != "val":
            try:
                output.register_hook(self._output_hook(forward))
            except RuntimeError:
                pass

    def _output_hook(self, forward: Forward):
        """What the learner's backward passes send into the model's output: which targets their loss paired it with."""
        def hook(grad):
            if not self.busy and grad is not None:
                grad = grad.detach().cpu().clone()
                forward.output_grad = grad if forward.output_grad is None else forward.output_grad + grad
            return None
        return hook

    # -- losses -----------------------------------------------------------------------
    def _new_loss(self, tensor: torch.Tensor) -> Loss:
        value = float(tensor.detach().sum()) if tensor.numel() else float("nan")
        loss = Loss(self._next(), value)
        node = tensor.grad_fn
        if node is None:
            if self._last_forward is not None:
                loss.forwards = [self._last_forward]
                self._last_forward.losses.append(loss)
            return self._add(loss)
        forwards, loss_side = walk(node)
        loss.forwards = forwards or ([self._last_forward] if self._last_forward is not None else [])
        if len(loss.forwards) == 1:
            loss.forwards[0].losses.append(loss)
        node.metadata[LOSS_KEY] = loss
        for part in loss_side or [node]:
            marker = _Marker(self, loss)
            part.register_prehook(marker)
            loss.markers.append(weakref.ref(marker))
        self._add(loss)
        if forwards and loss.split != "val":  # validation with autograd on is judged by the modes checks
            self._count_kept_graphs(loss)
        return loss

    def _record_module_loss(self, output: torch.Tensor):
        if output.grad_fn is not None and LOSS_KEY in output.grad_fn.metadata:
            return
        self._new_loss(output)

    def _count_kept_graphs(self, newest: Loss):
        """Earlier training passes whose backward already ran but whose loss graph is still alive.

        The previous pass's loss may still sit in the `loss` variable, and one more in a
        variable of an outer scope, so a log is counted from two kept graphs on among the
        passes before those two; the figure reported counts every earlier pass.
        """
        first = newest.forwards[0]
        entry = self._trained.setdefault(id(first), (first, []))
        entry[1].append(newest)
        ordered = sorted(self._trained.values(), key=lambda item: item[0].seq)
        earlier = [(f, losses) for f, losses in ordered if f is not first and f.seq < first.seq and f.trained]
        kept = sum(1 for _, losses in earlier if any(l.alive for l in losses))
        older_kept = sum(1 for _, losses in earlier[:-1] if any(l.alive for l in losses))
        if older_kept >= 2 and kept > self.trace.most_graphs_kept:
            self.trace.most_graphs_kept = kept
            self.trace.kept_at_batch = len(ordered)
            self.trace.earlier_backwarded = len(earlier)

    # -- backward ---------------------------------------------------------------------
    def run_backward(self, func, tensor, args, kwargs):
        """`tensor.backward()` (or `torch.autograd.backward(tensor)`): record the pass and its loss, then run it."""
        if tensor.grad_fn is not None and LOSS_KEY in tensor.grad_fn.metadata:
            root = tensor.grad_fn.metadata[LOSS_KEY]
        elif tensor.grad_fn is not None:
            root = self._new_loss(tensor)
        else:
            root = None
        backward = self._add(BackwardPass(self._next(), root=root, where=caller()))
        if root is not None:
            self._join(backward, root)
        self._current_backward = backward
        try:
            return func(*args, **kwargs)
        except BaseException as error:
            backward.error = str(error)
            raise
        finally:
            self._current_backward = None

    def _join(self, backward: BackwardPass, loss: Loss):
        if all(loss is not l for l in backward.losses):
            backward.losses.append(loss)
        if backward.seq not in loss.backward_seqs:
            loss.backward_seqs.append(backward.seq)
        for forward in loss.forwards:
            if all(forward is not f for f in backward.forwards):
                backward.forwards.append(forward)
            if backward.seq not in forward.backward_seqs:
                forward.backward_seqs.append(backward.seq)

    def backward_reached(self, loss: Loss):
        backward = self._current_backward
        if backward is None:  # autograd called without `tensor.backward()`
            last = self.trace.events[-1] if self.trace.events else None
            if isinstance(last, BackwardPass) and not last.params_seen:
                backward = last  # the same traversal reached several losses (a summed loss)
            else:
                backward = self._add(BackwardPass(self._next()))
        self._join(backward, loss)

    def _param_hook(self, index, param):
        def hook(grad):
            if self.busy:
                return None
            current = self._current_backward
            if current is None:
                last = self.trace.events[-1] if self.trace.events else None
                current = last if isinstance(last, BackwardPass) and index not in last.params_seen else None
            if current is None:
                current = self._add(BackwardPass(self._next()))  # a backward that met no known loss
            current.params_seen.add(index)
            old = param.grad
            if old is not None and bool(old.detach().any()):
                current.stale = True
            return None
        return hook

    # -- step -------------------------------------------------------------------------
    def _grads(self) -> list:
        return [None if p.grad is None else p.grad.detach().cpu().clone() for p in self.params]

    def _on_step_start(self, optimizer, args, kwargs):
        if self._elsewhere():
            return None
        self._check_drift()
        given = optimizer is self.optimizer
        self._add(Step(self._next(), self._grads(), given, describe_optimizer(optimizer), where=caller(),
                       frozen=tuple(i for i, p in enumerate(self.params) if not p.requires_grad)))
        self._before_step = self._snapshot()
        self._step_state = self._replay.state_of(optimizer) if given and self._replay is not None else None
        return None

    def _on_step_end(self, optimizer, args, kwargs):
        """Measure the step. `step(closure)` runs clear → forward → backward inside the step:
        then the step used the gradients the closure made, so it is recorded after them."""
        if self._elsewhere():
            return None
        steps = [e for e in self.trace.events if isinstance(e, Step)]
        if not steps:
            return None
        step = steps[-1]
        position = next(i for i in range(len(self.trace.events) - 1, -1, -1) if self.trace.events[i] is step)
        if any(isinstance(e, BackwardPass) for e in self.trace.events[position + 1:]):
            del self.trace.events[position]
            step.seq = self._next()
            step.grads = self._grads()
            self._add(step)
        self.busy = True
        try:
            if self._before_step is not None:
                step.moved = self._largest_change(self._before_step)
                step.update = [(p.detach() - b).cpu() for p, b in zip(self.params, self._before_step)]
            self._known = self._snapshot()
            if step.fixture_optimizer:
                self._states.append(self._known)
                self._replay_step(step, optimizer)
        finally:
            self.busy = False
        return None

    def _replay_step(self, step: Step, optimizer) -> None:
        """What the given optimizer, as given, would have done with the gradients this step found."""
        if self._replay is None or self._step_state is None or self._before_step is None:
            return
        settings = self._replay.current(optimizer)
        step.lr = settings.get("lr")
        step.flipped = self._replay.flips(optimizer)
        grads = [None if p.grad is None else p.grad for p in self.params]
        step.expected_update = self._replay.update(self._before_step, grads, self._step_state, settings)
