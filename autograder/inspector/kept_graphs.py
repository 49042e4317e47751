"""Loss graphs kept alive across batches: `losses.append(loss)` or `total = total + loss`.

Each loss's graph node carries a marker (see recorder.py). When a new training loss is
computed, markers of *older* losses (not the previous one, which may still sit in
the `loss` variable) whose backward already ran but which are still alive mean the
learner's code holds references that reach those graphs. This catches a running sum
even when the function finally returns a float.
"""
from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.trace import Trace


def check_kept_graphs(trace: Trace) -> list[Diagnosis]:
    kept, earlier = trace.most_graphs_kept, trace.earlier_backwarded
    if kept == 0:
        return []
    which = f"all {earlier}" if kept == earlier else f"{kept} of the {earlier}"
    return [diagnosis(
        "loss-tensor-logged",
        f"When training loss number {trace.kept_at_batch} was computed, the graphs of {which} losses "
        f"before it were still alive after their `backward()`: the loss tensors were kept (in a list or "
        f"a running sum) instead of `loss.item()`, and every kept graph holds the activations of its forward pass "
        f"in memory.")]
