"""install-index-template: CloudFormation custom resource that installs the index template at deploy.

Invoked by hand (any other event), it installs and returns the outcome. Either way one line says what was
installed, skipped or refused (``logship status`` shows the latest).
"""

from __future__ import annotations

import os
from typing import Any

from logship.cluster.index_template import handle_install_request
from logship.core.custom_resource import answer, is_request
from logship.core.report import emit


def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    status, reason, physical_id = handle_install_request(event, os.environ)
    emit({"logship": "install-index-template", "level": "info" if status == "SUCCESS" else "error",
          "request_type": event.get("RequestType", "by hand") if isinstance(event, dict) else "by hand",
          "status": status, "reason": reason})
    if is_request(event):
        answer(event, status, reason, physical_id)
    return {"status": status, "reason": reason}
