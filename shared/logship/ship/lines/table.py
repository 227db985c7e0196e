"""Every line family, in the order the parser tries them on a line they may read (family.py says how).

To add a family: its module (readers with the :class:`~logship.ship.lines.family.Family` signature, and its
``Family`` values), and one entry here, before any family whose lines it must not be taken for. Those that read
a line no other family reads (an exception, a process's death) come last.
"""

from __future__ import annotations

from logship.ship.lines import (
    colour,
    exceptions,
    extensions,
    go_ruby,
    java,
    json_lines,
    metrics,
    node,
    php,
    platform,
    python,
    runtime,
    rust,
)
from logship.ship.lines.family import Family

FAMILIES: tuple[Family, ...] = (
    platform.INVOCATION,  # START, END, REPORT: a third of the lines of most functions
    json_lines.JSON,
    python.BRACKETED,
    rust.ENV_LOGGER,
    php.FPM,
    extensions.BRACKETED,
    node.TAB,
    platform.TIMEOUT,
    java.LOG4J,
    metrics.MONITORING,
    rust.TRACING,
    go_ruby.GO_LOG,
    python.BOOTSTRAP,
    java.SLF4J,
    platform.PHASE,
    platform.RUNTIME_EXIT,  # before the families below: their lines may also say that the runtime exited
    platform.UNKNOWN_ERROR,
    platform.WORDS,
    go_ruby.RUBY_LOGGER,
    python.UNHANDLED_HINT,
    runtime.ERROR_LINE,
    python.IMPORT_ERROR_LINE,
    extensions.DATADOG_EXTENSION,
    php.FPM_UNDECORATED,
    php.PHP_ERROR,
    colour.COLOURED,
    # Lines without a prefix of their own: a process dying, an exception whatever printed it.
    go_ruby.GO_HANDLER_PANIC_LINE,
    go_ruby.GO_PANIC_LINE,
    rust.PANIC_LINE,
    java.UNCAUGHT_LINE,
    python.OLD_UNCAUGHT,
    exceptions.EXCEPTION_LINE,
)
