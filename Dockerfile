# One image per service, from one file: docker build --build-arg SERVICE=gateway -t dronedelivery/gateway .
# Stages: manifests (package.json files + lockfile), build (all workspaces compiled once; shared by every
# service's build through the layer cache), prod-deps (only the chosen service's production dependencies), runtime (compiled code + those
# dependencies, non-root, nothing written outside /tmp, so it runs with a read-only root filesystem).
ARG NODE_IMAGE=node:22-bookworm-slim

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

FROM manifests AS build
# The workspaces' own trees (their dependencies and the compiler), not the repo's test and deploy tooling. No install
# scripts: nothing here needs one to compile or run, and none runs with build privileges.
RUN npm ci --ignore-scripts --no-audit --no-fund --workspace libs/platform --workspace services/delivery \
      --workspace services/dronescheduler --workspace services/gateway --workspace services/package --workspace services/workflow
COPY tsconfig.base.json ./
COPY libs/platform/ libs/platform/
COPY services/ services/
RUN node node_modules/typescript/bin/tsc -b libs/platform/tsconfig.lib.json services/delivery/tsconfig.app.json services/dronescheduler/tsconfig.app.json \
      services/gateway/tsconfig.app.json services/package/tsconfig.app.json services/workflow/tsconfig.app.json

FROM manifests AS prod-deps
# The build stage downloaded every package already: each service's install reads them from its cache.
COPY --from=build /npm-cache /npm-cache
ARG SERVICE
RUN test -f "services/${SERVICE}/package.json" || { echo "build with --build-arg SERVICE=<gateway|workflow|package|dronescheduler|delivery>" >&2; exit 1; }
# Only this service's production dependencies and the platform library it uses, from a tree without dev packages.
# npm keeps packages that another workspace needs when they are an optional peer of something here (terminus ->
# typeorm -> mssql); npm ls flags those as extraneous for this workspace, and they are removed.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --prefer-offline --no-audit --no-fund --workspace "services/${SERVICE}" \
 && npm ls --omit=dev --all --json --long --workspace "services/${SERVICE}" > /tmp/tree.json; \
    node -e 'const fs = require("fs"); const paths = new Set(); \
      (function walk(n) { for (const d of Object.values(n.dependencies || {})) { if (d.extraneous && d.path) paths.add(d.path); walk(d); } })(JSON.parse(fs.readFileSync("/tmp/tree.json", "utf8"))); \
      for (const p of paths) fs.rmSync(p, { recursive: true, force: true }); console.log("removed " + paths.size + " extraneous packages");' \
 && npm ls --omit=dev --all --workspace "services/${SERVICE}" > /dev/null

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="dronedelivery-${SERVICE}" \
      org.opencontainers.image.description="dronedelivery ${SERVICE} service"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app/services/${SERVICE}
# Owned by root and not writable by the runtime user: the code cannot be changed by the process that runs it.
COPY --from=prod-deps /app/node_modules /app/node_modules
COPY --from=build /app/libs/platform/package.json /app/libs/platform/
COPY --from=build /app/libs/platform/dist /app/libs/platform/dist
COPY --from=build /app/services/${SERVICE}/package.json ./
COPY --from=build /app/services/${SERVICE}/dist ./dist
USER 1000:1000
EXPOSE 8080
# node itself is PID 1 and handles SIGTERM (the platform's graceful shutdown): exec form, no shell in between.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
