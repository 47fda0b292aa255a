#!/usr/bin/env bash
# Builds the real vSMTP 2.2.1 server from crates.io the way its official binaries were
# built: the Cargo.lock shipped in the crate (--locked) and rustc 1.68.2, the stable
# release of the day (2023-03-31). Cached; prints the binary's path on stdout.
# Takes about 15 minutes on 2 cores the first time.
# Usage: build-vsmtp-2.2.1.sh [cache directory]
set -euo pipefail
cache=${1:-${VSMTP_PLUGIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vsmtp-plugin}}
root=$cache/real-vsmtp-2.2.1
if [ ! -x "$root/bin/vsmtp" ]; then
  rustup toolchain install 1.68.2 --profile minimal >&2
  # cargo 1.68 would clone the git index without the sparse protocol.
  CARGO_REGISTRIES_CRATES_IO_PROTOCOL=sparse \
    cargo +1.68.2 install vsmtp --version =2.2.1 --locked --bin vsmtp --root "$root" >&2
fi
echo "$root/bin/vsmtp"
