/*-------------------------------------------------------------------------
 *
 * distance_x86.c
 *	  AVX2 (+FMA, F16C) and AVX-512 distance kernels.
 *
 * Each function carries its own target attribute, so this file compiles
 * with the ordinary flags PostgreSQL gives extensions and the instructions
 * only run after distance.c has checked the CPU.  The loops keep several
 * independent accumulators: a single one would serialise on the latency of
 * the fused multiply-add (4 cycles) instead of its throughput (2 per cycle).
 * Tails shorter than the vector width are done with masked loads (AVX-512)
 * or by the portable kernel (AVX2, and float16 everywhere).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "distance.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <immintrin.h>

#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx2,fma,f16c")))
#define POPCNT_TARGET __attribute__((target("popcnt")))

/* The sums of a vector part and its tail */
static inline CosineSums
add_sums(CosineSums x, CosineSums y)
{
	x.dot += y.dot;
	x.norm_a += y.norm_a;
	x.norm_b += y.norm_b;
	return x;
}

/* ---- AVX2 ---- */

AVX2_TARGET static inline float
hsum256(__m256 v)
{
	__m128		lo = _mm256_castps256_ps128(v);
	__m128		hi = _mm256_extractf128_ps(v, 1);

	lo = _mm_add_ps(lo, hi);
	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
	return _mm_cvtss_f32(lo);
}

AVX2_TARGET static float
l2sq_f32_avx2(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps(),
				s2 = _mm256_setzero_ps(),
				s3 = _mm256_setzero_ps();
	int			i = 0;
	float		sum;

	for (; i + 32 <= n; i += 32)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
		__m256		d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
		__m256		d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
		s2 = _mm256_fmadd_ps(d2, d2, s2);
		s3 = _mm256_fmadd_ps(d3, d3, s3);
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));

		s0 = _mm256_fmadd_ps(d, d, s0);
	}
	sum = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
	return sum + vecdb_kernels_scalar.l2sq_f32(a + i, b + i, n - i);
}

AVX2_TARGET static float
dot_f32_avx2(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps(),
				s2 = _mm256_setzero_ps(),
				s3 = _mm256_setzero_ps();
	int			i = 0;
	float		sum;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
		s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
		s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
	sum = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
	return sum + vecdb_kernels_scalar.dot_f32(a + i, b + i, n - i);
}

AVX2_TARGET static CosineSums
cosine_f32_avx2(const float *a, const float *b, int n)
{
	__m256		d0 = _mm256_setzero_ps(),
				d1 = _mm256_setzero_ps(),
				na0 = _mm256_setzero_ps(),
				na1 = _mm256_setzero_ps(),
				nb0 = _mm256_setzero_ps(),
				nb1 = _mm256_setzero_ps();
	int			i = 0;
	CosineSums	s;

	for (; i + 16 <= n; i += 16)
	{
		__m256		x0 = _mm256_loadu_ps(a + i);
		__m256		y0 = _mm256_loadu_ps(b + i);
		__m256		x1 = _mm256_loadu_ps(a + i + 8);
		__m256		y1 = _mm256_loadu_ps(b + i + 8);

		d0 = _mm256_fmadd_ps(x0, y0, d0);
		na0 = _mm256_fmadd_ps(x0, x0, na0);
		nb0 = _mm256_fmadd_ps(y0, y0, nb0);
		d1 = _mm256_fmadd_ps(x1, y1, d1);
		na1 = _mm256_fmadd_ps(x1, x1, na1);
		nb1 = _mm256_fmadd_ps(y1, y1, nb1);
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		x = _mm256_loadu_ps(a + i);
		__m256		y = _mm256_loadu_ps(b + i);

		d0 = _mm256_fmadd_ps(x, y, d0);
		na0 = _mm256_fmadd_ps(x, x, na0);
		nb0 = _mm256_fmadd_ps(y, y, nb0);
	}
	s.dot = hsum256(_mm256_add_ps(d0, d1));
	s.norm_a = hsum256(_mm256_add_ps(na0, na1));
	s.norm_b = hsum256(_mm256_add_ps(nb0, nb1));
	return add_sums(s, vecdb_kernels_scalar.cosine_f32(a + i, b + i, n - i));
}

AVX2_TARGET static float
l1_f32_avx2(const float *a, const float *b, int n)
{
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		sum;

	for (; i + 16 <= n; i += 16)
	{
		s0 = _mm256_add_ps(s0, _mm256_and_ps(absmask, _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))));
		s1 = _mm256_add_ps(s1, _mm256_and_ps(absmask, _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8))));
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_add_ps(s0, _mm256_and_ps(absmask, _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))));
	sum = hsum256(_mm256_add_ps(s0, s1));
	return sum + vecdb_kernels_scalar.l1_f32(a + i, b + i, n - i);
}

/* eight float16 values widened to float */
#define LOAD_F16x8(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (p)))

AVX2_TARGET static float
l2sq_f16_avx2(const vecdb_half *a, const vecdb_half *b, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		sum;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(LOAD_F16x8(a + i), LOAD_F16x8(b + i));
		__m256		d1 = _mm256_sub_ps(LOAD_F16x8(a + i + 8), LOAD_F16x8(b + i + 8));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d = _mm256_sub_ps(LOAD_F16x8(a + i), LOAD_F16x8(b + i));

		s0 = _mm256_fmadd_ps(d, d, s0);
	}
	sum = hsum256(_mm256_add_ps(s0, s1));
	return sum + vecdb_kernels_scalar.l2sq_f16(a + i, b + i, n - i);
}

AVX2_TARGET static float
dot_f16_avx2(const vecdb_half *a, const vecdb_half *b, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		sum;

	for (; i + 16 <= n; i += 16)
	{
		s0 = _mm256_fmadd_ps(LOAD_F16x8(a + i), LOAD_F16x8(b + i), s0);
		s1 = _mm256_fmadd_ps(LOAD_F16x8(a + i + 8), LOAD_F16x8(b + i + 8), s1);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(LOAD_F16x8(a + i), LOAD_F16x8(b + i), s0);
	sum = hsum256(_mm256_add_ps(s0, s1));
	return sum + vecdb_kernels_scalar.dot_f16(a + i, b + i, n - i);
}

AVX2_TARGET static CosineSums
cosine_f16_avx2(const vecdb_half *a, const vecdb_half *b, int n)
{
	__m256		d = _mm256_setzero_ps(),
				na = _mm256_setzero_ps(),
				nb = _mm256_setzero_ps();
	int			i = 0;
	CosineSums	s;

	for (; i + 8 <= n; i += 8)
	{
		__m256		x = LOAD_F16x8(a + i);
		__m256		y = LOAD_F16x8(b + i);

		d = _mm256_fmadd_ps(x, y, d);
		na = _mm256_fmadd_ps(x, x, na);
		nb = _mm256_fmadd_ps(y, y, nb);
	}
	s.dot = hsum256(d);
	s.norm_a = hsum256(na);
	s.norm_b = hsum256(nb);
	return add_sums(s, vecdb_kernels_scalar.cosine_f16(a + i, b + i, n - i));
}

AVX2_TARGET static float
l1_f16_avx2(const vecdb_half *a, const vecdb_half *b, int n)
{
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256		s0 = _mm256_setzero_ps();
	int			i = 0;
	float		sum;

	for (; i + 8 <= n; i += 8)
		s0 = _mm256_add_ps(s0, _mm256_and_ps(absmask, _mm256_sub_ps(LOAD_F16x8(a + i), LOAD_F16x8(b + i))));
	sum = hsum256(s0);
	return sum + vecdb_kernels_scalar.l1_f16(a + i, b + i, n - i);
}

/* ---- bit strings: 64-bit popcnt, shared by both tables ---- */

POPCNT_TARGET static uint64_t
hamming_popcnt(const uint8_t *a, const uint8_t *b, int nbytes)
{
	uint64_t	count = 0;
	int			i = 0;

	for (; i + 8 <= nbytes; i += 8)
	{
		uint64_t	x,
					y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		count += (uint64_t) __builtin_popcountll(x ^ y);
	}
	for (; i < nbytes; i++)
		count += (uint64_t) __builtin_popcount((unsigned) (a[i] ^ b[i]));
	return count;
}

POPCNT_TARGET static void
and_or_count_popcnt(const uint8_t *a, const uint8_t *b, int nbytes,
					uint64_t *and_count, uint64_t *or_count)
{
	uint64_t	ab = 0;
	uint64_t	aob = 0;
	int			i = 0;

	for (; i + 8 <= nbytes; i += 8)
	{
		uint64_t	x,
					y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		ab += (uint64_t) __builtin_popcountll(x & y);
		aob += (uint64_t) __builtin_popcountll(x | y);
	}
	for (; i < nbytes; i++)
	{
		ab += (uint64_t) __builtin_popcount((unsigned) (a[i] & b[i]));
		aob += (uint64_t) __builtin_popcount((unsigned) (a[i] | b[i]));
	}
	*and_count = ab;
	*or_count = aob;
}

static const DistanceKernels kernels_avx2 = {
	.name = "avx2",
	.l2sq_f32 = l2sq_f32_avx2,
	.dot_f32 = dot_f32_avx2,
	.cosine_f32 = cosine_f32_avx2,
	.l1_f32 = l1_f32_avx2,
	.l2sq_f16 = l2sq_f16_avx2,
	.dot_f16 = dot_f16_avx2,
	.cosine_f16 = cosine_f16_avx2,
	.l1_f16 = l1_f16_avx2,
	.hamming = hamming_popcnt,
	.and_or_count = and_or_count_popcnt,
};

/* ---- AVX-512 ---- */

/* mask selecting the first n (< 16) lanes */
#define TAIL_MASK(n) ((__mmask16) ((1u << (n)) - 1))

AVX512_TARGET static float
l2sq_f32_avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps(),
				s2 = _mm512_setzero_ps(),
				s3 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 64 <= n; i += 64)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
		__m512		d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
		__m512		d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
		s1 = _mm512_fmadd_ps(d1, d1, s1);
		s2 = _mm512_fmadd_ps(d2, d2, s2);
		s3 = _mm512_fmadd_ps(d3, d3, s3);
	}
	for (; i + 16 <= n; i += 16)
	{
		__m512		d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));

		s0 = _mm512_fmadd_ps(d, d, s0);
	}
	if (i < n)
	{
		__mmask16	m = TAIL_MASK(n - i);
		__m512		d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));

		s1 = _mm512_fmadd_ps(d, d, s1);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

AVX512_TARGET static float
dot_f32_avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps(),
				s2 = _mm512_setzero_ps(),
				s3 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 64 <= n; i += 64)
	{
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
		s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
		s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
	}
	for (; i + 16 <= n; i += 16)
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
	if (i < n)
	{
		__mmask16	m = TAIL_MASK(n - i);

		s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

AVX512_TARGET static CosineSums
cosine_f32_avx512(const float *a, const float *b, int n)
{
	__m512		d0 = _mm512_setzero_ps(),
				d1 = _mm512_setzero_ps(),
				na0 = _mm512_setzero_ps(),
				na1 = _mm512_setzero_ps(),
				nb0 = _mm512_setzero_ps(),
				nb1 = _mm512_setzero_ps();
	int			i = 0;
	CosineSums	s;

	for (; i + 32 <= n; i += 32)
	{
		__m512		x0 = _mm512_loadu_ps(a + i);
		__m512		y0 = _mm512_loadu_ps(b + i);
		__m512		x1 = _mm512_loadu_ps(a + i + 16);
		__m512		y1 = _mm512_loadu_ps(b + i + 16);

		d0 = _mm512_fmadd_ps(x0, y0, d0);
		na0 = _mm512_fmadd_ps(x0, x0, na0);
		nb0 = _mm512_fmadd_ps(y0, y0, nb0);
		d1 = _mm512_fmadd_ps(x1, y1, d1);
		na1 = _mm512_fmadd_ps(x1, x1, na1);
		nb1 = _mm512_fmadd_ps(y1, y1, nb1);
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = n - i >= 16 ? (__mmask16) 0xffff : TAIL_MASK(n - i);
		__m512		x = _mm512_maskz_loadu_ps(m, a + i);
		__m512		y = _mm512_maskz_loadu_ps(m, b + i);

		d0 = _mm512_fmadd_ps(x, y, d0);
		na0 = _mm512_fmadd_ps(x, x, na0);
		nb0 = _mm512_fmadd_ps(y, y, nb0);
	}
	s.dot = _mm512_reduce_add_ps(_mm512_add_ps(d0, d1));
	s.norm_a = _mm512_reduce_add_ps(_mm512_add_ps(na0, na1));
	s.norm_b = _mm512_reduce_add_ps(_mm512_add_ps(nb0, nb1));
	return s;
}

AVX512_TARGET static float
l1_f32_avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
		s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16))));
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = n - i >= 16 ? (__mmask16) 0xffff : TAIL_MASK(n - i);

		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i))));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/* sixteen float16 values widened to float */
#define LOAD_F16x16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (p)))

AVX512_TARGET static float
l2sq_f16_avx512(const vecdb_half *a, const vecdb_half *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;
	float		sum;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(LOAD_F16x16(a + i), LOAD_F16x16(b + i));
		__m512		d1 = _mm512_sub_ps(LOAD_F16x16(a + i + 16), LOAD_F16x16(b + i + 16));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
		s1 = _mm512_fmadd_ps(d1, d1, s1);
	}
	for (; i + 16 <= n; i += 16)
	{
		__m512		d = _mm512_sub_ps(LOAD_F16x16(a + i), LOAD_F16x16(b + i));

		s0 = _mm512_fmadd_ps(d, d, s0);
	}
	sum = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
	return sum + vecdb_kernels_scalar.l2sq_f16(a + i, b + i, n - i);
}

AVX512_TARGET static float
dot_f16_avx512(const vecdb_half *a, const vecdb_half *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;
	float		sum;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_fmadd_ps(LOAD_F16x16(a + i), LOAD_F16x16(b + i), s0);
		s1 = _mm512_fmadd_ps(LOAD_F16x16(a + i + 16), LOAD_F16x16(b + i + 16), s1);
	}
	for (; i + 16 <= n; i += 16)
		s0 = _mm512_fmadd_ps(LOAD_F16x16(a + i), LOAD_F16x16(b + i), s0);
	sum = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
	return sum + vecdb_kernels_scalar.dot_f16(a + i, b + i, n - i);
}

AVX512_TARGET static CosineSums
cosine_f16_avx512(const vecdb_half *a, const vecdb_half *b, int n)
{
	__m512		d = _mm512_setzero_ps(),
				na = _mm512_setzero_ps(),
				nb = _mm512_setzero_ps();
	int			i = 0;
	CosineSums	s;

	for (; i + 16 <= n; i += 16)
	{
		__m512		x = LOAD_F16x16(a + i);
		__m512		y = LOAD_F16x16(b + i);

		d = _mm512_fmadd_ps(x, y, d);
		na = _mm512_fmadd_ps(x, x, na);
		nb = _mm512_fmadd_ps(y, y, nb);
	}
	s.dot = _mm512_reduce_add_ps(d);
	s.norm_a = _mm512_reduce_add_ps(na);
	s.norm_b = _mm512_reduce_add_ps(nb);
	return add_sums(s, vecdb_kernels_scalar.cosine_f16(a + i, b + i, n - i));
}

AVX512_TARGET static float
l1_f16_avx512(const vecdb_half *a, const vecdb_half *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	int			i = 0;
	float		sum;

	for (; i + 16 <= n; i += 16)
		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(LOAD_F16x16(a + i), LOAD_F16x16(b + i))));
	sum = _mm512_reduce_add_ps(s0);
	return sum + vecdb_kernels_scalar.l1_f16(a + i, b + i, n - i);
}

static const DistanceKernels kernels_avx512 = {
	.name = "avx512",
	.l2sq_f32 = l2sq_f32_avx512,
	.dot_f32 = dot_f32_avx512,
	.cosine_f32 = cosine_f32_avx512,
	.l1_f32 = l1_f32_avx512,
	.l2sq_f16 = l2sq_f16_avx512,
	.dot_f16 = dot_f16_avx512,
	.cosine_f16 = cosine_f16_avx512,
	.l1_f16 = l1_f16_avx512,
	.hamming = hamming_popcnt,
	.and_or_count = and_or_count_popcnt,
};

const DistanceKernels *vecdb_kernels_avx2 = &kernels_avx2;
const DistanceKernels *vecdb_kernels_avx512 = &kernels_avx512;

#else							/* not x86-64 */

const DistanceKernels *vecdb_kernels_avx2 = NULL;
const DistanceKernels *vecdb_kernels_avx512 = NULL;

#endif
