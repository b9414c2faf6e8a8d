# Syndicate. `make run` starts everything on embedded defaults; `make test` runs every test.
GO       ?= go
BIN      := bin/syndicate
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.Version=$(VERSION)

.PHONY: build run test bench lint fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/syndicate

# Embedded SQLite and NATS, data under ./data, HTTP on :8080, the 零陵 demo story loaded on first start.
run: build
	./$(BIN) serve $(if $(CONFIG),--config $(CONFIG)) --log-format text

# PostgreSQL and external-NATS tests run when SYNDICATE_TEST_PG_DSN / SYNDICATE_TEST_NATS_URL are set
# (.ci/run sets them); everything else uses a temp-dir SQLite file and an embedded nats-server.
test:
	$(GO) test -race -count=1 -timeout 20m ./...

bench:
	bash bench/run.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Explore the feed renderer with random input for a minute (the seed corpus runs in `make test`).
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzRender -fuzztime 60s ./feed/

clean:
	rm -rf bin
