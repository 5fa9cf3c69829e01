#!/usr/bin/env bash
# kernels/source_hash.sh: prints the sha256 of the kernel sources (the inputs of the
# committed module wasm.generated.ts): Cargo.toml, Cargo.lock, src/*.rs, build.sh and this
# file, by relative path, in a fixed order. Needs no Rust.
set -euo pipefail
cd "$(dirname "$0")"
files=(Cargo.toml Cargo.lock build.sh source_hash.sh)
while IFS= read -r f; do files+=("$f"); done < <(LC_ALL=C ls src/*.rs | LC_ALL=C sort)
for f in "${files[@]}"; do
  printf '%s\0' "$f"
  sha256sum < "$f" | cut -d' ' -f1
done | sha256sum | cut -d' ' -f1
