# The two commands of the README. Both install whatever is missing first.
.PHONY: run test dev

## Serve Keyhold on http://127.0.0.1:3000 (release build, SQLite in ./data).
run:
	@scripts/run.sh

## Run every check and test (lint, Rust unit + integration on SQLite and PostgreSQL,
## release build, Playwright in Chromium on both databases).
test:
	@scripts/test.sh

## Development server with live reload (after `make run` or `scripts/setup.sh` once).
dev:
	@scripts/setup.sh build && . scripts/env.sh && cargo leptos watch --split
