"""logship: the code every logship Lambda function shares (deployed as a Lambda layer).

Modules are imported where used, never here, to keep cold starts short.
"""
