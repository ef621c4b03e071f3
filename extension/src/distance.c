/*-------------------------------------------------------------------------
 *
 * distance.c
 *	  Portable distance kernels, float16 conversion and kernel selection.
 *
 * The portable kernels are the reference every SIMD variant is tested
 * against: straightforward loops accumulating in float, in index order.  A
 * SIMD kernel sums in a different order, so results agree to float rounding,
 * not bit for bit.
 *
 * Selection: vecdb_kernel_best() returns the widest variant both the CPU and
 * the kernel (XSAVE state) support, as reported by __builtin_cpu_supports,
 * which checks OS support for the AVX and AVX-512 register state.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "distance.h"

/* float16 <-> float32, round to nearest even; no hardware needed */

/*
 * Shifting a half's exponent and mantissa into float position gives the
 * value scaled by 2^-112 (the difference of the exponent biases, 127 - 15);
 * one multiplication restores it, exactly, for normal and subnormal halves
 * alike.  Only infinities and NaNs need their exponent set by hand.
 */
float
vecdb_half_to_float(vecdb_half h)
{
	uint32_t	sign = (uint32_t) (h & 0x8000) << 16;
	uint32_t	em = h & 0x7fff;
	uint32_t	bits = em << 13;
	float		f;

	memcpy(&f, &bits, sizeof(f));
	f *= 0x1p112f;
	if (em >= 0x7c00)			/* infinity or NaN */
		bits = 0x7f800000 | ((em & 0x3ff) << 13);
	else
		memcpy(&bits, &f, sizeof(bits));
	bits |= sign;
	memcpy(&f, &bits, sizeof(f));
	return f;
}

vecdb_half
vecdb_float_to_half(float f)
{
	uint32_t	bits;
	uint32_t	sign;
	uint32_t	absbits;
	int32_t		exp;
	uint32_t	mant;

	memcpy(&bits, &f, sizeof(bits));
	sign = (bits >> 16) & 0x8000;
	absbits = bits & 0x7fffffff;

	if (absbits >= 0x7f800000)	/* infinity or NaN */
		return (vecdb_half) (sign | 0x7c00 | (absbits > 0x7f800000 ? 0x200 : 0));

	exp = (int32_t) (absbits >> 23) - 127 + 15;
	mant = absbits & 0x7fffff;

	if (exp >= 0x1f)			/* too large: infinity */
		return (vecdb_half) (sign | 0x7c00);

	if (exp <= 0)
	{
		/* subnormal half or zero */
		uint32_t	shift;
		uint32_t	m;
		uint32_t	rounded;

		if (exp < -10)
			return (vecdb_half) sign;
		m = mant | 0x800000;	/* implicit leading one */
		shift = (uint32_t) (14 - exp);
		rounded = m >> shift;
		/* round to nearest, ties to even */
		if ((m & ((1u << shift) - 1)) > (1u << (shift - 1)) ||
			((m & ((1u << shift) - 1)) == (1u << (shift - 1)) && (rounded & 1)))
			rounded++;
		return (vecdb_half) (sign | rounded);
	}
	else
	{
		uint32_t	h = ((uint32_t) exp << 10) | (mant >> 13);
		uint32_t	rest = mant & 0x1fff;

		/* round to nearest, ties to even; a carry may reach infinity */
		if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
			h++;
		return (vecdb_half) (sign | h);
	}
}

/* Portable kernels */

static float
l2sq_f32_scalar(const float *a, const float *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
	{
		float		d = a[i] - b[i];

		sum += d * d;
	}
	return sum;
}

static float
dot_f32_scalar(const float *a, const float *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += a[i] * b[i];
	return sum;
}

static CosineSums
cosine_f32_scalar(const float *a, const float *b, int n)
{
	CosineSums	s = {0.0f, 0.0f, 0.0f};

	for (int i = 0; i < n; i++)
	{
		s.dot += a[i] * b[i];
		s.norm_a += a[i] * a[i];
		s.norm_b += b[i] * b[i];
	}
	return s;
}

static float
l1_f32_scalar(const float *a, const float *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += fabsf(a[i] - b[i]);
	return sum;
}

static float
l2sq_f16_scalar(const vecdb_half *a, const vecdb_half *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
	{
		float		d = vecdb_half_to_float(a[i]) - vecdb_half_to_float(b[i]);

		sum += d * d;
	}
	return sum;
}

static float
dot_f16_scalar(const vecdb_half *a, const vecdb_half *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += vecdb_half_to_float(a[i]) * vecdb_half_to_float(b[i]);
	return sum;
}

static CosineSums
cosine_f16_scalar(const vecdb_half *a, const vecdb_half *b, int n)
{
	CosineSums	s = {0.0f, 0.0f, 0.0f};

	for (int i = 0; i < n; i++)
	{
		float		x = vecdb_half_to_float(a[i]);
		float		y = vecdb_half_to_float(b[i]);

		s.dot += x * y;
		s.norm_a += x * x;
		s.norm_b += y * y;
	}
	return s;
}

static float
l1_f16_scalar(const vecdb_half *a, const vecdb_half *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += fabsf(vecdb_half_to_float(a[i]) - vecdb_half_to_float(b[i]));
	return sum;
}

/* population count of one byte without any instruction-set assumption */
static inline int
popcount8(uint8_t x)
{
	x = x - ((x >> 1) & 0x55);
	x = (x & 0x33) + ((x >> 2) & 0x33);
	return (x + (x >> 4)) & 0x0f;
}

static uint64_t
hamming_scalar(const uint8_t *a, const uint8_t *b, int nbytes)
{
	uint64_t	count = 0;

	for (int i = 0; i < nbytes; i++)
		count += popcount8(a[i] ^ b[i]);
	return count;
}

static void
and_or_count_scalar(const uint8_t *a, const uint8_t *b, int nbytes,
					uint64_t *and_count, uint64_t *or_count)
{
	uint64_t	ab = 0;
	uint64_t	aob = 0;

	for (int i = 0; i < nbytes; i++)
	{
		ab += popcount8(a[i] & b[i]);
		aob += popcount8(a[i] | b[i]);
	}
	*and_count = ab;
	*or_count = aob;
}

const DistanceKernels vecdb_kernels_scalar = {
	.name = "scalar",
	.l2sq_f32 = l2sq_f32_scalar,
	.dot_f32 = dot_f32_scalar,
	.cosine_f32 = cosine_f32_scalar,
	.l1_f32 = l1_f32_scalar,
	.l2sq_f16 = l2sq_f16_scalar,
	.dot_f16 = dot_f16_scalar,
	.cosine_f16 = cosine_f16_scalar,
	.l1_f16 = l1_f16_scalar,
	.hamming = hamming_scalar,
	.and_or_count = and_or_count_scalar,
};

/* Kernel selection */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_X86_DISPATCH 1
#include <cpuid.h>

/* F16C (CPUID.1:ECX bit 29); not every compiler's __builtin_cpu_supports knows it */
static bool
cpu_has_f16c(void)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;

	return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}
#endif

/* Can this CPU (and OS) run the named variant? */
bool
vecdb_kernel_supported(const char *name)
{
	if (strcmp(name, "scalar") == 0)
		return true;
#ifdef HAVE_X86_DISPATCH
	__builtin_cpu_init();
	if (strcmp(name, "avx2") == 0)
		return vecdb_kernels_avx2 != NULL &&
			__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
			cpu_has_f16c() && __builtin_cpu_supports("popcnt");
	if (strcmp(name, "avx512") == 0)
		return vecdb_kernels_avx512 != NULL &&
			__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
			__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
			cpu_has_f16c() && __builtin_cpu_supports("popcnt");
#endif
	return false;
}

/* The named variant's table, or NULL if unknown or not supported here */
const DistanceKernels *
vecdb_kernel_lookup(const char *name)
{
	if (!vecdb_kernel_supported(name))
		return NULL;
	if (strcmp(name, "avx512") == 0)
		return vecdb_kernels_avx512;
	if (strcmp(name, "avx2") == 0)
		return vecdb_kernels_avx2;
	return &vecdb_kernels_scalar;
}

/* The widest variant this machine runs */
const DistanceKernels *
vecdb_kernel_best(void)
{
	static const char *const order[] = {"avx512", "avx2", "scalar"};

	for (int i = 0; i < 3; i++)
	{
		const DistanceKernels *k = vecdb_kernel_lookup(order[i]);

		if (k)
			return k;
	}
	return &vecdb_kernels_scalar;
}
