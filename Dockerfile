# kiln-export production image: compiled JavaScript, production dependencies only, non-root.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    LOG_FORMAT=json \
    KILN_PROJECTS_DIR=/data \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=1048576
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# Provider profiles and the price table of the validation report (PRICES_FILE may replace the prices).
COPY data ./data
# The example project, so the image serves something on its own; mount projects over /data.
COPY examples/kiln-project /data
# Export job results (EXPORTS_DIR) when a volume is mounted here (docker-compose.yml): owned by node,
# so a new named volume starts writable for the non-root user.
RUN mkdir /exports && chown node:node /exports
USER node
EXPOSE 3000
# /health answers 200 while the service is up; node's fetch avoids installing curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node flags, and the malloc settings in ENV above: see src/runtime-flags.ts.
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "dist/server.js"]
