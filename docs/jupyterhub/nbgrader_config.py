"""Every account's nbgrader: /etc/jupyter/nbgrader_config.py.

One course, one exchange shared by all accounts. The exchange is nbgrader's system-wide
folder; create it once, writable by all: `mkdir -p /usr/local/share/nbgrader/exchange &&
chmod 777 /usr/local/share/nbgrader/exchange`. The course's own nbgrader_config.py uses
that folder whenever it exists.
"""
c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.course_id = "training-loop"
c.Exchange.root = "/usr/local/share/nbgrader/exchange"
