/*
 * hnsw_sql_bench.c - the SQL side of the hnsw benchmark, one libpq client
 * (connection from the environment: PGHOST, PGPORT, PGUSER, PGDATABASE).
 *
 *   hnsw_sql_bench search QUERY_IDX TRUTH QUERIES PASSES index EF,EF,...
 *   hnsw_sql_bench search QUERY_IDX TRUTH QUERIES PASSES exact
 *       The prepared statement
 *           SELECT id FROM items ORDER BY v <-> $1 LIMIT 10
 *       with the query vector as a binary parameter (vector_recv's format:
 *       what a driver that speaks it sends), for the first QUERIES
 *       images of QUERY_IDX.  "index": per ef, SET hnsw.ef_search = ef, run
 *       every query once as a warm-up, then PASSES times timed; QPS is the
 *       median pass's, latencies are over all timed queries.  "exact": the
 *       same once, with SET enable_indexscan = off (a sequential scan with a
 *       top-N sort).  Both with max_parallel_workers_per_gather = 0: one
 *       client, one backend.  Recall@10 against TRUTH (see hnsw_data.h), of
 *       the last pass.
 *
 *   hnsw_sql_bench insert TABLE QUERY_IDX BASE_IDX SKIP FIRST COUNT
 *       COUNT single-row INSERTs, one prepared statement
 *           INSERT INTO TABLE (id, v) VALUES ($1, $2)
 *       in one transaction, timed from BEGIN to the end of COMMIT, with the
 *       WAL they wrote (pg_current_wal_insert_lsn() before BEGIN and after
 *       COMMIT).  Row k (FIRST <= k < FIRST + COUNT, counting from 0) gets
 *       id (images in BASE_IDX) + 1 + k and the vector of image SKIP + k of
 *       QUERY_IDX, or, past its end, a perturbed base image (each pixel
 *       moved by -5..+5, clamped to 0..255, of base image k * 7919 mod N).
 *
 * With HNSW_BENCH_CPU=N in the environment, the client and its backend are
 * both bound to CPU N (sched_setaffinity; binding the backend, a process of
 * the server's user, takes that user, root or CAP_SYS_NICE) before anything
 * is run, and the row "cpu,,N,cpu" says so; if either cannot be bound the
 * run stops.
 * Why: a query is a round trip, and when the scheduler puts the client and
 * the backend on different CPUs every round trip wakes the other CPU, which
 * in a virtual machine costs tens of microseconds (docs/benchmarks.md).
 *
 * Prints CSV rows "metric,ef,value,unit" on standard output; the EXPLAIN of
 * the first query goes to standard error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "hnsw_data.h"
#include "xorshift.h"

static PGconn *conn;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what, PGresult *res)
{
	fprintf(stderr, "hnsw_sql_bench: %s: %s", what,
			res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	exit(1);
}

/* run a statement that must succeed; returns its result (caller clears) */
static PGresult *
run(const char *sql)
{
	PGresult   *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		die(sql, res);
	return res;
}

static void
run_clear(const char *sql)
{
	PQclear(run(sql));
}

/* "[p1,p2,...]" into BUF (at least dim * 4 + 3 bytes) */
static void
vector_text(const unsigned char *pix, uint32_t dim, char *buf)
{
	char	   *p = buf;

	*p++ = '[';
	for (uint32_t i = 0; i < dim; i++)
		p += sprintf(p, i ? ",%u" : "%u", (unsigned) pix[i]);
	*p++ = ']';
	*p = '\0';
}

/*
 * The same vector in the binary format of vector_recv: int16 dimensions,
 * int16 zero, then each element as a float4, all in network byte order
 */
static size_t
vector_binary_size(uint32_t dim)
{
	return 4 + (size_t) dim * 4;
}

static void
vector_binary(const unsigned char *pix, uint32_t dim, char *buf)
{
	unsigned char *p = (unsigned char *) buf;

	p[0] = (unsigned char) (dim >> 8);
	p[1] = (unsigned char) dim;
	p[2] = p[3] = 0;
	p += 4;
	for (uint32_t i = 0; i < dim; i++)
	{
		float		f = (float) pix[i];
		uint32_t	u;

		memcpy(&u, &f, sizeof(u));
		*p++ = (unsigned char) (u >> 24);
		*p++ = (unsigned char) (u >> 16);
		*p++ = (unsigned char) (u >> 8);
		*p++ = (unsigned char) u;
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * EXPLAIN the prepared query, to standard error (the vector literal cut
 * short), and a CSV row saying whether it is an index scan.  Called after
 * the warm-up pass, so that it shows the plan the timed pass runs, generic
 * or custom.
 */
static void
explain(const char *mode, const char *ef, const char *vec)
{
	char	   *sql = malloc(strlen(vec) + 64);
	PGresult   *res;
	int			uses_index = 0;

	if (sql == NULL)
		idx_die("out of memory", "hnsw_sql_bench");
	sprintf(sql, "EXPLAIN (COSTS OFF) EXECUTE q('%s')", vec);
	res = run(sql);
	fprintf(stderr, "   plan (%s%s%s):\n", mode, *ef ? ", ef_search " : "", ef);
	for (int r = 0; r < PQntuples(res); r++)
	{
		const char *line = PQgetvalue(res, r, 0);

		fprintf(stderr, "     %.100s%s\n", line, strlen(line) > 100 ? "..." : "");
		uses_index |= strstr(line, "Index Scan") != NULL;
	}
	printf("uses_index,%s,%d,bool\n", ef, uses_index);
	PQclear(res);
	free(sql);
}

static int
search(int argc, char **argv)
{
	const char *mode;
	uint32_t	nq;
	int			passes;
	double	   *pass_s;
	IdxImages	query;
	Truth		truth;
	char	  **text;
	char	  **bin;
	double	   *lat;
	char		efs[1024];
	PGresult   *res;

	if (argc < 7 || (nq = (uint32_t) atoi(argv[4])) == 0 || (passes = atoi(argv[5])) <= 0 ||
		(strcmp(argv[6], "index") != 0 && strcmp(argv[6], "exact") != 0) ||
		(strcmp(argv[6], "index") == 0 && argc != 8))
	{
		fprintf(stderr, "usage: hnsw_sql_bench search QUERY_IDX TRUTH QUERIES PASSES index EF,EF,... | exact\n");
		return 2;
	}
	mode = argv[6];
	query = idx_load(argv[2], nq);
	if (query.count < nq)
		idx_die("has fewer images than queries asked for", argv[2]);
	truth = truth_load(argv[3], nq);
	text = malloc(nq * sizeof(char *));
	lat = malloc((size_t) nq * passes * sizeof(double));
	pass_s = malloc(passes * sizeof(double));
	if (text == NULL || lat == NULL || pass_s == NULL)
		idx_die("out of memory", "hnsw_sql_bench");
	bin = malloc(nq * sizeof(char *));
	if (bin == NULL)
		idx_die("out of memory", "hnsw_sql_bench");
	for (uint32_t q = 0; q < nq; q++)
	{
		text[q] = malloc((size_t) query.dim * 4 + 3);
		bin[q] = malloc(vector_binary_size(query.dim));
		if (text[q] == NULL || bin[q] == NULL)
			idx_die("out of memory", "hnsw_sql_bench");
		vector_text(query.pix + (size_t) q * query.dim, query.dim, text[q]);
		vector_binary(query.pix + (size_t) q * query.dim, query.dim, bin[q]);
	}

	run_clear("SET max_parallel_workers_per_gather = 0");
	if (strcmp(mode, "exact") == 0)
	{
		run_clear("SET enable_indexscan = off");
		snprintf(efs, sizeof(efs), "%s", "0");
	}
	else
		snprintf(efs, sizeof(efs), "%s", argv[7]);
	res = PQprepare(conn, "q", "SELECT id FROM items ORDER BY v <-> $1 LIMIT 10", 1, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		die("PREPARE", res);
	PQclear(res);

	for (char *tok = strtok(efs, ","); tok != NULL; tok = strtok(NULL, ","))
	{
		int			ef = atoi(tok);
		uint64_t	hits = 0;
		char		sql[64];

		if (ef > 0)
		{
			snprintf(sql, sizeof(sql), "SET hnsw.ef_search = %d", ef);
			run_clear(sql);
		}
		for (int pass = 0; pass <= passes; pass++)	/* 0: warm-up, then timed */
		{
			double		start = now_s();

			hits = 0;
			for (uint32_t q = 0; q < nq; q++)
			{
				const char *param[1] = {bin[q]};
				const int	length[1] = {(int) vector_binary_size(query.dim)};
				const int	format[1] = {1};
				double		qt = now_s();
				uint32_t	ids[TRUTH_K];
				uint32_t	n;

				res = PQexecPrepared(conn, "q", 1, param, length, format, 0);
				if (pass > 0)
					lat[(size_t) (pass - 1) * nq + q] = now_s() - qt;
				if (PQresultStatus(res) != PGRES_TUPLES_OK)
					die("EXECUTE", res);
				n = (uint32_t) PQntuples(res);
				if (n > TRUTH_K)
					n = TRUTH_K;
				for (uint32_t r = 0; r < n; r++)
					ids[r] = (uint32_t) strtoul(PQgetvalue(res, (int) r, 0), NULL, 10);
				PQclear(res);
				hits += truth_hits(&truth, q, ids, n);
			}
			if (pass == 0)
				explain(mode, ef > 0 ? tok : "", text[0]);
			else
				pass_s[pass - 1] = now_s() - start;
		}
		qsort(lat, (size_t) nq * passes, sizeof(double), cmp_double);
		qsort(pass_s, passes, sizeof(double), cmp_double);
		{
			const char *label = ef > 0 ? tok : "";
			size_t		nlat = (size_t) nq * passes,
						p99 = (size_t) (nlat * 0.99);

			if (p99 > nlat - 1)
				p99 = nlat - 1;
			printf("recall_at_10,%s,%.4f,fraction\n", label, (double) hits / ((double) nq * TRUTH_K));
			printf("qps,%s,%.1f,queries/s\n", label, nq / pass_s[passes / 2]);
			printf("latency_ms_median,%s,%.4f,ms\n", label, 1e3 * lat[nlat / 2]);
			printf("latency_ms_p99,%s,%.4f,ms\n", label, 1e3 * lat[p99]);
		}
		fflush(stdout);
	}
	return 0;
}

static int
insert(int argc, char **argv)
{
	const char *table;
	IdxImages	query,
				base;
	uint32_t	skip,
				first,
				count,
				from_query = 0;
	char		sql[256];
	char	   *vec,
				idbuf[16],
				lsn0[64];
	unsigned char *pert;
	PGresult   *res;
	double		t0,
				secs;
	long long	wal;

	if (argc != 8 || (count = (uint32_t) atoi(argv[7])) == 0)
	{
		fprintf(stderr, "usage: hnsw_sql_bench insert TABLE QUERY_IDX BASE_IDX SKIP FIRST COUNT\n");
		return 2;
	}
	table = argv[2];
	query = idx_load(argv[3], 0);
	base = idx_load(argv[4], 0);
	skip = (uint32_t) atoi(argv[5]);
	first = (uint32_t) atoi(argv[6]);
	if (query.dim != base.dim)
		idx_die("does not match the base file", argv[3]);
	vec = malloc((size_t) base.dim * 4 + 3);
	pert = malloc(base.dim);
	if (vec == NULL || pert == NULL)
		idx_die("out of memory", "hnsw_sql_bench");

	snprintf(sql, sizeof(sql), "INSERT INTO %s (id, v) VALUES ($1, $2)", table);
	res = PQprepare(conn, "ins", sql, 2, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		die("PREPARE", res);
	PQclear(res);
	res = run("SELECT pg_current_wal_insert_lsn()");
	snprintf(lsn0, sizeof(lsn0), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);

	t0 = now_s();
	run_clear("BEGIN");
	for (uint32_t k = first; k < first + count; k++)
	{
		const char *param[2] = {idbuf, vec};
		const unsigned char *pix;

		if ((uint64_t) skip + k < query.count)
		{
			pix = query.pix + (size_t) (skip + k) * query.dim;
			from_query++;
		}
		else
		{
			const unsigned char *src = base.pix + (size_t) ((uint64_t) k * 7919 % base.count) * base.dim;

			rng_state = RNG_SEED + (uint64_t) k * 0x2545f4914f6cdd1dULL;
			for (uint32_t i = 0; i < base.dim; i++)
			{
				int			p = (int) src[i] + (int) (rng_uniform() * 11) - 5;

				pert[i] = (unsigned char) (p < 0 ? 0 : p > 255 ? 255 : p);
			}
			pix = pert;
		}
		vector_text(pix, base.dim, vec);
		snprintf(idbuf, sizeof(idbuf), "%u", base.count + 1 + k);
		res = PQexecPrepared(conn, "ins", 2, param, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			die("INSERT", res);
		PQclear(res);
	}
	run_clear("COMMIT");
	secs = now_s() - t0;
	{
		const char *param[1] = {lsn0};

		res = PQexecParams(conn, "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint",
						   1, NULL, param, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			die("pg_wal_lsn_diff", res);
		wal = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	printf("rows,,%u,rows\n", count);
	printf("rows_from_test_images,,%u,rows\n", from_query);
	printf("rows_perturbed_train_images,,%u,rows\n", count - from_query);
	printf("seconds,,%.3f,s\n", secs);
	printf("rows_per_s,,%.1f,rows/s\n", count / secs);
	printf("wal_bytes,,%lld,bytes\n", wal);
	printf("wal_bytes_per_row,,%.1f,bytes/row\n", (double) wal / count);
	return 0;
}

/* HNSW_BENCH_CPU: bind this process and its backend to that CPU */
static void
bind_cpu(void)
{
	const char *env = getenv("HNSW_BENCH_CPU");
	char	   *end;
	long		cpu;
	cpu_set_t	set;
	pid_t		pids[2];

	if (env == NULL || *env == '\0')
		return;
	errno = 0;
	cpu = strtol(env, &end, 10);
	if (errno != 0 || *end != '\0' || cpu < 0 || cpu >= CPU_SETSIZE)
	{
		fprintf(stderr, "hnsw_sql_bench: HNSW_BENCH_CPU must be a CPU number, not '%s'\n", env);
		exit(2);
	}
	CPU_ZERO(&set);
	CPU_SET((int) cpu, &set);
	pids[0] = getpid();
	pids[1] = (pid_t) PQbackendPID(conn);
	if (pids[1] <= 0)
	{
		fprintf(stderr, "hnsw_sql_bench: no backend process id to bind\n");
		exit(1);
	}
	for (int i = 0; i < 2; i++)
		if (sched_setaffinity(pids[i], sizeof(set), &set) != 0)
		{
			fprintf(stderr, "hnsw_sql_bench: cannot bind %s (pid %d) to CPU %ld: %s\n",
					i == 0 ? "the client" : "the backend", (int) pids[i], cpu, strerror(errno));
			exit(1);
		}
	printf("cpu,,%ld,cpu\n", cpu);
}

int
main(int argc, char **argv)
{
	int			rc;

	if (argc < 2 || (strcmp(argv[1], "search") != 0 && strcmp(argv[1], "insert") != 0))
	{
		fprintf(stderr, "usage: hnsw_sql_bench search ... | insert ...  (see the source)\n");
		return 2;
	}
	conn = PQconnectdb("");
	if (PQstatus(conn) != CONNECTION_OK)
		die("connect", NULL);
	bind_cpu();
	rc = strcmp(argv[1], "search") == 0 ? search(argc, argv) : insert(argc, argv);
	PQfinish(conn);
	return fflush(stdout) == 0 ? rc : 1;
}
