"""What moto (5.2.5) lacks of the AWS behaviour logship depends on, added as the API references describe it.

Applied to every integration test (conftest), in-process and in the moto server alike, so tests meet AWS's
answers rather than moto's silence:

- **Log classes** (CloudWatch Logs, "Log classes"): CreateLogGroup's ``logGroupClass`` is kept, DescribeLogGroups
  returns it, and a group of a class other than Standard refuses subscription filters and FilterLogEvents with
  ``ValidationException: This operation is only supported on the Standard log class.``
"""

from __future__ import annotations

from typing import Any

import pytest
from moto.logs import models as logs_models
from moto.logs import responses as logs_responses
from moto.logs.exceptions import ValidationException

STANDARD_ONLY = "This operation is only supported on the Standard log class."


def _log_group_class(group: Any) -> str:
    return getattr(group, "log_group_class", "STANDARD")


def teach_log_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    group_init = logs_models.LogGroup.__init__
    describe = logs_models.LogGroup.to_describe_dict
    put_filter = logs_models.LogGroup.put_subscription_filter
    filter_events = logs_models.LogGroup.filter_log_events
    create = logs_responses.LogsResponse.create_log_group

    def init(self: Any, account_id: str, region: str, name: str, **kwargs: Any) -> None:
        group_init(self, account_id, region, name, **kwargs)
        self.log_group_class = kwargs.get("logGroupClass") or "STANDARD"

    def to_describe_dict(self: Any) -> dict[str, Any]:
        return describe(self) | {"logGroupClass": _log_group_class(self)}

    def standard_only(method: Any) -> Any:
        def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
            if _log_group_class(self) != "STANDARD":
                raise ValidationException(STANDARD_ONLY)
            return method(self, *args, **kwargs)
        return checked

    def create_log_group(self: Any) -> str:
        log_class = self._get_param("logGroupClass")
        if not log_class:
            return create(self)
        self.logs_backend.create_log_group(self._get_param("logGroupName"), self._get_param("tags"),
                                           kmsKeyId=self._get_param("kmsKeyId"), logGroupClass=log_class)
        return ""

    monkeypatch.setattr(logs_models.LogGroup, "__init__", init)
    monkeypatch.setattr(logs_models.LogGroup, "to_describe_dict", to_describe_dict)
    monkeypatch.setattr(logs_models.LogGroup, "put_subscription_filter", standard_only(put_filter))
    monkeypatch.setattr(logs_models.LogGroup, "filter_log_events", standard_only(filter_events))
    monkeypatch.setattr(logs_responses.LogsResponse, "create_log_group", create_log_group)
