"""CodeBuild job entry points (`python -m pipeline.jobs.<name>`); they run on a laptop too."""
