"""restsync.state."""
