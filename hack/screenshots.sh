#!/usr/bin/env bash
# Takes the README's dashboard screenshots (docs/images/dashboard-promoted.png,
# dashboard-rolled-back.png and dashboard-judged.png) from real releases on the local control
# plane: it runs the dashboard's end-to-end tests with AVIARY_SCREENSHOT_DIR set, in headless
# Chromium.
set -euo pipefail
HACK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HACK/node.sh"
cd "$AVIARY_ROOT"
if [[ -z "${KUBECONFIG:-}" ]]; then
  bash "$HACK/cluster" up >/dev/null
  KUBECONFIG="$(bash "$HACK/cluster" kubeconfig)"
  export KUBECONFIG
  export PATH="$CP_BIN:$PATH"
fi
bash "$HACK/chromium.sh" install
mkdir -p docs/images
AVIARY_SCREENSHOT_DIR="$AVIARY_ROOT/docs/images" npx mocha --extension ts --timeout 300000 test/e2e/dashboard.test.ts test/e2e/dashboard-judge.test.ts
log "screenshots in docs/images: $(ls docs/images | tr '\n' ' ')"
