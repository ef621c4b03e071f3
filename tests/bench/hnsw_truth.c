/*
 * hnsw_truth.c - exact top-10 ground truth for the hnsw benchmark, by brute
 * force in C (not through SQL, so the server is not checked against itself).
 *
 *   hnsw_truth BASE_IDX QUERY_IDX QUERIES THREADS > truth.txt
 *
 * BASE_IDX and QUERY_IDX are uncompressed idx3-ubyte files; the first
 * QUERIES images of QUERY_IDX are the queries.  Distances are squared L2 on
 * the raw pixel values, computed in integers, so they are exact.  The
 * output format (every base image at or within the 10th distance, ties
 * included) is described in hnsw_data.h.
 */
#include <pthread.h>

#include "hnsw_data.h"

static IdxImages base,
			query;
static uint32_t nqueries,
			nthreads;
static char **lines;			/* one output line per query */

typedef struct Near
{
	uint32_t	d;
	uint32_t	id;
} Near;

static int
near_cmp(const void *a, const void *b)
{
	const Near *x = a,
			   *y = b;

	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static uint32_t
l2sq(const unsigned char *a, const unsigned char *b, uint32_t dim)
{
	uint32_t	s = 0;

	for (uint32_t i = 0; i < dim; i++)
	{
		int			d = (int) a[i] - (int) b[i];

		s += (uint32_t) (d * d);
	}
	return s;
}

static void *
worker(void *arg)
{
	uint32_t	t = (uint32_t) (uintptr_t) arg;
	uint32_t   *dist = malloc(base.count * sizeof(uint32_t));
	Near	   *near = malloc(base.count * sizeof(Near));

	if (dist == NULL || near == NULL)
		idx_die("out of memory", "hnsw_truth");
	for (uint32_t q = t; q < nqueries; q += nthreads)
	{
		const unsigned char *qv = query.pix + (size_t) q * query.dim;
		uint32_t	best[TRUTH_K];	/* the 10 smallest distances, ascending */
		uint32_t	n = 0;
		size_t		len;
		char	   *p;

		for (uint32_t k = 0; k < TRUTH_K; k++)
			best[k] = UINT32_MAX;
		for (uint32_t i = 0; i < base.count; i++)
		{
			uint32_t	d = l2sq(qv, base.pix + (size_t) i * base.dim, base.dim);

			dist[i] = d;
			if (d < best[TRUTH_K - 1])
			{
				int			k = TRUTH_K - 1;

				while (k > 0 && best[k - 1] > d)
				{
					best[k] = best[k - 1];
					k--;
				}
				best[k] = d;
			}
		}
		for (uint32_t i = 0; i < base.count; i++)
			if (dist[i] <= best[TRUTH_K - 1])
			{
				near[n].d = dist[i];
				near[n].id = i + 1;
				n++;
			}
		qsort(near, n, sizeof(Near), near_cmp);
		len = 48 + (size_t) n * 11;
		p = lines[q] = malloc(len);
		if (p == NULL)
			idx_die("out of memory", "hnsw_truth");
		p += sprintf(p, "%u %u %u", q + 1, best[TRUTH_K - 1], n);
		for (uint32_t i = 0; i < n; i++)
			p += sprintf(p, " %u", near[i].id);
	}
	free(dist);
	free(near);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t  *th;

	if (argc != 5 || atoi(argv[3]) <= 0 || atoi(argv[4]) <= 0)
	{
		fprintf(stderr, "usage: hnsw_truth BASE_IDX QUERY_IDX QUERIES THREADS > truth.txt\n");
		return 2;
	}
	nqueries = (uint32_t) atoi(argv[3]);
	nthreads = (uint32_t) atoi(argv[4]);
	base = idx_load(argv[1], 0);
	query = idx_load(argv[2], nqueries);
	if (query.count < nqueries)
		idx_die("has fewer images than queries asked for", argv[2]);
	if (base.dim != query.dim || base.count < TRUTH_K)
		idx_die("does not match the base file", argv[2]);
	lines = calloc(nqueries, sizeof(char *));
	th = calloc(nthreads, sizeof(pthread_t));
	if (lines == NULL || th == NULL)
		idx_die("out of memory", "hnsw_truth");
	for (uint32_t t = 0; t < nthreads; t++)
		if (pthread_create(&th[t], NULL, worker, (void *) (uintptr_t) t) != 0)
			idx_die("cannot start a thread", "hnsw_truth");
	for (uint32_t t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	for (uint32_t q = 0; q < nqueries; q++)
		if (printf("%s\n", lines[q]) < 0)
			idx_die("write error", "stdout");
	return fflush(stdout) == 0 ? 0 : 1;
}
