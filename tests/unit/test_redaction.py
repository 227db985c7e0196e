"""Redaction: built-ins are opt-in, card numbers must pass Luhn, user patterns apply everywhere."""

from __future__ import annotations

import pytest

from logship.redaction import Redactor


@pytest.mark.parametrize(("builtin", "text", "expected"), [
    ("email", "mail jane.doe+tag@example.co.uk now", "mail [REDACTED] now"),
    ("card", "card 4111 1111 1111 1111 ok", "card [REDACTED] ok"),
    ("card", "card 4111-1111-1111-1111 ok", "card [REDACTED] ok"),
    ("card", "order 4111111111111112 is not a card (Luhn fails)", "order 4111111111111112 is not a card (Luhn fails)"),
    ("card", "id 1763812800000123 too", "id 1763812800000123 too"),
    ("aws_secret", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key=[REDACTED]"),
    ("aws_secret", '{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}', '{"SecretAccessKey": "[REDACTED]"}'),
    ("aws_secret", "sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12 stays", "sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12 stays"),
    ("bearer", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig-_x", "Authorization: Bearer [REDACTED]"),
])
def test_builtins(builtin, text, expected):
    assert Redactor([builtin])(text) == expected


def test_nothing_is_redacted_unless_asked():
    redactor = Redactor()
    assert not redactor
    assert redactor("jane@example.com 4111 1111 1111 1111") == "jane@example.com 4111 1111 1111 1111"


def test_user_patterns_and_json_stays_valid():
    redactor = Redactor(["email"], [r"sku=\w+"])
    assert redactor('{"to": "a@b.io", "note": "sku=AB12"}') == '{"to": "[REDACTED]", "note": "[REDACTED]"}'
