# The Grafana plugin of this repository (frontend and backend), built for docker compose. The image
# holds the built plugin in /plugin; its command copies it into the volume that the grafana service
# mounts as /var/lib/grafana/plugins/agentinsights-agentinsights-datasource, then exits.
# Build from the repository root: docker build -f plugin.Dockerfile .

# Frontend: webpack, as `npm run build:frontend` does (the query model is bundled from model/src).
FROM node:24-bookworm-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
COPY model/package.json model/
COPY server/package.json server/
# The plugin's and the query model's dependencies, not the server's.
RUN npm ci --workspace model --include-workspace-root --no-audit --no-fund
COPY . .
RUN npm run build:frontend

# Backend: the Go bridge, a static executable named as Grafana looks for it (gpx_<name>_<os>_<arch>),
# for the architecture the image is built for.
FROM golang:1.26-bookworm AS backend
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY pkg pkg
RUN arch="${TARGETARCH:-amd64}" \
 && CGO_ENABLED=0 GOOS=linux GOARCH="$arch" go build -trimpath -ldflags "-s -w" -o "/out/gpx_agentinsights_linux_$arch" ./pkg

FROM busybox:1.37
COPY --from=frontend /src/dist /plugin
COPY --from=backend /out/ /plugin/
CMD ["sh", "-c", "rm -rf /dist/* && cp -a /plugin/. /dist/ && echo \"plugin copied: $(ls /dist | tr '\\n' ' ')\""]
