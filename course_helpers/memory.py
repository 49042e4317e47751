"""How many bytes autograd keeps for a backward pass (phases 5 and 6).

Phase 5 shows that this memory grows with the batch size, which is one reason loops
eat data in batches; phase 6 shows that validation without `torch.no_grad()` pays it
for a backward pass that never comes. Both count it the same way, here.
"""
import torch


def bytes_saved_for_backward(run, model: torch.nn.Module | None = None):
    """Call `run()`; return (bytes autograd saved for a backward pass, what `run()` returned).

    A `saved_tensors_hooks` context sees every tensor autograd stores. Each piece of
    memory (a storage) counts once, however many tensors view it, and the parameters of
    `model` are left out: the weights sit in memory with or without a graph.
    """
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()} if model is not None else set()
    saved = {}  # storage address -> bytes

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in weights:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        result = run()
    return sum(saved.values()), result
