"""restsync.destinations."""
