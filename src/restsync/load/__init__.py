"""restsync.load."""
