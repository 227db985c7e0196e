"""logship: the code every logship Lambda function shares (deployed as a Lambda layer).

The data path, top to bottom (docs/design.md has the picture and the rules):

- ``subscribe``: which log groups are shipped; their subscription filters, and their lines from before it
  (subscribe-log-group, reconcile-subscriptions).
- ``ship``: a subscription batch -> typed documents -> bulk requests, each event with one outcome (ship-logs).
- ``cluster``: the connection to OpenSearch or Elasticsearch, its credentials, the index template
  (ship-logs, install-index-template).
- ``core``: what every path shares: settings, paced AWS calls, report lines, time, index names.

Packages import downwards only (subscribe and ship never import each other; cluster imports core; core imports
nothing of logship), and modules are imported where used, never here, to keep cold starts short.
"""

import warnings

# The layer leaves out requests' character detection (shared/Makefile): opensearch-py imports requests, but
# logship never decodes a response with it. The warning requests gives about that at import is only noise.
warnings.filterwarnings("ignore", message="Unable to find acceptable character detection dependency")
