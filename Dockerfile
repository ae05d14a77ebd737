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
# Fonts for the graphs rendered into the thread (resvg has none of its own). The user pilot has a fixed uid (10001),
# so files mounted from the host (SSH keys, which only their owner may read) can be given to it.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core tini && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 pilot \
 && useradd --system --uid 10001 --gid pilot --home-dir /app --shell /usr/sbin/nologin pilot \
 && mkdir -p /data && chown pilot:pilot /data
WORKDIR /app
# Code, runbooks and node_modules stay root's (COPY without --chown): the bot's user reads them and cannot change
# them, so a compromised bot process cannot rewrite its own code or runbooks.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY runbooks ./runbooks
# The SQLite store of a single container lives in the data volume (/app is root's and not writable by pilot); a config
# whose store.path is set wins, and with store.url (or DATABASE_URL) the store is Postgres and /data stays empty.
# /data is created and given to pilot above, before it is declared a volume, so a fresh volume is pilot's too.
VOLUME /data
USER pilot
ENV NODE_ENV=production PORT=3000 RUNBOOK_PILOT_CONFIG=/config/config.yml RUNBOOK_PILOT_STORE_PATH=/data/runbook-pilot.db
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini forwards SIGTERM so running actions finish and SSH connections close.
ENTRYPOINT ["/usr/bin/tini", "--"]
# --max-semi-space-size=4 (MB; V8's default lets it grow to 16): loading the bot's ~1,000 modules makes V8 double the
# young generation to its maximum (32 MB for both semi-spaces) and it never shrinks back, so an idle replica held
# about 111 MB where a bare Bolt app holds 70-80 MB. Capped at 4 MB it idles at 88-99 MB (issue #20, `BENCH_ONLY=idle`),
# and a 500-message storm peaks at 134-139 MB; the test replicas and benchmarks start the bot with the flags of this CMD.
CMD ["node", "--max-semi-space-size=4", "dist/main.js"]
