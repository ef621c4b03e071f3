# vecdb: `make run` and `make test` are the whole set-up on a fresh Debian
# machine; both install what is missing with apt (tests/lib/deps.sh).

PG_MAJOR := $(shell ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sed -E 's|.*/postgresql/([0-9]+)/bin/postgres|\1|' | sort -n | tail -n 1)
PG_CONFIG ?= $(if $(PG_MAJOR),/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config,pg_config)
export PG_CONFIG

.PHONY: all deps extension install test run stop bench bench-distance bench-exact-scan bench-hnsw clean

all: extension

deps:
	@tests/lib/deps.sh

extension: deps
	$(MAKE) -C extension PG_CONFIG=$(PG_CONFIG)

# installs into the system's PostgreSQL (needs root or sudo)
install: extension
	$(MAKE) -C extension install PG_CONFIG=$(PG_CONFIG)

test: extension
	tests/run.sh

# a persistent local cluster with the extension, in .run/ (see docs/development.md)
run: extension
	tests/lib/run.sh start

stop:
	@tests/lib/run.sh stop

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
	rm -rf tests/bench/results/*.tmp
