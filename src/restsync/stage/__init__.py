"""restsync.stage."""
