#!/usr/bin/env bash
# Builds the real lgc 1.1.1 (LogCraftIO/logcraft-cli, tag lgc/1.1.1) from its source
# and its Cargo.lock, for test/real-lgc.test.ts; prints the binary's path last.
#   build-lgc-1.1.1.sh [CACHE_DIR] [SOURCE_DIR]
# SOURCE_DIR is a checkout of that tag; without it, the tag is cloned from GitHub.
# About 17 minutes on 2 cores; needs libssl-dev and pkg-config (tokio-native-tls).
set -euo pipefail
cache="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/vsmtp-plugin}"
dest="$cache/real-lgc-1.1.1"
if [ -x "$dest/lgc" ]; then echo "$dest/lgc"; exit 0; fi
source_dir="${2:-}"
if [ -z "$source_dir" ]; then
  source_dir="$dest/src"
  [ -d "$source_dir" ] || git clone --quiet --depth 1 --branch lgc/1.1.1 https://github.com/LogCraftIO/logcraft-cli "$source_dir"
fi
# lgc 1.1.1 declares rust-version 1.82; its lock builds with today's stable.
(cd "$source_dir" && CARGO_TARGET_DIR="$dest/target" cargo build --release --locked -p lgc >&2)
mkdir -p "$dest"
cp "$dest/target/release/lgc" "$dest/lgc.tmp" && mv "$dest/lgc.tmp" "$dest/lgc"
echo "$dest/lgc"
