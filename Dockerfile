# syntax=docker/dockerfile:1
# The kappa CLI as an image: one image, every stage. The command picks the stage, e.g.
#   docker run --rm kappa enrich --brokers kafka:29092
# Configuration comes from KAPPA_* environment variables (src/config/settings.ts); compose/ wires a full stack.

# 1. Build: `npm ci` compiles src/ into dist/ (the `prepare` script; TypeScript is a dev dependency).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts/ scripts/
COPY src/ src/
RUN npm ci --no-audit --no-fund

# 2. Run: the compiled CLI and the production dependencies only (no TypeScript, no tsx).
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
WORKDIR /app

# Dependencies first so source edits reuse this layer; --ignore-scripts: no `prepare` (dist/ comes built).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

COPY bin/kappa.js bin/
COPY --from=build /app/dist/ dist/
COPY schemas/ schemas/
COPY data/ data/

# The default state directory (KAPPA_STATE_DIR=.kappa) is relative to /app: make it the node user's.
RUN mkdir -p /app/.kappa && chown node:node /app/.kappa
USER node

ENTRYPOINT ["node", "--max-semi-space-size=64", "bin/kappa.js"]
CMD ["--help"]
