"""Generate Python protobuf/gRPC code from proto/ into the git-ignored gen/ folder.

Run by the Makefile; never edit the output. Uses grpc_tools.protoc so no network is needed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"
GEN = ROOT / "gen"


def main() -> int:
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    if GEN.exists():
        shutil.rmtree(GEN)
    GEN.mkdir()
    well_known = Path(protoc.__file__).parent / "_proto"
    rc = protoc.main(
        [
            "protoc",
            f"-I{PROTO}",
            f"-I{well_known}",
            f"--python_out={GEN}",
            f"--pyi_out={GEN}",
            f"--grpc_python_out={GEN}",
            *files,
        ]
    )
    if rc != 0:
        return rc
    for directory in [p for p in GEN.rglob("*") if p.is_dir()]:
        (directory / "__init__.py").touch()
    (GEN / ".stamp").touch()
    print(f"generated {len(files)} proto files into {GEN.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
