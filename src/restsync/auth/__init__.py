"""restsync.auth."""
