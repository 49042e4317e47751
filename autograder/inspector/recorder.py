"""Global torch hooks that watch one run of a learner's function and write a Trace.

The learner's code uses no wrapper: the fixture's model, loss and optimizer are
ordinary torch objects, and what happens to them is seen from the outside.

- Global module forward hooks see every call of the model (its mode, whether autograd
  is on, which batch went in) and of the loss function, or of any torch loss module a
  learner made for themselves (the loss value). At each loss
  we compute that loss's own gradient on the same graph (`retain_graph=True`), which
  is the reference every optimizer step is compared with: it needs no second model,
  and dropout masks and batch-norm statistics are the ones the learner's pass used.
- A do-nothing pre-hook on each loss's graph node is its marker: it runs when a
  backward pass reaches the loss, and it lives exactly as long as the node, so a weak
  reference to it tells whether the learner kept the loss's graph alive.
- Tensor hooks on the parameters run before a new gradient is added to `.grad`, so
  they see gradients left over from earlier (FACTS: the natural place for stale grads).
- The global optimizer step pre-hook copies the gradients every step is about to use
  (the post-hook moves a step after the backward pass its closure ran, if any).

The inspector's own autograd calls set `busy`, so its hooks ignore them. Forward and
step hooks also ignore other threads (another check running beside this one); backward
hooks cannot, since autograd runs them on its own threads for GPU tensors.
"""
import threading
import weakref

import torch
from torch.nn.modules import module as module_hooks
from torch.nn.modules.loss import _Loss
from torch.optim import optimizer as optimizer_hooks

from autograder.inspector.trace import BackwardPass, Forward, Loss, Step, Trace


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


class _Marker:
    """Hangs on a loss's graph node; tells the recorder when a backward pass reaches it."""

    def __init__(self, recorder, loss: Loss):
        self.recorder, self.loss = recorder, loss

    def __call__(self, grad_outputs):
        if not self.recorder.busy:
            self.recorder.backward_reached(self.loss)
        return None


class Recorder:
    """A context manager: installs the hooks on enter, removes every one of them on exit."""

    def __init__(self, fixture):
        self.fixture = fixture
        self.model = fixture.model
        self.loss_fn = fixture.loss_fn
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.trace = Trace(param_shapes=[tuple(p.shape) for p in self.params],
                           mode_layers=mode_layers(self.model))
        self.busy = False
        self._seq = 0
        self._handles = []
        self._last_forward = None
        self._training_losses = []
        self._thread = None

    # -- installing -------------------------------------------------------------------
    def __enter__(self):
        self._thread = threading.get_ident()
        self._handles = [
            module_hooks.register_module_forward_pre_hook(self._before_forward),
            module_hooks.register_module_forward_hook(self._after_forward),
            optimizer_hooks.register_optimizer_step_pre_hook(self._before_step),
            optimizer_hooks.register_optimizer_step_post_hook(self._after_step),
        ]
        for index, param in enumerate(self.params):
            self._handles.append(param.register_hook(self._param_hook(index, param)))
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        return False

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    # -- forward ----------------------------------------------------------------------
    def _elsewhere(self) -> bool:
        return self.busy or threading.get_ident() != self._thread

    def _before_forward(self, module, args):
        if self._elsewhere() or module is not self.model:
            return None
        book = self.fixture.book
        batch = (book.find(args[0]) if args else None) or book.latest  # latest: inputs reshaped or scaled
        forward = Forward(self._next(), batch, module.training, torch.is_grad_enabled())
        self.trace.forwards.append(forward)
        self.trace.events.append(forward)
        self._last_forward = forward
        return None

    def _after_forward(self, module, args, output):
        if self._elsewhere():
            return None
        if module is self.model and self._last_forward is not None and isinstance(output, torch.Tensor):
            self._last_forward.output = output.detach().cpu().clone()
        elif (module is self.loss_fn or isinstance(module, _Loss)) and isinstance(output, torch.Tensor) \
                and output.numel() == 1:
            self._record_loss(args, output)
        return None

    def _record_loss(self, args, output):
        size = len(args[0]) if args and isinstance(args[0], torch.Tensor) and args[0].dim() else 1
        loss = Loss(self._next(), self._last_forward, float(output.detach()), size)
        self.trace.losses.append(loss)
        self.trace.events.append(loss)
        if output.requires_grad and output.grad_fn is not None:
            self.busy = True
            try:
                grads = torch.autograd.grad(output, self.params, retain_graph=True, allow_unused=True)
            except RuntimeError:
                grads = None
            finally:
                self.busy = False
            loss.own_grads = None if grads is None else [
                None if g is None else g.detach().cpu().clone() for g in grads]
            marker = _Marker(self, loss)
            output.grad_fn.register_prehook(marker)
            loss.marker = weakref.ref(marker)
            if loss.split != "val":  # validation with autograd on is judged by the modes checks
                self._training_losses.append(loss)
                self._count_kept_graphs(loss)

    def _count_kept_graphs(self, newest: Loss):
        """Earlier losses whose backward already ran but whose graph is still alive.

        The previous loss may still sit in the `loss` variable, and one more may sit in a
        variable of an outer scope, so a log is counted from two kept graphs on among the
        losses before those two; the figure reported counts every earlier loss.
        """
        earlier = [loss for loss in self._training_losses[:-1] if loss.backward_seqs]
        kept = sum(1 for loss in earlier if loss.alive)
        older_kept = sum(1 for loss in self._training_losses[:-2] if loss.backward_seqs and loss.alive)
        if older_kept >= 2 and kept > self.trace.most_graphs_kept:
            self.trace.most_graphs_kept = kept
            self.trace.kept_at_batch = len(self._training_losses)
            self.trace.earlier_backwarded = len(earlier)

    # -- backward ---------------------------------------------------------------------
    def backward_reached(self, loss: Loss):
        last = self.trace.events[-1] if self.trace.events else None
        if isinstance(last, BackwardPass) and not last.params_seen:
            backward = last  # the same traversal reached several losses (a summed loss)
        else:
            backward = BackwardPass(self._next())
            self.trace.backwards.append(backward)
            self.trace.events.append(backward)
        backward.losses.append(loss)
        loss.backward_seqs.append(backward.seq)

    def _param_hook(self, index, param):
        def hook(grad):
            if self.busy:
                return None
            current = self.trace.events[-1] if self.trace.events else None
            if not isinstance(current, BackwardPass) or index in current.params_seen:
                current = BackwardPass(self._next())  # a backward that met no known loss
                self.trace.backwards.append(current)
                self.trace.events.append(current)
            current.params_seen.add(index)
            old = param.grad
            if old is not None and bool(old.detach().any()):
                current.stale = True
            return None
        return hook

    # -- step -------------------------------------------------------------------------
    def _before_step(self, optimizer, args, kwargs):
        if self._elsewhere():
            return None
        grads = [None if p.grad is None else p.grad.detach().cpu().clone() for p in self.params]
        step = Step(self._next(), grads, optimizer is self.fixture.optimizer)
        self.trace.steps.append(step)
        self.trace.events.append(step)
        return None

    def _after_step(self, optimizer, args, kwargs):
        """`step(closure)` runs clear → forward → backward inside the step: then the step
        used the gradients the closure made, so it is recorded after them."""
        if self._elsewhere() or not self.trace.steps:
            return None
        step = self.trace.steps[-1]
        position = next(i for i in range(len(self.trace.events) - 1, -1, -1) if self.trace.events[i] is step)
        if any(isinstance(e, BackwardPass) for e in self.trace.events[position + 1:]):
            del self.trace.events[position]
            step.seq = self._next()
            step.grads = [None if p.grad is None else p.grad.detach().cpu().clone() for p in self.params]
            self.trace.events.append(step)
        return None

