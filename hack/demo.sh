#!/usr/bin/env bash
# The local demo: a good release promoted and a bad one rolled back, on the local control plane.
set -euo pipefail
HACK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HACK/node.sh"
echo "The aviary demo is coming soon: it needs the canary engine, metrics and routers first."
echo "Meanwhile 'hack/cluster up' starts the local control plane the demo will run on."
