# syntax=docker/dockerfile:1.7
# Cockpit's image: the bot, the Pulumi CLI it drives through the Automation API, git for the infra checkout.
# Built by CI elsewhere (no Docker engine on the development machines):
#   docker build -t cockpit:$(git rev-parse --short HEAD) .
# Node 22 is the current LTS line; the code is also tested on Node 20.19+ (engines in package.json).
ARG NODE_IMAGE=node:22-bookworm-slim
ARG PULUMI_VERSION=3.248.0

# --- dependencies, with the toolchain native modules (better-sqlite3) may need ---------------------------
FROM ${NODE_IMAGE} AS deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- compile TypeScript -----------------------------------------------------------------------------------
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY bot ./bot
COPY handlers ./handlers
RUN npx tsc -p tsconfig.build.json

# --- production dependencies only ---------------------------------------------------------------------------
FROM deps AS prod-deps
RUN npm prune --omit=dev --no-audit --no-fund

# --- the Pulumi CLI, pinned to the SDK's version and checked against the release's published checksums ---------
FROM debian:bookworm-slim AS pulumi
ARG PULUMI_VERSION
ARG TARGETARCH=amd64
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*
RUN set -eux; \
    arch="$( [ "$TARGETARCH" = "arm64" ] && echo arm64 || echo x64 )"; \
    file="pulumi-v${PULUMI_VERSION}-linux-${arch}.tar.gz"; \
    curl -fsSLO "https://github.com/pulumi/pulumi/releases/download/v${PULUMI_VERSION}/${file}"; \
    curl -fsSL "https://github.com/pulumi/pulumi/releases/download/v${PULUMI_VERSION}/pulumi-${PULUMI_VERSION}-checksums.txt" -o checksums.txt; \
    grep " ${file}\$" checksums.txt | sha256sum -c -; \
    mkdir -p /opt/pulumi && tar -xzf "${file}" -C /opt && /opt/pulumi/pulumi version

# --- runtime --------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PATH=/opt/pulumi:$PATH \
    PULUMI_SKIP_UPDATE_CHECK=true \
    COCKPIT_DATA_DIR=/var/lib/cockpit \
    PORT=3000
COPY --from=pulumi /opt/pulumi /opt/pulumi
WORKDIR /app
COPY --chown=root:root package.json package-lock.json cockpit.yml app.manifest.yml ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY infra ./infra
COPY runbooks ./runbooks
# The app's files stay root-owned and read-only to the process; only its data dir is writable.
RUN mkdir -p /var/lib/cockpit && chown node:node /var/lib/cockpit
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# tini forwards SIGTERM so Cockpit can finish in-flight replies and release its locks.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/bot/main.js"]
