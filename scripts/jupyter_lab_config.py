"""Settings of the `jupyter lab` that scripts/start.sh serves (port, token and root come on its command line).

JupyterLab's news and update checks are off: the demo machine reaches no outside host.
"""
c.LabApp.news_url = None  # noqa: F821 - `c` is the config object jupyter_server passes in
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"  # noqa: F821
