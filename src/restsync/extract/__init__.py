"""restsync.extract."""
