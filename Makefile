# vecdb: `make run` and `make test` are the whole set-up on a fresh Debian
# machine; both install what is missing with apt (tests/lib/deps.sh).

PG_MAJOR := $(shell ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sed -E 's|.*/postgresql/([0-9]+)/bin/postgres|\1|' | sort -n | tail -n 1)
PG_CONFIG ?= $(if $(PG_MAJOR),/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config,pg_config)
export PG_CONFIG

.PHONY: all deps extension gateway install test run stop bench bench-distance bench-exact-scan bench-hnsw clean

all: extension gateway

deps:
	@tests/lib/deps.sh

extension: deps
	$(MAKE) -C extension PG_CONFIG=$(PG_CONFIG)

gateway: deps
	$(MAKE) -C gateway

# installs the extension into the system's PostgreSQL and vecdb into
# /usr/local/bin (needs root or sudo)
install: extension gateway
	$(MAKE) -C extension install PG_CONFIG=$(PG_CONFIG)
	$(MAKE) -C gateway install

test: extension
	tests/run.sh

# the gateway in the foreground with its own PostgreSQL in $(VECDB_DATA_DIR)
# (docs/gateway.md); Ctrl-C or `make stop` stops both
VECDB_DATA_DIR ?= vecdb-data
run: install
	gateway/vecdb serve --data-dir $(VECDB_DATA_DIR)

stop:
	@gateway/vecdb stop --data-dir $(VECDB_DATA_DIR)

bench: bench-distance bench-exact-scan bench-hnsw

bench-distance: deps
	tests/bench/bench_distance.sh

bench-exact-scan: deps
	@tests/lib/deps.sh bench
	tests/bench/exact_scan.sh

bench-hnsw: deps
	@tests/lib/deps.sh bench
	tests/bench/hnsw.sh

clean:
	$(MAKE) -C extension clean PG_CONFIG=$(PG_CONFIG)
	$(MAKE) -C gateway clean
	rm -rf tests/bench/results/*.tmp
