"""logship: the code every logship Lambda function shares (deployed as a Lambda layer).

Modules are imported where used, never here, to keep cold starts short.
"""

import warnings

# The layer leaves out requests' character detection (shared/Makefile): opensearch-py imports requests, but
# logship never decodes a response with it. The warning requests gives about that at import is only noise.
warnings.filterwarnings("ignore", message="Unable to find acceptable character detection dependency")
