"""What every path shares, importing nothing else of logship: ``config`` (the one typed place where
environment variables become settings), ``aws_calls`` (paced AWS calls with bounded retries), ``report``
(JSON lines that are also Embedded Metric Format), ``timefmt`` (epoch milliseconds to the strings the
cluster wants), ``indices`` (where documents go) and ``custom_resource`` (CloudFormation's protocol)."""
