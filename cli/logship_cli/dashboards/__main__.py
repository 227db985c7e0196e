"""``python -m logship_cli.dashboards``: write the NDJSON files from the definitions (after changing them)."""

from logship_cli.dashboards import write

write()
