"""JupyterHub for the course: /etc/jupyterhub/jupyterhub_config.py (start: jupyterhub -f THIS).

Everyone logs in with their own system account (PAM, JupyterHub's default), so nbgrader
knows each learner by name and the shared exchange can tell their submissions apart.
Replace the names with your class list (or use your institution's authenticator).
"""
c = get_config()  # noqa: F821 (JupyterHub provides get_config)

c.JupyterHub.bind_url = "http://:8000"
c.Authenticator.allowed_users = {"instructor", "alice", "bob"}
c.Authenticator.admin_users = {"instructor"}

# Everyone lands in JupyterLab, in their own home folder.
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
