# One image per service, from one file: docker build --build-arg SERVICE=gateway -t dronedelivery/gateway .
# The load generator too: docker build --build-arg SERVICE=loadgen -t dronedelivery/loadgen . (tools/loadgen).
# Stages: manifests (package.json files + lockfile), build (all workspaces compiled once; shared by every
# service's build through the layer cache), prod-deps (only the chosen service's production dependencies, pruned of
# what Node never loads), node-runtime (the base without npm, npx, corepack, yarn and C headers), runtime (compiled
# code + those dependencies, non-root, nothing written outside /tmp, so it runs with a read-only root filesystem).
#
# The base is pinned by digest (the multi-arch index of node:22-bookworm-slim, as published on Docker Hub; bump tag
# and digest together). NODE_IMAGE overrides it, e.g. with the locally made base of tools/docker/node-base-image.sh.
ARG NODE_IMAGE=node:22-bookworm-slim@sha256:f3a68cf41a855d227d1b0ab832bed9749469ef38cf4f58182fb8c893bc462383
# Picks the final stage (runtime-<SERVICE>, at the end).
ARG SERVICE

# Manifests only: dependency layers are rebuilt only when a manifest or the lockfile changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
ENV npm_config_cache=/npm-cache
COPY package.json package-lock.json ./
COPY libs/platform/package.json libs/platform/
COPY libs/testing/package.json libs/testing/
COPY services/delivery/package.json services/delivery/
COPY services/dronescheduler/package.json services/dronescheduler/
COPY services/gateway/package.json services/gateway/
COPY services/package/package.json services/package/
COPY services/workflow/package.json services/workflow/
COPY tools/loadgen/package.json tools/loadgen/

FROM manifests AS build
# The workspaces' own trees (their dependencies and the compiler), not the repo's test and deploy tooling. No install
# scripts: nothing here needs one to compile or run, and none runs with build privileges.
RUN npm ci --ignore-scripts --no-audit --no-fund --workspace libs/platform --workspace services/delivery \
      --workspace services/dronescheduler --workspace services/gateway --workspace services/package --workspace services/workflow --workspace tools/loadgen
COPY tsconfig.base.json ./
COPY libs/platform/ libs/platform/
COPY services/ services/
COPY tools/loadgen/ tools/loadgen/
RUN node node_modules/typescript/bin/tsc -b libs/platform/tsconfig.lib.json services/delivery/tsconfig.app.json services/dronescheduler/tsconfig.app.json \
      services/gateway/tsconfig.app.json services/package/tsconfig.app.json services/workflow/tsconfig.app.json tools/loadgen/tsconfig.app.json

FROM manifests AS prod-deps
# The build stage downloaded every package already: each service's install reads them from its cache.
COPY --from=build /npm-cache /npm-cache
ARG SERVICE
# The workspace of SERVICE: services/<name>, or tools/loadgen for the load generator.
RUN dir="services/${SERVICE}"; [ "${SERVICE}" != loadgen ] || dir=tools/loadgen; \
    test -f "$dir/package.json" || { echo "build with --build-arg SERVICE=<gateway|workflow|package|dronescheduler|delivery|loadgen>" >&2; exit 1; }
# Only this service's production dependencies and the platform library it uses, from a tree without dev packages.
# npm keeps packages that another workspace needs when they are an optional peer of something here (terminus ->
# typeorm -> mssql); npm ls flags those as extraneous for this workspace, and they are removed.
RUN dir="services/${SERVICE}"; [ "${SERVICE}" != loadgen ] || dir=tools/loadgen; \
    npm ci --omit=dev --omit=optional --ignore-scripts --prefer-offline --no-audit --no-fund --workspace "$dir" \
 && npm ls --omit=dev --all --json --long --workspace "$dir" > /tmp/tree.json; \
    node -e 'const fs = require("fs"); const paths = new Set(); \
      (function walk(n) { for (const d of Object.values(n.dependencies || {})) { if (d.extraneous && d.path) paths.add(d.path); walk(d); } })(JSON.parse(fs.readFileSync("/tmp/tree.json", "utf8"))); \
      for (const p of paths) fs.rmSync(p, { recursive: true, force: true }); console.log("removed " + paths.size + " extraneous packages");' \
 && npm ls --omit=dev --all --workspace "$dir" > /dev/null
# Then what Node never loads: documentation (*.md), source maps, TypeScript sources and declarations, build info, and
# test folders inside packages (a package itself named "test" stays). Licences and everything requirable stay.
RUN node -e 'const fs = require("fs"), path = require("path"); let files = 0, bytes = 0; \
      const drop = (p) => { bytes += fs.statSync(p).size; fs.rmSync(p, { recursive: true, force: true }); files += 1; }; \
      const walk = (dir, kind) => { for (const e of fs.readdirSync(dir, { withFileTypes: true })) { const p = path.join(dir, e.name); \
        if (e.isDirectory()) { if (kind === "modules") walk(p, e.name.startsWith("@") ? "scope" : "package"); else if (kind === "scope") walk(p, "package"); \
          else if (e.name === "node_modules") walk(p, "modules"); else if (["__tests__", "test", "tests", ".github"].includes(e.name)) fs.rmSync(p, { recursive: true, force: true }); \
          else walk(p, "package"); } \
        else if (e.isFile() && /\.(md|markdown|map|ts|mts|cts|tsbuildinfo)$/i.test(e.name)) drop(p); } }; \
      walk("/app/node_modules", "modules"); console.log("pruned " + files + " files (" + (bytes / 1e6).toFixed(1) + " MB) and test folders");'

# The chosen workspace's manifest and compiled code at one path, whatever SERVICE names (the classic builder builds
# every stage, also the runtime stages SERVICE does not pick).
FROM build AS service-files
ARG SERVICE
RUN node -e 'const fs = require("fs"); const s = process.env.SERVICE; const dir = s === "loadgen" ? "tools/loadgen" : "services/" + s; \
      fs.mkdirSync("/out"); for (const f of ["package.json", "dist", "mix.default.json"]) if (fs.existsSync(dir + "/" + f)) fs.cpSync(dir + "/" + f, "/out/" + f, { recursive: true });'

# The base's file system without the package managers and headers, flattened into one layer (deleting them in a
# later layer would not make the image smaller). The base has no rm, so node deletes.
FROM ${NODE_IMAGE} AS node-runtime-files
RUN node -e 'for (const p of ["/usr/local/lib/node_modules", "/usr/local/bin/npm", "/usr/local/bin/npx", "/usr/local/bin/corepack", \
      "/usr/local/bin/yarn", "/usr/local/bin/yarnpkg", "/usr/local/include/node", "/usr/local/share/doc/node", "/usr/local/share/man", \
      "/usr/local/share/systemtap", "/root/.npm"]) require("fs").rmSync(p, { recursive: true, force: true }); \
      for (const d of require("fs").existsSync("/opt") ? require("fs").readdirSync("/opt") : []) if (d.startsWith("yarn")) require("fs").rmSync("/opt/" + d, { recursive: true, force: true });'
FROM scratch AS node-runtime
COPY --from=node-runtime-files / /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

FROM node-runtime AS service-runtime
ARG SERVICE
LABEL org.opencontainers.image.title="dronedelivery-${SERVICE}" \
      org.opencontainers.image.description="dronedelivery ${SERVICE} service"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
# Memory (docs/performance.md, "Memory"): a young generation of 2 x 2 MiB instead of 2 x 16 MiB; an old generation
# capped at 256 MiB, which also makes V8 collect it from 128 MiB on (by default it let garbage pile up towards 2 GiB
# before the first full collection) and grow it by a smaller factor; one V8 worker thread instead of four. Every
# service stays under 150 MiB resident after the benchmark, for ~25 % more CPU in the drone scheduler (more GC). A
# deployment may add to NODE_OPTIONS (later flags win). tools/local/stack.mjs and the memory test read this
# instruction (libs/testing serviceRuntimeEnv), so keep it one ENV instruction that starts with NODE_OPTIONS.
ENV NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=256 --v8-pool-size=1"
WORKDIR /app/services/${SERVICE}
# Owned by root and not writable by the runtime user: the code cannot be changed by the process that runs it.
COPY --from=prod-deps /app/node_modules /app/node_modules
COPY --from=build /app/libs/platform/package.json /app/libs/platform/
COPY --from=build /app/libs/platform/dist /app/libs/platform/dist
COPY --from=service-files /out/package.json ./
COPY --from=service-files /out/dist ./dist
# Where compose mounts the local service-token key pair (docs/security.md); the runtime user's, so a fresh volume is.
RUN ["node", "-e", "require('fs').mkdirSync('/service-auth', { mode: 0o700 }); require('fs').chownSync('/service-auth', 1000, 1000)"]
USER 1000:1000
EXPOSE 8080
# node itself is PID 1 and handles SIGTERM (the platform's graceful shutdown): exec form, no shell in between.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]

# The load generator: its own compiled code and production dependencies, no platform library (it uses none). It
# writes only its reports (--report-dir, e.g. a mounted volume or /tmp), so it runs with a read-only root too.
FROM node-runtime AS loadgen-runtime
LABEL org.opencontainers.image.title="dronedelivery-loadgen" \
      org.opencontainers.image.description="dronedelivery load generator"
ENV NODE_ENV=production
WORKDIR /app/tools/loadgen
COPY --from=prod-deps /app/node_modules /app/node_modules
COPY --from=service-files /out/ ./
USER 1000:1000
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli.js"]

# The final stage is chosen by SERVICE: every service runs the same service-runtime, the generator its own.
FROM service-runtime AS runtime-gateway
FROM service-runtime AS runtime-workflow
FROM service-runtime AS runtime-package
FROM service-runtime AS runtime-dronescheduler
FROM service-runtime AS runtime-delivery
FROM loadgen-runtime AS runtime-loadgen
FROM runtime-${SERVICE} AS runtime
