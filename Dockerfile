# syntax=docker/dockerfile:1
# Gatehouse gateway image: `docker build -t gatehouse .`
# Build stage compiles TypeScript with the dev dependencies; the runtime stage holds only
# production dependencies, dist/ and the data folders the code reads at run time.

FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY types ./types
COPY gateway ./gateway
COPY drivers ./drivers
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# serialport and classic-level load prebuilt linux-x64/arm64 glibc binaries from their
# packages, so the slim image needs no compiler.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
# Read at run time beside the source tree (dist/ holds only compiled JS; see drivers/contract/paths.ts).
COPY drivers/modbus/profiles ./drivers/modbus/profiles
COPY drivers/mqtt/profiles ./drivers/mqtt/profiles
COPY dashboards/status-page ./dashboards/status-page
# dialout: RS-485 adapters (/dev/ttyUSB*) mapped into the container belong to that group.
# A fixed uid/gid (999, what --system picked before): the host's config directory is
# chowned to it so that commissioning can save into village.yaml (docs/deploy.md).
RUN groupadd --system --gid 999 gatehouse \
 && useradd --system --uid 999 --gid gatehouse --groups dialout --home-dir /var/lib/gatehouse \
      --shell /usr/sbin/nologin gatehouse \
 && mkdir -p /var/lib/gatehouse /etc/gatehouse \
 && chown gatehouse:gatehouse /var/lib/gatehouse /etc/gatehouse
USER gatehouse
EXPOSE 8080 1883
VOLUME /var/lib/gatehouse
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/gateway/cli/main.js"]
CMD ["start", "--config", "/etc/gatehouse/village.yaml", "--data-dir", "/var/lib/gatehouse"]
