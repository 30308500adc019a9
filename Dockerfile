# syntax=docker/dockerfile:1
#
# imscopy's image: worker, starter, imsemu and healthcheck, static binaries on distroless/static,
# run as a non-root user. No shell at run time; the health checks use /usr/local/bin/healthcheck.
#
#   docker build -t imscopy .
#   docker run --rm imscopy -h                                       # the worker's variables
#   docker run --rm --entrypoint /usr/local/bin/starter imscopy help # the other programs
#
# go.temporal.io/server needs Go 1.26.10 or newer. As in the Makefile, the build asks for
# GOTOOLCHAIN=go1.27.3: a base image with exactly that Go uses its own, any other (older or
# newer) Go fetches go1.27.3 from the module proxy once, so the build never depends on which
# patch release the golang tag points at.

ARG GO_IMAGE=golang:1.27.3

FROM ${GO_IMAGE} AS build
ENV GOTOOLCHAIN=go1.27.3 \
    CGO_ENABLED=0 \
    GOFLAGS=-trimpath
WORKDIR /src
# Modules first: the layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags="-s -w" -o /out/ ./cmd/worker ./cmd/starter ./cmd/imsemu ./cmd/healthcheck

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
# distroless's nonroot user (65532). Dev mode's DATA_DIR is relative to the working directory,
# which this user owns; production workers set TEMPORAL_ADDRESS and keep no state.
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/worker"]
