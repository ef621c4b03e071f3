/*-------------------------------------------------------------------------
 *
 * halfvec.c
 *	  The halfvec type: IEEE float16 elements, pgvector-compatible.
 *
 * Half the size of vector for the same dimensions, with about three
 * significant decimal digits and a range of +-65504.  Values are parsed and
 * formatted through float (vector.c's shared helpers), so text, arrays and
 * errors behave exactly as for vector; a value that does not fit in float16
 * is an error, never a silent infinity.  Distances run on the float16 data
 * directly (F16C / AVX-512 conversion in the kernels); everything else
 * widens to float first, which is simpler and off the hot path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/float.h"

#include "vector.h"

/* Round a float to float16; infinity means it did not fit */
static inline vecdb_half
to_half(float f, bool *overflow)
{
	vecdb_half	h = vecdb_float_to_half(f);

	*overflow = (h & 0x7c00) == 0x7c00;
	return h;
}

/* A zeroed halfvec of dim elements */
HalfVector *
InitHalfVector(int dim)
{
	HalfVector *v = palloc0(HALFVEC_SIZE(dim));

	SET_VARSIZE(v, HALFVEC_SIZE(dim));
	v->dim = dim;
	return v;
}

/* A halfvec from input floats; out-of-range values are the caller's error */
static HalfVector *
halfvec_from_floats(const float *x, int dim)
{
	HalfVector *v = InitHalfVector(dim);
	bool		overflow;

	for (int i = 0; i < dim; i++)
	{
		v->x[i] = to_half(x[i], &overflow);
		if (overflow)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%g\" is out of range for type halfvec", x[i])));
	}
	return v;
}

/* A halfvec's elements widened to float, palloc'd */
static float *
halfvec_floats(HalfVector *v)
{
	float	   *x = palloc(sizeof(float) * v->dim);

	for (int i = 0; i < v->dim; i++)
		x[i] = vecdb_half_to_float(v->x[i]);
	return x;
}

PG_FUNCTION_INFO_V1(halfvec_in);
Datum
halfvec_in(PG_FUNCTION_ARGS)
{
	int			dim;
	float	   *x = vecdb_parse_elements(PG_GETARG_CSTRING(0), "halfvec", HALFVEC_MAX_DIM, &dim);

	vecdb_check_typmod(PG_GETARG_INT32(2), dim);
	PG_RETURN_HALFVEC_P(halfvec_from_floats(x, dim));
}

PG_FUNCTION_INFO_V1(halfvec_out);
Datum
halfvec_out(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);

	PG_RETURN_CSTRING(vecdb_format_elements(halfvec_floats(v), v->dim));
}

PG_FUNCTION_INFO_V1(halfvec_typmod_in);
Datum
halfvec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vecdb_parse_typmod(PG_GETARG_ARRAYTYPE_P(0), "halfvec", HALFVEC_MAX_DIM));
}

PG_FUNCTION_INFO_V1(halfvec_recv);
Datum
halfvec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int16		dim = pq_getmsgint(buf, sizeof(int16));
	int16		unused = pq_getmsgint(buf, sizeof(int16));
	HalfVector *v;

	vecdb_check_dims(dim, HALFVEC_MAX_DIM, "halfvec");
	vecdb_check_typmod(PG_GETARG_INT32(2), dim);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("expected unused to be 0, not %d", unused)));

	v = InitHalfVector(dim);
	for (int i = 0; i < dim; i++)
	{
		v->x[i] = (vecdb_half) pq_getmsgint(buf, sizeof(vecdb_half));
		vecdb_check_element(vecdb_half_to_float(v->x[i]), "halfvec");
	}
	PG_RETURN_HALFVEC_P(v);
}

PG_FUNCTION_INFO_V1(halfvec_send);
Datum
halfvec_send(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint(&buf, v->dim, sizeof(int16));
	pq_sendint(&buf, v->unused, sizeof(int16));
	for (int i = 0; i < v->dim; i++)
		pq_sendint16(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Cast halfvec to halfvec(n) */
PG_FUNCTION_INFO_V1(halfvec);
Datum
halfvec(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);

	vecdb_check_typmod(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_HALFVEC_P(v);
}

PG_FUNCTION_INFO_V1(array_to_halfvec);
Datum
array_to_halfvec(PG_FUNCTION_ARGS)
{
	int			dim;
	float	   *x = vecdb_array_elements(PG_GETARG_ARRAYTYPE_P(0), "halfvec", HALFVEC_MAX_DIM, &dim);

	vecdb_check_typmod(PG_GETARG_INT32(1), dim);
	PG_RETURN_HALFVEC_P(halfvec_from_floats(x, dim));
}

PG_FUNCTION_INFO_V1(halfvec_to_float4);
Datum
halfvec_to_float4(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);

	PG_RETURN_ARRAYTYPE_P(vecdb_float4_array(halfvec_floats(v), v->dim));
}

PG_FUNCTION_INFO_V1(vector_to_halfvec);
Datum
vector_to_halfvec(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	vecdb_check_typmod(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_HALFVEC_P(halfvec_from_floats(v->x, v->dim));
}

PG_FUNCTION_INFO_V1(halfvec_to_vector);
Datum
halfvec_to_vector(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	Vector	   *r;

	vecdb_check_typmod(PG_GETARG_INT32(1), v->dim);
	r = InitVector(v->dim);
	for (int i = 0; i < v->dim; i++)
		r->x[i] = vecdb_half_to_float(v->x[i]);
	PG_RETURN_VECTOR_P(r);
}

/* b, once checked to have a's dimensions */
static inline HalfVector *
same_dims(HalfVector *a, HalfVector *b)
{
	vecdb_check_same_dims(a->dim, b->dim);
	return b;
}

/* Fetch two halfvec arguments of equal dimensions (declarations only) */
#define GET_TWO_HALFVECS(a, b) \
	HalfVector *a = PG_GETARG_HALFVEC_P(0); \
	HalfVector *b = same_dims(a, PG_GETARG_HALFVEC_P(1))

PG_FUNCTION_INFO_V1(halfvec_l2_distance);
Datum
halfvec_l2_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_HALFVECS(a, b);
	PG_RETURN_FLOAT8(sqrt((double) vecdb_kernel->l2sq_f16(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(halfvec_l2_squared_distance);
Datum
halfvec_l2_squared_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_HALFVECS(a, b);
	PG_RETURN_FLOAT8((double) vecdb_kernel->l2sq_f16(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(halfvec_inner_product);
Datum
halfvec_inner_product(PG_FUNCTION_ARGS)
{
	GET_TWO_HALFVECS(a, b);
	PG_RETURN_FLOAT8((double) vecdb_kernel->dot_f16(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(halfvec_negative_inner_product);
Datum
halfvec_negative_inner_product(PG_FUNCTION_ARGS)
{
	GET_TWO_HALFVECS(a, b);
	PG_RETURN_FLOAT8(-(double) vecdb_kernel->dot_f16(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(halfvec_cosine_distance);
Datum
halfvec_cosine_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_HALFVECS(a, b);
	PG_RETURN_FLOAT8(vecdb_cosine_from_sums(vecdb_kernel->cosine_f16(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(halfvec_l1_distance);
Datum
halfvec_l1_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_HALFVECS(a, b);
	PG_RETURN_FLOAT8((double) vecdb_kernel->l1_f16(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(halfvec_vector_dims);
Datum
halfvec_vector_dims(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_HALFVEC_P(0)->dim);
}

/* sum of squares in double */
static double
halfvec_norm(HalfVector *v)
{
	double		norm = 0;

	for (int i = 0; i < v->dim; i++)
	{
		double		x = vecdb_half_to_float(v->x[i]);

		norm += x * x;
	}
	return sqrt(norm);
}

PG_FUNCTION_INFO_V1(halfvec_l2_norm);
Datum
halfvec_l2_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(halfvec_norm(PG_GETARG_HALFVEC_P(0)));
}

PG_FUNCTION_INFO_V1(halfvec_l2_normalize);
Datum
halfvec_l2_normalize(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	HalfVector *r = InitHalfVector(v->dim);
	double		norm = halfvec_norm(v);
	bool		overflow;

	if (norm > 0)
		for (int i = 0; i < v->dim; i++)
			r->x[i] = to_half((float) (vecdb_half_to_float(v->x[i]) / norm), &overflow);
	PG_RETURN_HALFVEC_P(r);
}

PG_FUNCTION_INFO_V1(halfvec_binary_quantize);
Datum
halfvec_binary_quantize(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);

	PG_RETURN_DATUM(vecdb_binary_quantize(halfvec_floats(v), v->dim));
}

PG_FUNCTION_INFO_V1(halfvec_subvector);
Datum
halfvec_subvector(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	HalfVector *r;
	int			first,
				len;

	vecdb_subvector_range(v->dim, PG_GETARG_INT32(1), PG_GETARG_INT32(2), "halfvec", &first, &len);
	r = InitHalfVector(len);
	memcpy(r->x, v->x + first, sizeof(vecdb_half) * len);
	PG_RETURN_HALFVEC_P(r);
}

/* Element-wise arithmetic, computed in float and rounded once */
typedef enum HalfOp
{
	HALF_ADD,
	HALF_SUB,
	HALF_MUL
} HalfOp;

static HalfVector *
halfvec_arith(HalfVector *a, HalfVector *b, HalfOp op)
{
	HalfVector *r = InitHalfVector(a->dim);
	bool		overflow;

	for (int i = 0; i < a->dim; i++)
	{
		float		x = vecdb_half_to_float(a->x[i]);
		float		y = vecdb_half_to_float(b->x[i]);
		float		z = op == HALF_ADD ? x + y : op == HALF_SUB ? x - y : x * y;

		r->x[i] = to_half(z, &overflow);
		if (unlikely(overflow))
			float_overflow_error();
		if (unlikely(op == HALF_MUL && (r->x[i] & 0x7fff) == 0 && x != 0 && y != 0))
			float_underflow_error();
	}
	return r;
}

PG_FUNCTION_INFO_V1(halfvec_add);
Datum
halfvec_add(PG_FUNCTION_ARGS)
{
	GET_TWO_HALFVECS(a, b);
	PG_RETURN_HALFVEC_P(halfvec_arith(a, b, HALF_ADD));
}

PG_FUNCTION_INFO_V1(halfvec_sub);
Datum
halfvec_sub(PG_FUNCTION_ARGS)
{
	GET_TWO_HALFVECS(a, b);
	PG_RETURN_HALFVEC_P(halfvec_arith(a, b, HALF_SUB));
}

PG_FUNCTION_INFO_V1(halfvec_mul);
Datum
halfvec_mul(PG_FUNCTION_ARGS)
{
	GET_TWO_HALFVECS(a, b);
	PG_RETURN_HALFVEC_P(halfvec_arith(a, b, HALF_MUL));
}

PG_FUNCTION_INFO_V1(halfvec_concat);
Datum
halfvec_concat(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	HalfVector *r;

	vecdb_check_dims(a->dim + b->dim, HALFVEC_MAX_DIM, "halfvec");
	r = InitHalfVector(a->dim + b->dim);
	memcpy(r->x, a->x, sizeof(vecdb_half) * a->dim);
	memcpy(r->x + a->dim, b->x, sizeof(vecdb_half) * b->dim);
	PG_RETURN_HALFVEC_P(r);
}

/* Element by element as numbers, then the shorter first */
static int
halfvec_cmp_internal(HalfVector *a, HalfVector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		float		x = vecdb_half_to_float(a->x[i]);
		float		y = vecdb_half_to_float(b->x[i]);

		if (x < y)
			return -1;
		if (x > y)
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

#define HALFVEC_COMPARISON(fname, op) \
PG_FUNCTION_INFO_V1(fname); \
Datum \
fname(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_BOOL(halfvec_cmp_internal(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)) op 0); \
}

HALFVEC_COMPARISON(halfvec_lt, <)
HALFVEC_COMPARISON(halfvec_le, <=)
HALFVEC_COMPARISON(halfvec_eq, ==)
HALFVEC_COMPARISON(halfvec_ne, !=)
HALFVEC_COMPARISON(halfvec_ge, >=)
HALFVEC_COMPARISON(halfvec_gt, >)

PG_FUNCTION_INFO_V1(halfvec_cmp);
Datum
halfvec_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(halfvec_cmp_internal(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)));
}

PG_FUNCTION_INFO_V1(halfvec_accum);
Datum
halfvec_accum(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(1);

	PG_RETURN_ARRAYTYPE_P(vecdb_accum(PG_GETARG_ARRAYTYPE_P(0), halfvec_floats(v), v->dim,
									  fcinfo, "halfvec_accum"));
}

/* avg and sum share one final step: the state's result as a halfvec */
static Datum
halfvec_state_result(FunctionCallInfo fcinfo, bool average)
{
	int			dim;
	float	   *x = vecdb_state_result(PG_GETARG_ARRAYTYPE_P(0),
									   average ? "halfvec_avg" : "halfvec_sum", average, &dim);
	HalfVector *r;
	bool		overflow;

	if (x == NULL)
		PG_RETURN_NULL();
	r = InitHalfVector(dim);
	for (int i = 0; i < dim; i++)
	{
		r->x[i] = to_half(x[i], &overflow);
		if (unlikely(overflow))
			float_overflow_error();
	}
	PG_RETURN_HALFVEC_P(r);
}

PG_FUNCTION_INFO_V1(halfvec_avg);
Datum
halfvec_avg(PG_FUNCTION_ARGS)
{
	return halfvec_state_result(fcinfo, true);
}

PG_FUNCTION_INFO_V1(halfvec_sum);
Datum
halfvec_sum(PG_FUNCTION_ARGS)
{
	return halfvec_state_result(fcinfo, false);
}
