/*
 * test_kernels.c - every SIMD distance kernel agrees with the portable one.
 *
 * Runs outside PostgreSQL, linked with the extension's own kernel sources,
 * and prints TAP.  Vectors are pseudo-random from a fixed seed, at lengths
 * around every SIMD width boundary; a variant this CPU cannot run is
 * reported as skipped, never as passed.  Float sums in a different order
 * differ by rounding, so float results are compared against a tolerance
 * relative to the sum of the absolute terms; bit counts must be exact.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distance.h"
#include "xorshift.h"

static int	test_number = 0;
static int	failures = 0;

static void
ok(int pass, const char *fmt, const char *variant, int n)
{
	test_number++;
	if (!pass)
		failures++;
	printf("%sok %d - ", pass ? "" : "not ", test_number);
	printf(fmt, variant, n);
	printf("\n");
}


static int
close_enough(double got, double want, double scale)
{
	return fabs(got - want) <= 1e-4 * (scale > 1.0 ? scale : 1.0);
}

static const int lengths[] = {
	1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 47, 48, 63, 64, 65, 79,
	96, 100, 127, 128, 129, 255, 256, 257, 384, 511, 512, 513, 768, 784, 1000,
	1024, 1536, 2047, 3072, 4096, 16000
};

static void
check_variant(const DistanceKernels *k)
{
	const DistanceKernels *ref = &vecdb_kernels_scalar;
	int			nlengths = (int) (sizeof(lengths) / sizeof(lengths[0]));

	for (int li = 0; li < nlengths; li++)
	{
		int			n = lengths[li];
		/* +1 so that a kernel reading one element too far reads a sentinel */
		float	   *a = malloc(sizeof(float) * (n + 1));
		float	   *b = malloc(sizeof(float) * (n + 1));
		vecdb_half *ha = malloc(sizeof(vecdb_half) * (n + 1));
		vecdb_half *hb = malloc(sizeof(vecdb_half) * (n + 1));
		int			nbytes = n;
		uint8_t    *ba = malloc(nbytes);
		uint8_t    *bb = malloc(nbytes);
		double		abs_dot = 0,
					abs_l2 = 0,
					abs_l1 = 0,
					abs_na = 0,
					abs_nb = 0;
		int			pass;
		CosineSums	cs,
					cr;
		uint64_t	and1,
					or1,
					and2,
					or2;

		for (int i = 0; i < n; i++)
		{
			a[i] = (float) (rng_uniform() * 2.0 - 1.0);
			b[i] = (float) (rng_uniform() * 2.0 - 1.0);
			ha[i] = vecdb_float_to_half(a[i]);
			hb[i] = vecdb_float_to_half(b[i]);
			abs_dot += fabs((double) a[i] * b[i]);
			abs_l2 += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
			abs_l1 += fabs((double) a[i] - b[i]);
			abs_na += (double) a[i] * a[i];
			abs_nb += (double) b[i] * b[i];
		}
		a[n] = b[n] = 1e30f;
		ha[n] = hb[n] = 0x7bff;	/* largest finite half */
		for (int i = 0; i < nbytes; i++)
		{
			ba[i] = (uint8_t) (rng_uniform() * 256);
			bb[i] = (uint8_t) (rng_uniform() * 256);
		}

		ok(close_enough(k->l2sq_f32(a, b, n), ref->l2sq_f32(a, b, n), abs_l2),
		   "%s l2sq_f32 n=%d", k->name, n);
		ok(close_enough(k->dot_f32(a, b, n), ref->dot_f32(a, b, n), abs_dot),
		   "%s dot_f32 n=%d", k->name, n);
		cs = k->cosine_f32(a, b, n);
		cr = ref->cosine_f32(a, b, n);
		pass = close_enough(cs.dot, cr.dot, abs_dot) &&
			close_enough(cs.norm_a, cr.norm_a, abs_na) &&
			close_enough(cs.norm_b, cr.norm_b, abs_nb);
		ok(pass, "%s cosine_f32 n=%d", k->name, n);
		ok(close_enough(k->l1_f32(a, b, n), ref->l1_f32(a, b, n), abs_l1),
		   "%s l1_f32 n=%d", k->name, n);

		ok(close_enough(k->l2sq_f16(ha, hb, n), ref->l2sq_f16(ha, hb, n), abs_l2),
		   "%s l2sq_f16 n=%d", k->name, n);
		ok(close_enough(k->dot_f16(ha, hb, n), ref->dot_f16(ha, hb, n), abs_dot),
		   "%s dot_f16 n=%d", k->name, n);
		cs = k->cosine_f16(ha, hb, n);
		cr = ref->cosine_f16(ha, hb, n);
		pass = close_enough(cs.dot, cr.dot, abs_dot) &&
			close_enough(cs.norm_a, cr.norm_a, abs_na) &&
			close_enough(cs.norm_b, cr.norm_b, abs_nb);
		ok(pass, "%s cosine_f16 n=%d", k->name, n);
		ok(close_enough(k->l1_f16(ha, hb, n), ref->l1_f16(ha, hb, n), abs_l1),
		   "%s l1_f16 n=%d", k->name, n);

		ok(k->hamming(ba, bb, nbytes) == ref->hamming(ba, bb, nbytes),
		   "%s hamming nbytes=%d", k->name, nbytes);
		k->and_or_count(ba, bb, nbytes, &and1, &or1);
		ref->and_or_count(ba, bb, nbytes, &and2, &or2);
		ok(and1 == and2 && or1 == or2, "%s and_or_count nbytes=%d", k->name, nbytes);

		free(a);
		free(b);
		free(ha);
		free(hb);
		free(ba);
		free(bb);
	}
}

/* float16 conversion: exact for every half, correctly rounded for floats */
static void
check_half_conversion(void)
{
	int			bad = 0;

	for (uint32_t h = 0; h < 0x10000; h++)
	{
		float		f = vecdb_half_to_float((vecdb_half) h);

		if (isnan(f))
			bad += !isnan(vecdb_half_to_float(vecdb_float_to_half(f)));
		else
			bad += vecdb_float_to_half(f) != (vecdb_half) h;
	}
	ok(bad == 0, "%s every float16 survives float16 -> float -> float16%.0d", "", 0);

	/* ties round to even; overflow becomes infinity; tiny values flush */
	ok(vecdb_float_to_half(1.0f + 1.0f / 2048) == 0x3c00 &&
	   vecdb_float_to_half(1.0f + 3.0f / 2048) == 0x3c02 &&
	   vecdb_float_to_half(65504.0f) == 0x7bff &&
	   vecdb_float_to_half(65520.0f) == 0x7c00 &&
	   vecdb_float_to_half(-65520.0f) == 0xfc00 &&
	   vecdb_float_to_half(1e-8f) == 0 &&
	   vecdb_float_to_half(5.9604644775390625e-08f) == 1,
	   "%s float -> float16 rounding edge cases%.0d", "", 0);
}

int
main(void)
{
	static const char *const variants[] = {"scalar", "avx2", "avx512"};

	printf("# best kernel on this machine: %s\n", vecdb_kernel_best()->name);
	check_half_conversion();
	for (int v = 0; v < 3; v++)
	{
		const DistanceKernels *k = vecdb_kernel_lookup(variants[v]);

		if (k == NULL)
		{
			test_number++;
			printf("ok %d # skip %s: not supported by this CPU\n", test_number, variants[v]);
			continue;
		}
		check_variant(k);
	}
	printf("1..%d\n", test_number);
	return failures > 0;
}
