/*
 * bench_distance.c - nanoseconds per distance call, per kernel and variant.
 *
 * Runs outside PostgreSQL, linked with the extension's own kernel sources
 * (extension/src/distance.c and distance_x86.c), and calls the kernels
 * through the same DistanceKernels tables the extension uses, so an indirect
 * call per distance is part of every figure, as it is in the server.
 *
 * Variants: every table this CPU runs (scalar, avx2, avx512) plus
 * "fallback": distance.c's portable table compiled a second time with
 * -O2 -fno-tree-vectorize (bench_distance.sh builds it into an object whose
 * global symbols carry the prefix fallback_).  Speedups are relative to it.
 *
 * Method: a pool of pseudo-random vectors (fixed seed) of about 256 KiB,
 * small enough to stay in L2, is walked pairwise, vector i against i + 1.
 * The vectors start on a 64-byte boundary, or -a bytes past one: in a
 * PostgreSQL heap tuple the elements are only 4-byte aligned (the type's
 * alignment is int4; after an int column they start 36 bytes into the
 * tuple), so -a 4 is closer to what the server sees.
 * One run is enough passes over the pool to take about -t milliseconds; the
 * variants take turns run by run, so that a disturbance from other processes
 * hits all of them alike; the figure is the median run (the fastest is in
 * the CSV too).  Every result is added to a volatile sink, so no call can be
 * optimised away (they are indirect calls into another object anyway).
 *
 *   bench_distance [-r RUNS] [-t MS] [-o CSV] [-d DIM[,DIM...]] [-a OFFSET[,OFFSET...]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "distance.h"
#include "xorshift.h"

/* distance.c compiled with -O2 -fno-tree-vectorize, symbols renamed */
extern const DistanceKernels fallback_vecdb_kernels_scalar;

#define MAX_VARIANTS 4
#define MAX_LIST 16
#define POOL_BYTES (256 * 1024)


/* count + 1 vectors of dim elements, as float and as float16 */
typedef struct Pool
{
	int			dim;
	int			count;			/* pairs per pass */
	int			offset;			/* bytes past a 64-byte boundary */
	float	   *f;
	vecdb_half *h;
	void	   *f_mem;
	void	   *h_mem;
} Pool;

static volatile float sink;

/*
 * One pass loop per kernel: fn is loaded from the table once, then called
 * for every pair, as a sequential scan calls it for every row.
 */
#define PASS_LOOP(KERNEL, FIELD, EXPR) \
static float \
run_##KERNEL(const DistanceKernels *k, const Pool *p, long passes) \
{ \
	float		acc = 0.0f; \
	int			dim = p->dim; \
	__typeof__(k->KERNEL) fn = k->KERNEL; \
	for (long pass = 0; pass < passes; pass++) \
		for (int i = 0; i < p->count; i++) \
		{ \
			const __typeof__(*p->FIELD) *a = p->FIELD + (size_t) i * dim; \
			const __typeof__(*p->FIELD) *b = a + dim; \
			EXPR; \
		} \
	return acc; \
}

#define SCALAR_RESULT acc += fn(a, b, dim)
#define COSINE_RESULT CosineSums s = fn(a, b, dim); acc += s.dot + s.norm_a + s.norm_b

PASS_LOOP(l2sq_f32, f, SCALAR_RESULT)
PASS_LOOP(dot_f32, f, SCALAR_RESULT)
PASS_LOOP(cosine_f32, f, COSINE_RESULT)
PASS_LOOP(l1_f32, f, SCALAR_RESULT)
PASS_LOOP(l2sq_f16, h, SCALAR_RESULT)
PASS_LOOP(dot_f16, h, SCALAR_RESULT)
PASS_LOOP(cosine_f16, h, COSINE_RESULT)
PASS_LOOP(l1_f16, h, SCALAR_RESULT)

typedef float (*RunFn) (const DistanceKernels *k, const Pool *p, long passes);

static const struct
{
	const char *name;
	RunFn		run;
}			kernels[] = {
	{"l2sq_f32", run_l2sq_f32},
	{"dot_f32", run_dot_f32},
	{"cosine_f32", run_cosine_f32},
	{"l1_f32", run_l1_f32},
	{"l2sq_f16", run_l2sq_f16},
	{"dot_f16", run_dot_f16},
	{"cosine_f16", run_cosine_f16},
	{"l1_f16", run_l1_f16},
};
#define NKERNELS ((int) (sizeof(kernels) / sizeof(kernels[0])))

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/* elapsed ns of `passes` passes */
static double
time_passes(RunFn run, const DistanceKernels *k, const Pool *p, long passes)
{
	double		t0 = now_ns();

	sink += run(k, p, passes);
	return now_ns() - t0;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

static void *
xmalloc_aligned(size_t bytes)
{
	void	   *p = aligned_alloc(64, (bytes + 63) & ~(size_t) 63);

	if (p == NULL)
	{
		fprintf(stderr, "bench_distance: out of memory\n");
		exit(1);
	}
	return p;
}

static void
pool_init(Pool *p, int dim, int offset)
{
	size_t		nvec;

	p->dim = dim;
	p->offset = offset;
	rng_state = RNG_SEED;
	p->count = POOL_BYTES / (dim * (int) sizeof(float));
	if (p->count < 16)
		p->count = 16;
	if (p->count > 512)
		p->count = 512;
	nvec = (size_t) (p->count + 1) * dim;
	p->f_mem = xmalloc_aligned(nvec * sizeof(float) + offset);
	p->h_mem = xmalloc_aligned(nvec * sizeof(vecdb_half) + offset);
	p->f = (float *) ((char *) p->f_mem + offset);
	p->h = (vecdb_half *) ((char *) p->h_mem + offset);
	for (size_t i = 0; i < nvec; i++)
	{
		p->f[i] = (float) (rng_uniform() * 2.0 - 1.0);
		p->h[i] = vecdb_float_to_half(p->f[i]);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_distance [-r RUNS] [-t MS] [-o CSV] [-d DIM[,DIM...]] [-a OFFSET[,OFFSET...]]\n");
	exit(2);
}

/* a comma-separated list of integers in [min, max]; returns the count */
static int
parse_list(const char *arg, int *out, int max_count, int min, int max)
{
	const char *s = arg;
	int			count = 0;

	while (*s)
	{
		char	   *end;
		long		v = strtol(s, &end, 10);

		if (end == s || v < min || v > max || count == max_count)
			usage();
		out[count++] = (int) v;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			usage();
	}
	if (count == 0)
		usage();
	return count;
}

/* time every kernel on one pool; print a table section and CSV rows */
static void
bench_pool(const Pool *pool, const DistanceKernels *const *variants,
		   const char *const *variant_names, int nvariants,
		   int runs, double run_ms, FILE *csv)
{
	printf("\ndims = %d, vectors at 64-byte boundary + %d bytes (%d pairs per pass)\n%-12s",
		   pool->dim, pool->offset, pool->count, "kernel");
	for (int v = 0; v < nvariants; v++)
		printf(" %18s", variant_names[v]);
	printf("\n");

	for (int ki = 0; ki < NKERNELS; ki++)
	{
		long		passes[MAX_VARIANTS];
		double	   *samples[MAX_VARIANTS];
		double		median[MAX_VARIANTS];

		/* calibrate: enough passes for one run to last ~run_ms */
		for (int v = 0; v < nvariants; v++)
		{
			double		ns;

			passes[v] = 1;
			time_passes(kernels[ki].run, variants[v], pool, 1);	/* warm up */
			while ((ns = time_passes(kernels[ki].run, variants[v], pool, passes[v])) < run_ms * 1e6 / 4)
				passes[v] *= 2;
			passes[v] = (long) (passes[v] * (run_ms * 1e6 / ns)) + 1;
			samples[v] = (double *) malloc(sizeof(double) * runs);
			if (samples[v] == NULL)
			{
				fprintf(stderr, "bench_distance: out of memory\n");
				exit(1);
			}
		}
		/* measure, the variants taking turns */
		for (int r = 0; r < runs; r++)
			for (int v = 0; v < nvariants; v++)
				samples[v][r] = time_passes(kernels[ki].run, variants[v], pool, passes[v]) /
					((double) passes[v] * pool->count);

		printf("%-12s", kernels[ki].name);
		for (int v = 0; v < nvariants; v++)
		{
			qsort(samples[v], runs, sizeof(double), cmp_double);
			median[v] = runs % 2 ? samples[v][runs / 2]
				: (samples[v][runs / 2 - 1] + samples[v][runs / 2]) / 2;
			if (v == 0)
				printf(" %18.1f", median[v]);
			else
				printf(" %10.1f (%4.1fx)", median[v], median[0] / median[v]);
			if (csv)
				fprintf(csv, "%d,%d,%s,%s,%.2f,%.2f,%.2f,%ld,%d\n",
						pool->dim, pool->offset, kernels[ki].name, variant_names[v],
						median[v], samples[v][0], median[0] / median[v],
						passes[v] * pool->count, runs);
			free(samples[v]);
		}
		printf("\n");
		fflush(stdout);
	}
}

int
main(int argc, char **argv)
{
	int			runs = 15;
	double		run_ms = 4.0;
	const char *csv_path = NULL;
	int			dims[MAX_LIST] = {128, 784, 1536};
	int			ndims = 3;
	int			offsets[MAX_LIST] = {0};
	int			noffsets = 1;
	const DistanceKernels *variants[MAX_VARIANTS];
	const char *variant_names[MAX_VARIANTS];
	int			nvariants = 0;
	static const char *const simd[] = {"scalar", "avx2", "avx512"};
	FILE	   *csv = NULL;
	int			opt;

	while ((opt = getopt(argc, argv, "r:t:o:d:a:")) != -1)
	{
		switch (opt)
		{
			case 'r':
				runs = atoi(optarg);
				break;
			case 't':
				run_ms = atof(optarg);
				break;
			case 'o':
				csv_path = optarg;
				break;
			case 'd':
				ndims = parse_list(optarg, dims, MAX_LIST, 1, 16000);
				break;
			case 'a':
				noffsets = parse_list(optarg, offsets, MAX_LIST, 0, 60);
				for (int i = 0; i < noffsets; i++)
					if (offsets[i] % 4 != 0)
						usage();
				break;
			default:
				usage();
		}
	}
	if (runs < 1 || run_ms <= 0 || optind != argc)
		usage();

	variants[nvariants] = &fallback_vecdb_kernels_scalar;
	variant_names[nvariants++] = "fallback";
	for (int v = 0; v < 3; v++)
	{
		const DistanceKernels *k = vecdb_kernel_lookup(simd[v]);

		if (k != NULL)
		{
			variants[nvariants] = k;
			variant_names[nvariants++] = simd[v];
		}
	}

	if (csv_path != NULL)
	{
		csv = fopen(csv_path, "w");
		if (csv == NULL)
		{
			perror(csv_path);
			return 1;
		}
		fprintf(csv, "dims,offset_bytes,kernel,variant,ns_per_call_median,ns_per_call_min,"
				"speedup_vs_fallback,calls_per_run,runs\n");
	}

	printf("ns per distance call: median of %d runs of ~%.0f ms; (x) = speedup vs fallback\n",
		   runs, run_ms);
	printf("fallback = distance.c's portable kernels at -O2 -fno-tree-vectorize; auto picks %s\n",
		   vecdb_kernel_best()->name);

	for (int oi = 0; oi < noffsets; oi++)
		for (int di = 0; di < ndims; di++)
		{
			Pool		pool;

			pool_init(&pool, dims[di], offsets[oi]);
			bench_pool(&pool, variants, variant_names, nvariants, runs, run_ms, csv);
			free(pool.f_mem);
			free(pool.h_mem);
		}

	if (csv && fclose(csv) != 0)
	{
		perror(csv_path);
		return 1;
	}
	return 0;
}
