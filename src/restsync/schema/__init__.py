"""restsync.schema."""
