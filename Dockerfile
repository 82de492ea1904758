# syntax=docker/dockerfile:1
# The kappa CLI as an image: one image, every stage. The command picks the stage, e.g.
#   docker run --rm kappa enrich --brokers kafka:29092
# Configuration comes from KAPPA_* environment variables (src/config/settings.ts); compose/ wires a full stack.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
WORKDIR /app

# Dependencies first so source edits reuse this layer. tsx is a runtime dependency: no build step.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY bin/ bin/
COPY src/ src/
COPY schemas/ schemas/
COPY data/ data/

# The default state directory (KAPPA_STATE_DIR=.kappa) is relative to /app: make it the node user's.
RUN mkdir -p /app/.kappa && chown node:node /app/.kappa
USER node

ENTRYPOINT ["node", "bin/kappa.js"]
CMD ["--help"]
