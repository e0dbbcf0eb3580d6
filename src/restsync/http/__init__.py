"""restsync.http."""
