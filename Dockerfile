# The CareThread relay as a container image: built in one stage, run from a production-only copy
# in another, as an unprivileged user with its data folder on a volume. docs/deployment.md tells
# how to run several of them behind nginx (deploy/compose.yaml).
#   docker build -t carethread-relay .

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source when its prebuilt binary cannot be downloaded; node-gyp then
# uses the image's own Node headers instead of downloading them.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
RUN npm install -g pnpm@10.34.9
WORKDIR /src
# Dependencies first, from the lockfile alone, so a source change does not download them again.
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline
RUN pnpm exec tsc --build packages/server
# The relay with its production dependencies only, the workspace's shared package copied in.
# --legacy: pnpm 10's default deploy needs inject-workspace-packages, which this workspace does
# not set.
RUN pnpm --filter @carethread/server deploy --prod --legacy /out

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    CARETHREAD_DATA_DIR=/data \
    PORT=8080 \
    HOST=0.0.0.0
# The code stays root's and read-only; only the data folder belongs to the relay's user.
COPY --from=build /out /app
RUN mkdir /data && chown node:node /data
# SQLite (when no DATABASE_URL is set) and the keys every node must share: the dev tenant's,
# the consent receipt key and the PDF seal (docs/deployment.md).
VOLUME /data
USER node
WORKDIR /app
EXPOSE 8080
# /readyz answers 503 while the store is unreachable or the relay drains after SIGTERM. The slim
# image has no curl; Node's fetch does.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The relay handles SIGTERM itself (drains, then exits 0); it starts no child processes to reap.
CMD ["node", "bin/carethread-relay.js"]
