"""restsync.config."""
