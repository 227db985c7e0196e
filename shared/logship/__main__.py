"""``python -m logship``: the logship command, when it is installed (``pip install -e '.[cli]'``).

The command lives outside the layer (the ``logship_cli`` package) with libraries Lambda never needs; nothing
in the layer imports it, and this file only does so when run (tests/unit/test_cli_layer.py keeps it so).
"""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from logship_cli.app import run
    except ImportError as exc:
        print(f"the logship command is not installed here ({exc}); install it with: pip install -e '.[cli]' "
              "(or make install), then run: logship --help", file=sys.stderr)
        return 1
    return run()


if __name__ == "__main__":
    sys.exit(main())
