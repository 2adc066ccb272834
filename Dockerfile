# syntax=docker/dockerfile:1
# aviary's operator image: controller and admission webhook (`node dist/main.js`), plus the
# `aviary` CLI (dist/cli/main.js). Three stages: build compiles the TypeScript with every
# dependency; deps installs the production dependencies only; the runtime stage gets the
# compiled output and those, and runs as an unprivileged user with nothing to write but /tmp.
#   docker build -t <registry>/aviary:<tag> .
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsconfig.build.json: src/ -> dist/, relative `.ts` imports rewritten to `.js`.
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# Memory, measured with `npm run bench -- scale` (which starts aviary with this ENV and the
# ENTRYPOINT's flags, hack/image-runtime.ts):
# - MALLOC_ARENA_MAX=2: glibc gives each thread that allocates (V8's compiler and GC
#   helpers, libuv's pool) an arena of its own and keeps what it grew to; two are enough.
# - --max-old-space-size=384 (in NODE_OPTIONS, so a Deployment can raise it through its env
#   together with the memory limit): the heap fits the chart's 512Mi limit with room for
#   code and native memory. V8 also grows the heap in smaller steps under a limit of this
#   size than under the multi-GiB default of a large node, so it collects before it grows.
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    NODE_OPTIONS="--max-old-space-size=384"
WORKDIR /app
# package.json carries "type": "module", which makes dist/*.js ES modules.
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Read at run time by the local runner (--webhook-url) to register the same webhooks by URL.
COPY manifests/webhooks.yaml ./manifests/webhooks.yaml
# 65532: the conventional "nonroot" uid; no home, no shell needed, owns nothing in the image.
USER 65532:65532
# /metrics, /healthz, /readyz on 8080; the admission webhook (HTTPS) on 9443.
EXPOSE 8080 9443
# A 2 MiB young generation (V8's semi-spaces): aviary's garbage is small and short-lived
# (watch events, API responses), and a small new space keeps the resident set from growing
# to V8's default. `npm run bench -- scale` runs aviary with the same flags.
ENTRYPOINT ["node", "--max-semi-space-size=2", "dist/main.js"]
