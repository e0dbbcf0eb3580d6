"""restsync.connectors."""
