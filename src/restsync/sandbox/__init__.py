"""restsync.sandbox."""
