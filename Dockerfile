# syntax=docker/dockerfile:1
# Build: compile TypeScript and the native module (better-sqlite3) with the toolchain, then keep only what runs.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# Fonts for the graphs rendered into the thread (resvg has none of its own).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core tini && rm -rf /var/lib/apt/lists/* \
 && groupadd --system pilot && useradd --system --gid pilot --home-dir /app --shell /usr/sbin/nologin pilot \
 && mkdir -p /data && chown pilot:pilot /data
WORKDIR /app
COPY --from=build --chown=pilot:pilot /app/node_modules ./node_modules
COPY --from=build --chown=pilot:pilot /app/dist ./dist
COPY --chown=pilot:pilot package.json ./
COPY --chown=pilot:pilot bin ./bin
COPY --chown=pilot:pilot runbooks ./runbooks
USER pilot
ENV NODE_ENV=production PORT=3000 RUNBOOK_PILOT_CONFIG=/config/config.yml
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini forwards SIGTERM so running actions finish and SSH connections close.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
