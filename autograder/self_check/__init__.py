"""The `check` verb: load a learner's function from a file and run one exercise's checks."""
