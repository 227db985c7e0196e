"""``python -m logship_cli``: the logship command, as the console script ``logship`` runs it."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from logship_cli.app import run
    except ImportError as exc:  # the command's libraries (click, rich) are an optional extra
        print(f"the logship command's libraries are not installed here ({exc}); install them with: "
              "pip install -e '.[cli]' (or make install), then run: logship --help", file=sys.stderr)
        return 1
    return run()


if __name__ == "__main__":
    sys.exit(main())
