# Keyhold container image: the same build as `make run` (cargo-leptos, release), then a
# small runtime image with only the server binary and the site files.
#   docker build -t keyhold .
#   docker run -p 8080:8080 -v keyhold-data:/data keyhold
# With PostgreSQL: add -e DATABASE_URL=postgres://user:pass@db:5432/keyhold and the
# same -e KEYHOLD_JWT_SECRET=... and -e KEYHOLD_KEY_ENCRYPTION_KEY=... on every instance.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
 && cargo install cargo-leptos --locked --version 0.3.10
WORKDIR /src
# wasm-bindgen CLI at the version of Cargo.lock (as scripts/setup.sh does).
COPY Cargo.toml Cargo.lock ./
RUN version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)" \
 && cargo install wasm-bindgen-cli --version "$version"
# wasm-opt from npm's binaryen (Debian's version produces WASM that fails to hydrate).
COPY end2end/package.json end2end/package-lock.json end2end/
RUN cd end2end && npm ci --no-audit --no-fund --loglevel=error
COPY . .
RUN PATH="/src/end2end/node_modules/.bin:$PATH" cargo leptos build --release --precompress --split \
 && mkdir -p /out \
 && cp target/release/keyhold target/release/hash.txt /out/ \
 && cp -r target/site /out/site

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data keyhold \
 && mkdir -p /data && chown keyhold /data
# hash.txt beside the binary: the site's file names carry content hashes (immutable).
COPY --from=build /out/keyhold /out/hash.txt /app/
COPY --from=build /out/site /app/site
WORKDIR /app
USER keyhold
ENV LEPTOS_SITE_ADDR=0.0.0.0:8080 \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_OUTPUT_NAME=keyhold \
    LEPTOS_ENV=PROD \
    KEYHOLD_DATA_DIR=/data \
    RUST_LOG=info
VOLUME /data
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/keyhold"]
