"""Loss graphs kept alive across batches: `losses.append(loss)` or `total = total + loss`.

Each loss's graph node carries a marker (see recorder.py). When a new training loss is
computed, a marker of an *older* loss (not the previous one, which may still sit in
the `loss` variable) whose backward already ran but which is still alive means the
learner's code holds a reference that reaches that graph. This catches a running sum
even when the function finally returns a float.
"""
from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.trace import Trace


def check_kept_graphs(trace: Trace) -> list[Diagnosis]:
    if trace.most_graphs_kept == 0:
        return []
    return [diagnosis(
        "loss-tensor-logged",
        f"When training loss number {trace.kept_at_batch} was computed, the graphs of "
        f"{trace.most_graphs_kept} earlier losses were still alive after their `backward()`: the loss "
        f"tensors were kept (in a list or a running sum) instead of `loss.item()`, and every kept "
        f"graph holds its batch's activations in memory.")]
