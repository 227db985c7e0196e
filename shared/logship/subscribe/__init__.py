"""The subscription path: which log groups get logship's subscription filter, and their earlier lines.

In the order a group meets them: ``selection`` (the one decision: shipped or not, and why), ``subscriber``
(what both functions build once: settings, clients, the per-group decision with tags), ``subscriptions``
(put, update, remove a filter, with one outcome each), ``destinations`` (is another filter's destination
alive?), ``backfill`` and ``delivery`` (the lines logged before the filter, handed to ship-logs as a
subscription would), ``report`` (one line per group, one summary per run). Entry points: ``created_groups``
(a CloudTrail CreateLogGroup event), ``sweep`` and ``reconcile`` (every group: install, schedule, uninstall),
and ``dead_letters`` (settling subscribe-log-group's dead-letter queue after a complete sweep).
"""
