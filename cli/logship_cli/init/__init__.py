"""What ``logship init`` needs: the facts it finds, the parameters it decides, and samconfig.toml it writes."""
