# syntax=docker/dockerfile:1
# psql-streamer container image: FROM scratch with only the executable, the C library it links,
# CA certificates, a non-root user (65532) and the example configuration. Everything in it is
# assembled by scripts/image-rootfs, which the tests also run (and then run the binary inside with
# chroot: scripts/image-rootfs-run), so the tested file set and the image's are the same.
#
#   docker build -t psql-streamer --build-arg COMMIT=$(git rev-parse --short=12 HEAD) .
#   docker buildx build --platform linux/amd64,linux/arm64 -t psql-streamer .
#   docker run --rm -v $PWD/my.toml:/etc/psql-streamer/psql-streamer.toml:ro \
#     -v psql-streamer-state:/var/lib/psql-streamer -p 12080:12080 psql-streamer
#
# The example config listens on 0.0.0.0:12080 in the image and keeps its state file in
# /var/lib/psql-streamer (a volume). See docs/deploy.md.

ARG BUN_VERSION=1.4.5

# 1. Compile on the build machine's architecture, for the target's (Bun cross-compiles).
FROM --platform=$BUILDPLATFORM oven/bun:${BUN_VERSION} AS build
ARG TARGETARCH
ARG COMMIT=
WORKDIR /src
COPY package.json bun.lock bunfig.toml tsconfig.json ./
RUN bun install --frozen-lockfile --production
COPY src ./src
COPY scripts/lib/build.ts ./scripts/lib/build.ts
RUN case "$TARGETARCH" in amd64) target=x64 ;; arm64) target=arm64 ;; \
      *) echo "unsupported architecture: $TARGETARCH" >&2; exit 1 ;; esac && \
    PSQL_STREAMER_COMMIT="$COMMIT" bun scripts/lib/build.ts --out /out "$target" && \
    mv "/out/psql-streamer-linux-$target" /out/psql-streamer

# 2. Assemble the file set on the target's architecture (ldd finds the libraries to copy).
FROM debian:bookworm-slim AS rootfs
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && \
    rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/lib/common.sh ./scripts/lib/common.sh
COPY scripts/image-rootfs ./scripts/image-rootfs
COPY packaging/image ./packaging/image
COPY psql-streamer.toml ./
COPY --from=build /out/psql-streamer /tmp/psql-streamer
RUN scripts/image-rootfs --binary /tmp/psql-streamer /rootfs

# 3. The image.
FROM scratch
COPY --from=rootfs /rootfs/ /
# The state directory belongs to the image's user whatever the builder does with ownership.
COPY --from=rootfs --chown=65532:65532 /rootfs/var/lib/psql-streamer /var/lib/psql-streamer
USER 65532:65532
# The executable sets the JavaScript engine's memory settings itself; `-e BUN_JSC_...` replaces
# them, see docs/deploy.md ("Memory").
WORKDIR /var/lib/psql-streamer
VOLUME ["/var/lib/psql-streamer"]
EXPOSE 12080
ENTRYPOINT ["/psql-streamer"]
CMD ["-config", "/etc/psql-streamer/psql-streamer.toml"]
