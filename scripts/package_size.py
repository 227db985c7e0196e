"""Print the size of what `sam build` produced for Lambda, and fail when it is over the limit.

boto3/botocore come with the Lambda runtime: if they appear in the build, that is a packaging mistake,
and they count against the limit like anything else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("build_dir", type=Path, help="sam build output, e.g. .aws-sam/build")
    parser.add_argument("--limit-mb", type=float, default=4.0, help="fail above this total (default 4)")
    args = parser.parse_args()
    artifacts = sorted(p for p in args.build_dir.iterdir() if p.is_dir())
    if not artifacts:
        print(f"no build artifacts in {args.build_dir}; run `make build` first", file=sys.stderr)
        return 2
    total = 0
    for artifact in artifacts:
        size = tree_size(artifact)
        total += size
        print(f"{artifact.name:<28} {size / 1e6:8.2f} MB")
    print(f"{'total (unzipped)':<28} {total / 1e6:8.2f} MB  (limit {args.limit_mb} MB)")
    if total > args.limit_mb * 1e6:
        print(f"package is over {args.limit_mb} MB: look for boto3, botocore or grpc in the layer, and at what "
              "shared/Makefile leaves out", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
