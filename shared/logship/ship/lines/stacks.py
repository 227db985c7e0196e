"""One error whose stack trace arrives as several consecutive events of one stream (``e.printStackTrace()``,
``traceback.print_exc()``, stdout loggers, Go panics), made searchable as one error.

The line the stack continues (the *head*: an error line, or a ``WARN``/``ERROR``/``FATAL`` line) gets
``error.stack_trace``, and its ``error.type``/``error.message`` from the stack when it had none; each
continuation line keeps its own document and gets the head's request id and level. The state lives for
one batch (one delivery of one stream): at a batch boundary a head keeps the part of its stack it saw,
and continuation lines at the start of the next batch stay plain text (still searchable by their words).

Lambda Managed Instances run several requests at once in one environment, so one stream interleaves them: a
line carrying another request id is never joined to the head. Python's unhandled-exception hint waits for its
own request's error past other requests' lines (which stay as they are); any other stack ends at such a line.
Plain lines carry no request id, so a stack printed one line per event can only be told apart by its order
(docs/fields.md says so).
"""

from __future__ import annotations

from logship.ship.lines import python
from logship.ship.lines.common import EXCEPTION, TRACEBACK, Fields
from logship.ship.lines.table import FAMILIES

# How the lines of a stack printed one event per line start (each family's, and any indented line), or look.
_CONTINUATION = (*(start for family in FAMILIES for start in family.continues), "\t", "  ")
_FRAMES = tuple(family.frames for family in FAMILIES if family.frames is not None)
_SEVERE = frozenset(("WARN", "ERROR", "FATAL"))
# The one way a line without fields starts a stack (every other head has fields): a caller may skip the rest.
OPENS_A_STACK = TRACEBACK


def fields_open_a_stack(fields: Fields) -> bool:
    """Whether a line with these fields, while no stack is open, opens one (an error, a severe level): a caller
    may take any other line as final at once."""
    error, log = fields.get("error"), fields.get("log")
    return bool(error or (log and log.get("level") in _SEVERE))


def _request_id(fields: Fields) -> str | None:
    faas = fields.get("faas")
    return faas.get("execution") if isinstance(faas, dict) else None


def _other_request(fields: Fields, head: Fields) -> bool:
    """Whether the line says it belongs to another request than the head (both carry one, and they differ)."""
    mine, heads = _request_id(fields), _request_id(head)
    return mine is not None and heads is not None and mine != heads


class StackJoiner:
    """Feed a batch's lines in order with :meth:`add`, then call :meth:`finish`.

    It changes the line fields it is given: the head's (``error``, ``log``) until its stack ends, and each
    continuation's (``faas.execution``, ``log.level``) when it is added. :attr:`head` is the open head's
    fields, so a caller can hold the lines of an open stack back until they can no longer change.
    """

    __slots__ = ("_awaits", "_head_message", "_lines", "_own", "_typed", "head")

    def __init__(self) -> None:
        self.head: Fields | None = None
        self._head_message = ""
        self._lines: list[str] = []
        self._typed = False  # the head has error.type, so an exception line starts a new error
        self._own = False  # the head's error came from its own line, which then starts the stack
        # What the head's next line brings: "message" (a Rust panic's), "error" (python's unhandled-exception
        # hint: the error's own event follows), or "".
        self._awaits = ""

    def add(self, message: str, fields: Fields) -> None:
        head = self.head
        if head is None and not fields and message[:1] != "T":  # the common plain line: nothing to do
            return
        if head is not None and self._awaits and self._awaited(message, fields, head):
            return
        if head is not None and self._continues(message, fields):
            self._attach(message, fields, head)
            return
        if head is not None:
            self.finish()
        if fields:
            if fields_open_a_stack(fields):
                error = fields.get("error")
                self._open(message, fields, has_type=bool(error and error.get("type")))
        elif message.startswith(OPENS_A_STACK):
            self._open(message, fields, has_type=False)
            self._lines.append(message)

    def finish(self) -> None:
        """Write the collected stack into the head's ``error.stack_trace``; call at the end of the batch."""
        head, lines, own_line = self.head, self._lines, self._own
        self.head, self._lines, self._typed, self._own, self._awaits = None, [], False, False, ""
        if head is None or not lines:
            return
        error = dict(head.get("error") or {})
        own = error.get("stack_trace") or (self._head_message if own_line else None)
        error["stack_trace"] = "\n".join(([own] if own else []) + lines)
        head["error"] = error
        head.setdefault("log", {"level": "ERROR"})  # an exception printed without a level is an error

    def _open(self, message: str, fields: Fields, has_type: bool) -> None:
        self.head, self._head_message, self._lines, self._typed, self._own = fields, message, [], has_type, has_type
        error = fields.get("error")
        if error is None and message.startswith(python.UNHANDLED):
            self._awaits = "error"
        elif error is not None and error.get("type") == "panic" and "message" not in error:
            self._awaits = "message"

    def _awaited(self, message: str, fields: Fields, head: Fields) -> bool:
        """The line the head waited for: whether it was taken (then the head has what it waited for), or passed
        over as another request's (then the head still waits, and the line stays as it is)."""
        if self._awaits == "error" and _other_request(fields, head):  # Managed Instances interleave requests
            return True
        awaits, self._awaits = self._awaits, ""
        if awaits == "message":  # a Rust panic's message, whatever it says
            head["error"] = {**head["error"], "message": message}
            self._attach(message, fields, head)
            return True
        error = fields.get("error")
        if not error:
            return False
        head["error"] = dict(error)  # python's unhandled exception, reported in the next event
        head["log"] = {**head.get("log", {}), "level": "ERROR"}  # the JSON format says WARNING
        request_id = head.get("faas", {}).get("execution")
        if request_id:
            fields.setdefault("faas", {}).setdefault("execution", request_id)
        self.finish()
        return True

    def _continues(self, message: str, fields: Fields) -> bool:
        if not fields:
            if not message:  # Go leaves a blank line between a panic's message and its goroutines
                return (self.head or {}).get("error", {}).get("type") == "panic"
            return (message.startswith(_CONTINUATION) or any(frame.match(message) for frame in _FRAMES)
                    or self._exception_line(message))
        # An exception line right after an error line without one (log4j to stdout, .NET, Python's last line):
        return not self._typed and fields.keys() == {"error"}

    def _exception_line(self, message: str) -> bool:
        return not self._typed and bool(EXCEPTION.match(message))

    def _attach(self, message: str, fields: Fields, head: Fields) -> None:
        self._lines.append(message)
        if not self._typed:
            match = EXCEPTION.match(message) if not message.startswith(("\t", " ")) else None
            if match:
                head["error"] = {**(head.get("error") or {}), "type": match[1], "message": match[2] or ""}
                self._typed = True
        request_id = _request_id(head)
        if request_id:
            fields["faas"] = {**fields.get("faas", {}), "execution": request_id}
        level = head.get("log", {}).get("level") or "ERROR"
        fields["log"] = {**fields.get("log", {}), "level": level}
