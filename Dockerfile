# One image for every node; SERVICES picks what a container hosts.
# syntax=docker/dockerfile:1

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off: the image already has Node 24, the `node` dev package is not needed.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json moleculer.config.ts ./
COPY lib lib
COPY mixins mixins
COPY services services
RUN /usr/local/bin/node node_modules/typescript/bin/tsc -p tsconfig.build.json

FROM node:24-bookworm-slim AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-bookworm-slim
# MONITORING_HOST: metrics and health listen on every interface of the
# container, for its HEALTHCHECK, Prometheus and kubelet probes; publish
# neither port to the outside.
ENV NODE_ENV=production \
    SERVICEDIR=dist/services \
    PORT=3000 \
    METRICS_PORT=3030 \
    HEALTH_PORT=3001 \
    MONITORING_HOST=0.0.0.0
WORKDIR /app
COPY --from=production-deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
USER node
EXPOSE 3000 3001 3030
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.HEALTH_PORT+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# exec form: the runner gets SIGTERM directly and drains in-flight requests.
CMD ["node", "node_modules/moleculer/bin/moleculer-runner.js", "--config", "dist/moleculer.config.js"]
