""".NET: the runtime writes Node's tab-separated shape (``node.tab_line``) with Microsoft.Extensions.Logging's
short level names, and the JSON log format with its long ones; unhandled exceptions are written with ``fail``
and the exception's text (``Type: message``, ``---> Inner: message``, ``at ...`` frames)."""

from __future__ import annotations

# Short text names (info, fail, ...) and JSON names (Information, Critical, ...) not already standard words.
LEVELS = {"TRCE": "TRACE", "DBUG": "DEBUG", "INFORMATION": "INFO", "FAIL": "ERROR", "CRIT": "FATAL"}
# An exception's text when it arrives one event per line (stdout loggers).
CONTINUATION = ("---> ", " ---> ", "--- End of ", "   at ")
