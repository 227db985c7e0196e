"""Redaction: built-ins are opt-in, card numbers must pass Luhn, user patterns apply everywhere."""

from __future__ import annotations

import pytest

from logship.core.config import REDACT_BUILTINS
from logship.ship.redaction import BUILTINS, Redactor


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
    # The secrets issue 11 named, which went through before it.
    ("keys", '{"password": "hunter2", "user": "bob"}', '{"password": "[REDACTED]", "user": "bob"}'),
    ("keys", '{"db_Password": "a\\"b", "Api-Key": "k1", "accessToken": "t"}',
     '{"db_Password": "[REDACTED]", "Api-Key": "[REDACTED]", "accessToken": "[REDACTED]"}'),
    ("keys", '{"message": "{\\"client_secret\\": \\"s3\\", \\"n\\": 1}"}',
     '{"message": "{\\"client_secret\\": \\"[REDACTED]\\", \\"n\\": 1}"}'),
    ("keys", "login user=bob password=hunter2 next=1", "login user=bob password=[REDACTED] next=1"),
    ("keys", 'retry PASSWD="two words" then', "retry PASSWD=[REDACTED] then"),
    ("keys", "GET /cb?code=1&token=abc&state=2", "GET /cb?code=1&token=[REDACTED]&state=2"),
    ("basic_auth", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [REDACTED]"),
    ("basic_auth", "{'authorization': 'basic dXNlcjpw'}", "{'authorization': 'basic [REDACTED]'}"),
    ("aws_key_id", "using AKIAIOSFODNN7EXAMPLE and ASIAY34FZKBOKMUTVV7A now", "using [REDACTED] and [REDACTED] now"),
    ("jwt", "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fw end", "session [REDACTED] end"),
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


KEEP = [
    '{"xray_trace_id": "1-6741b3f0-e1234567890123456b7c8d9e"}',  # 16 digits between hex letters
    "REPORT RequestId: c4b3a291-7d6e-4f5a-8b9c-0d1e2f3a4b5c\tDuration: 3.1 ms",
    "XRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 53995c3f42cd8ad8\tSampled: true",
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 ok",
    '{"total_tokens": 150, "token_budget": 4000, "keyboard": "us"}',  # numbers under a key name: only text goes
    "cache hit for key order:123, the secret of speed is caching",  # the words in prose, no value
    "ASIAN markets opened at 2025-11-22T10:00:00.151Z",
]


@pytest.mark.parametrize("text", KEEP)
def test_every_builtin_leaves_identifiers_and_prose_alone(text):
    assert Redactor(list(BUILTINS))(text) == text


def test_the_key_names_are_configurable():
    redactor = Redactor(["keys"], keys=["pin", "ssn"])
    assert redactor('{"pin": "1234", "password": "kept", "user_ssn": "1-2-3"}') == \
        '{"pin": "[REDACTED]", "password": "kept", "user_ssn": "[REDACTED]"}'


def test_every_builtin_leaves_all_of_the_bench_mixes_alone():
    """They hold trace ids, request ids, ARNs, IPs and prose with key names, and no secret: before issue 11
    the card rule rewrote digits inside 9 of the JSON mix's 5,000 X-Ray trace ids."""
    from tests import mixes

    redact = Redactor(list(BUILTINS))
    changed = [line for mix in mixes.MIXES for line in mixes.lines(mix, 5000) if redact(line) != line]
    assert changed == []


def test_the_card_pattern_finds_exactly_what_its_plain_form_finds():
    """The built-in is written for speed (a digit first, then the checks): it must match the same spans as
    the plain form, "13 to 19 digits, single spaces or dashes between, apart from letters, digits and dashes"."""
    import random
    import re

    from tests import mixes

    plain = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
    fast = re.compile(BUILTINS["card"].pattern)
    rng = random.Random(5)
    texts = [*mixes.lines("all", 1500), "card 4111 1111 1111 1111 ok", "x4111111111111111", "-4111111111111111",
             "4111111111111111-", "٤١١١١١١١١١١١١١١١ arabic digits", "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5"]
    texts += ["".join(rng.choice("0123456789 -a_.x:") for _ in range(rng.randrange(1, 60))) for _ in range(20_000)]
    assert sum(1 for text in texts if plain.search(text)) > 100  # the random texts hold many candidates
    for text in texts:
        assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)], text


def test_the_settings_offer_every_built_in_in_the_order_it_runs():
    # REDACT_BUILTINS is validated in core.config, which may not import the shipping path: the two lists must agree.
    assert tuple(BUILTINS) == REDACT_BUILTINS
