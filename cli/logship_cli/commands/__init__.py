"""One module per command group; each exposes one click command (or group) registered in ``app``."""
