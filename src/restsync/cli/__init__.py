"""restsync.cli."""
