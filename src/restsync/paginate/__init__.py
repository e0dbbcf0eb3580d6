"""restsync.paginate."""
