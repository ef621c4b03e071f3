/*-------------------------------------------------------------------------
 *
 * distance.h
 *	  Distance kernels for float4, float16 and bit vectors.
 *
 * The kernels are plain C with no PostgreSQL headers, so that the kernel
 * agreement test (tests/kernels) and the kernel benchmark (tests/bench) link
 * exactly the code the extension runs.
 *
 * Every distance goes through one table of function pointers.  A table exists
 * per instruction-set level (portable C, AVX2+FMA+F16C, AVX-512); the best one
 * the CPU and the operating system support is chosen at load time, and the
 * GUC vecdb.kernel can pin a lower one (for benchmarks and for tests that
 * compare variants).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECDB_DISTANCE_H
#define VECDB_DISTANCE_H

#include <stdbool.h>
#include <stdint.h>

/* IEEE 754 binary16, kept as its bit pattern */
typedef uint16_t vecdb_half;

/* The three sums cosine distance needs, computed in one pass */
typedef struct CosineSums
{
	float		dot;
	float		norm_a;			/* sum of a[i]^2 */
	float		norm_b;			/* sum of b[i]^2 */
} CosineSums;

typedef struct DistanceKernels
{
	const char *name;			/* "scalar", "avx2", "avx512" */

	/* float4 vectors of n elements */
	float		(*l2sq_f32) (const float *a, const float *b, int n);
	float		(*dot_f32) (const float *a, const float *b, int n);
	CosineSums	(*cosine_f32) (const float *a, const float *b, int n);
	float		(*l1_f32) (const float *a, const float *b, int n);

	/* float16 vectors of n elements */
	float		(*l2sq_f16) (const vecdb_half *a, const vecdb_half *b, int n);
	float		(*dot_f16) (const vecdb_half *a, const vecdb_half *b, int n);
	CosineSums	(*cosine_f16) (const vecdb_half *a, const vecdb_half *b, int n);
	float		(*l1_f16) (const vecdb_half *a, const vecdb_half *b, int n);

	/* bit strings of nbytes bytes (unused trailing bits are zero) */
	uint64_t	(*hamming) (const uint8_t *a, const uint8_t *b, int nbytes);
	/* popcount(a & b) and popcount(a | b) */
	void		(*and_or_count) (const uint8_t *a, const uint8_t *b, int nbytes,
								 uint64_t *and_count, uint64_t *or_count);
} DistanceKernels;

/* distance.c */
extern const DistanceKernels vecdb_kernels_scalar;
extern const DistanceKernels *vecdb_kernel_lookup(const char *name);
extern const DistanceKernels *vecdb_kernel_best(void);
extern bool vecdb_kernel_supported(const char *name);
extern float vecdb_half_to_float(vecdb_half h);
extern vecdb_half vecdb_float_to_half(float f);

/* distance_x86.c (NULL tables where the compiler cannot target x86-64) */
extern const DistanceKernels *vecdb_kernels_avx2;
extern const DistanceKernels *vecdb_kernels_avx512;

#endif							/* VECDB_DISTANCE_H */
