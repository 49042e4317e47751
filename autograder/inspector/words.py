"""Small helpers so every message counts in good English: "1 epoch", "2 epochs", "twice"."""

_PLURALS = {"loss": "losses", "batch": "batches", "pass": "passes", "entry": "entries"}


def plural(noun: str) -> str:
    if noun in _PLURALS:
        return _PLURALS[noun]
    for singular, many in _PLURALS.items():
        if noun.endswith(" " + singular):
            return noun[: -len(singular)] + many
    return noun + "s"


def count(n: int, noun: str) -> str:
    """'1 epoch', '3 epochs', '2 backward passes'."""
    return f"{n} {noun if n == 1 else plural(noun)}"


def times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def listed(numbers: list, noun: str) -> str:
    """'epoch 2', 'epochs 2, 3 and 5'."""
    words = [str(n) for n in numbers]
    if len(words) == 1:
        return f"{noun} {words[0]}"
    return f"{plural(noun)} {', '.join(words[:-1])} and {words[-1]}"
