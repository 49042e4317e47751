"""nbgrader's configuration for the course: run instructors' commands from this folder.

`source/<phase>/` is the source of each assignment (one phase = one assignment).
"""
c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.course_id = "training-loop"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# Stubs go inside function bodies so a release notebook always runs top to bottom.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Training cells take longer than nbgrader's 30 s default; a hang still ends.
c.Execute.timeout = 120

# nbgrader scores a grade cell 0 when it writes anything to stderr. A warning from
# correct code (a torch UserWarning, say) must not cost marks: drop warning lines.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\w*Warning: "

# A test cell a learner deleted is put back and run (nbgrader's default would leave
# it for manual grading); `python -m autograder grade` follows this setting too.
c.OverwriteCells.add_missing_cells = True
