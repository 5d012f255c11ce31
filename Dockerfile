# The manager image: `make docker-build IMG=...`. The binary is built exactly
# as `make build` builds it (CI builds and runs that one, as no container
# engine is at hand there).
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev

WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download

COPY cmd/ cmd/
COPY api/ api/
COPY internal/ internal/

# Static, stripped, and stamped with the version that --version prints. The
# time zone database is compiled in (time/tzdata, imported by cmd), so
# schedules and maintenance windows do not depend on the image's.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o manager ./cmd

# Distroless: no shell, no package manager, runs as nonroot (65532).
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532

ENTRYPOINT ["/manager"]
