"""Moved to localcloud/server.py (`LocalCloud`); this name stays until every branch has merged."""

from localcloud.server import LocalCloud as LocalApi

__all__ = ["LocalApi"]
