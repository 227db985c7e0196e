"""The shipping path: a CloudWatch Logs subscription batch -> typed documents -> bulk requests.

In the order an event meets them: ``payload`` (the envelope, decoded once), ``redaction`` (secrets out of the
raw line), ``lines`` (one line -> its message and fields, one module per family), ``documents`` (fields ->
bulk lines, ``_id`` and index), ``sink`` (bulk requests, one outcome per document, bounded retries),
``function_metrics`` (CloudWatch metrics from the lines) and ``report`` (one summary per invocation).
``shipper`` runs them for ship-logs. Pure up to ``documents``; all I/O is in ``sink``.
"""
