/*-------------------------------------------------------------------------
 *
 * vector.c
 *	  The vector type: float4 elements, pgvector-compatible.
 *
 * The first half of this file is the element handling that vector and
 * halfvec share (parsing, formatting, arrays, checks, aggregate state); the
 * second half is the SQL-callable functions of vector itself.  halfvec.c
 * converts to and from float through the shared helpers, so both types
 * accept and reject exactly the same text and arrays.
 *
 * Errors follow pgvector's wording and SQLSTATEs: malformed text is 22P02,
 * a wrong element (NaN, infinity) or a dimension mismatch is 22000, too many
 * dimensions is 54000, a float overflow is 22003.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/varbit.h"

#include "vector.h"

/* ---------------- shared element handling ---------------- */

/* Is c whitespace in a vector literal?  (the same set PostgreSQL's float parser skips) */
static inline bool
vecdb_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Reject NaN and infinities, which no distance can order */
void
vecdb_check_element(float value, const char *typname)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in %s", typname)));
	if (isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in %s", typname)));
}

/* Check a dimension count against the type's limits */
void
vecdb_check_dims(int dim, int maxdim, const char *typname)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));
	if (dim > maxdim)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot have more than %d dimensions", typname, maxdim)));
}

/* Check a value's dimensions against a column's declared ones */
void
vecdb_check_typmod(int32 typmod, int dim)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

/* Both operands of a binary operation must have the same dimensions */
void
vecdb_check_same_dims(int a, int b)
{
	if (a != b)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", a, b)));
}

/* Report malformed text for a vector literal */
static pg_attribute_noreturn() void
invalid_syntax(const char *lit, const char *typname, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", typname, lit),
			 detail ? errdetail("%s", detail) : 0));
}

/*
 * Parse "[1, 2.5, -3e4]" into a palloc'd float array.  Whitespace is allowed
 * around every element and bracket; elements are anything strtof accepts,
 * checked to be finite.
 */
float *
vecdb_parse_elements(const char *lit, const char *typname, int maxdim, int *dim)
{
	const char *p = lit;
	int			cap = 16;
	int			n = 0;
	float	   *x = palloc(sizeof(float) * cap);

	while (vecdb_isspace(*p))
		p++;
	if (*p != '[')
		invalid_syntax(lit, typname, "Vector contents must start with \"[\".");
	p++;
	while (vecdb_isspace(*p))
		p++;
	if (*p == ']')
		vecdb_check_dims(0, maxdim, typname);

	for (;;)
	{
		char	   *end;
		float		value;

		while (vecdb_isspace(*p))
			p++;
		if (*p == '\0')
			invalid_syntax(lit, typname, "Unexpected end of input.");

		errno = 0;
		value = strtof(p, &end);
		if (end == p)
			invalid_syntax(lit, typname, NULL);
		if (errno == ERANGE && isinf(value))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%s\" is out of range for type %s",
							pnstrdup(p, end - p), typname)));
		vecdb_check_element(value, typname);

		if (n == maxdim)
			vecdb_check_dims(maxdim + 1, maxdim, typname);
		if (n == cap)
		{
			cap = Min(cap * 2, maxdim);
			x = repalloc(x, sizeof(float) * cap);
		}
		x[n++] = value;

		p = end;
		while (vecdb_isspace(*p))
			p++;
		if (*p == ',')
			p++;
		else if (*p == ']')
		{
			p++;
			break;
		}
		else
			invalid_syntax(lit, typname, NULL);
	}

	while (vecdb_isspace(*p))
		p++;
	if (*p != '\0')
		invalid_syntax(lit, typname, "Junk after closing right bracket.");

	*dim = n;
	return x;
}

/* Format elements as "[1,2.5,-30000]", each in its shortest exact form */
char *
vecdb_format_elements(const float *x, int dim)
{
	/* FLOAT_SHORTEST_DECIMAL_LEN counts the NUL, which the comma replaces */
	char	   *buf = palloc((size_t) dim * FLOAT_SHORTEST_DECIMAL_LEN + 2);
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(x[i], p);
	}
	*p++ = ']';
	*p = '\0';
	return buf;
}

/* The elements of an int4[], float4[], float8[] or numeric[] as floats */
float *
vecdb_array_elements(ArrayType *array, const char *typname, int maxdim, int *dim)
{
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	float	   *x;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));
	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));
	if (elemtype != INT4OID && elemtype != FLOAT4OID &&
		elemtype != FLOAT8OID && elemtype != NUMERICOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot convert an array of %s to %s",
						format_type_be(elemtype), typname)));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
	vecdb_check_dims(n, maxdim, typname);

	x = palloc(sizeof(float) * n);
	for (int i = 0; i < n; i++)
	{
		switch (elemtype)
		{
			case INT4OID:
				x[i] = (float) DatumGetInt32(elems[i]);
				break;
			case FLOAT4OID:
				x[i] = DatumGetFloat4(elems[i]);
				break;
			case FLOAT8OID:
				{
					double		d = DatumGetFloat8(elems[i]);

					x[i] = (float) d;
					if (isinf(x[i]) && !isinf(d))
						ereport(ERROR,
								(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
								 errmsg("\"%g\" is out of range for type %s", d, typname)));
				}
				break;
			case NUMERICOID:
				x[i] = DatumGetFloat4(DirectFunctionCall1(numeric_float4, elems[i]));
				break;
		}
		vecdb_check_element(x[i], typname);
	}
	pfree(elems);
	pfree(nulls);

	*dim = n;
	return x;
}

/* A real[] holding the given elements */
ArrayType *
vecdb_float4_array(const float *x, int dim)
{
	Datum	   *d = palloc(sizeof(Datum) * dim);

	for (int i = 0; i < dim; i++)
		d[i] = Float4GetDatum(x[i]);
	return construct_array(d, dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
}

/* Parse a type modifier: exactly one dimension count within the limits */
int32
vecdb_parse_typmod(ArrayType *ta, const char *typname, int maxdim)
{
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errhint("Declare %s(n) with one dimension count.", typname)));
	if (tl[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s must be at least 1", typname)));
	if (tl[0] > maxdim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s cannot exceed %d", typname, maxdim)));
	return tl[0];
}

/*
 * subvector(v, start, count) selects elements start .. start+count-1
 * (1-based), clipped to the vector; an empty result is an error.
 */
void
vecdb_subvector_range(int dim, int32 start, int32 count, const char *typname,
					  int *first, int *len)
{
	int64		lo = start;
	int64		hi = (int64) start + count;

	if (count < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));
	if (lo < 1)
		lo = 1;
	if (hi > (int64) dim + 1)
		hi = (int64) dim + 1;
	if (hi - lo < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));
	*first = (int) (lo - 1);
	*len = (int) (hi - lo);
}

/* 1 - cosine similarity, NaN when either vector is zero */
double
vecdb_cosine_from_sums(CosineSums s)
{
	double		similarity = (double) s.dot / sqrt((double) s.norm_a * (double) s.norm_b);

	if (isnan(similarity))
		return get_float8_nan();
	/* rounding can take the similarity a hair outside [-1, 1] */
	if (similarity > 1)
		similarity = 1;
	else if (similarity < -1)
		similarity = -1;
	return 1 - similarity;
}

/*
 * Aggregate state for avg: a float8[] of {count, sum_1, ..., sum_dim},
 * starting as {0}.  Sums are kept in double so that averaging many rows does
 * not lose the small ones.
 */
static double *
state_values(ArrayType *state, const char *fname, int *n)
{
	double	   *s;

	if (ARR_NDIM(state) != 1 || ARR_ELEMTYPE(state) != FLOAT8OID ||
		ARR_HASNULL(state) || ARR_DIMS(state)[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: expected a non-empty float8[] aggregate state", fname)));
	*n = ARR_DIMS(state)[0];
	s = (double *) ARR_DATA_PTR(state);
	/* a state our functions made has a whole, non-negative count and fits a vector */
	if (*n - 1 > VECTOR_MAX_DIM || !(s[0] >= 0 && s[0] <= 9.0e15) || s[0] != floor(s[0]) ||
		(*n == 1 && s[0] != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: malformed aggregate state", fname)));
	return s;
}

/* A new state array of n doubles, all zero */
static ArrayType *
new_state(int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);
	ArrayType  *a;

	for (int i = 0; i < n; i++)
		d[i] = Float8GetDatum(0.0);
	a = construct_array(d, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	pfree(d);
	return a;
}

/*
 * Add one vector to the state.  Inside an aggregate the state belongs to the
 * executor and is updated in place, as float8_accum does; called directly it
 * is copied.
 */
ArrayType *
vecdb_accum(ArrayType *state, const float *x, int dim, FunctionCallInfo fcinfo,
			const char *fname)
{
	int			n;
	double	   *s = state_values(state, fname, &n);

	if (n == 1)
	{
		/* first vector: the state takes its dimensions */
		state = new_state(dim + 1);
		s = (double *) ARR_DATA_PTR(state);
	}
	else
	{
		vecdb_check_same_dims(n - 1, dim);
		if (!AggCheckCallContext(fcinfo, NULL))
		{
			state = DatumGetArrayTypePCopy(PointerGetDatum(state));
			s = (double *) ARR_DATA_PTR(state);
		}
	}
	s[0] += 1;
	for (int i = 0; i < dim; i++)
		s[i + 1] += x[i];
	return state;
}

/* Merge two partial states (parallel aggregation) */
ArrayType *
vecdb_combine(ArrayType *a, ArrayType *b, FunctionCallInfo fcinfo, const char *fname)
{
	int			na,
				nb;
	double	   *sa = state_values(a, fname, &na);
	double	   *sb = state_values(b, fname, &nb);

	if (sb[0] == 0)
		return a;
	if (sa[0] == 0)
		return DatumGetArrayTypePCopy(PointerGetDatum(b));
	vecdb_check_same_dims(na - 1, nb - 1);
	if (!AggCheckCallContext(fcinfo, NULL))
	{
		a = DatumGetArrayTypePCopy(PointerGetDatum(a));
		sa = (double *) ARR_DATA_PTR(a);
	}
	for (int i = 0; i < na; i++)
		sa[i] += sb[i];
	return a;
}

/*
 * The average (or the sum) held by a state; NULL (dim 0) when no row was
 * seen.  A sum too large for float is an overflow error.
 */
float *
vecdb_state_result(ArrayType *state, const char *fname, bool average, int *dim)
{
	int			n;
	double	   *s = state_values(state, fname, &n);
	float	   *x;

	if (s[0] == 0)
	{
		*dim = 0;
		return NULL;
	}
	*dim = n - 1;
	x = palloc(sizeof(float) * (n - 1));
	for (int i = 1; i < n; i++)
	{
		x[i - 1] = (float) (average ? s[i] / s[0] : s[i]);
		if (unlikely(isnan(x[i - 1])))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: malformed aggregate state", fname)));
		if (unlikely(isinf(x[i - 1])))
			float_overflow_error();
	}
	return x;
}

/* bit(dim) with bit i set where element i is positive */
Datum
vecdb_binary_quantize(const float *x, int dim)
{
	VarBit	   *result = palloc0(VARBITTOTALLEN(dim));
	unsigned char *bits = VARBITS(result);

	SET_VARSIZE(result, VARBITTOTALLEN(dim));
	VARBITLEN(result) = dim;
	for (int i = 0; i < dim; i++)
		if (x[i] > 0)
			bits[i / 8] |= (unsigned char) (0x80 >> (i % 8));
	return VarBitPGetDatum(result);
}

/* ---------------- the vector type ---------------- */

/* A zeroed vector of dim elements */
Vector *
InitVector(int dim)
{
	Vector	   *v = palloc0(VECTOR_SIZE(dim));

	SET_VARSIZE(v, VECTOR_SIZE(dim));
	v->dim = dim;
	return v;
}

/* A vector holding a copy of the given floats */
static Vector *
vector_from_floats(const float *x, int dim)
{
	Vector	   *v = InitVector(dim);

	memcpy(v->x, x, sizeof(float) * dim);
	return v;
}

PG_FUNCTION_INFO_V1(vector_in);
Datum
vector_in(PG_FUNCTION_ARGS)
{
	char	   *lit = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	float	   *x = vecdb_parse_elements(lit, "vector", VECTOR_MAX_DIM, &dim);

	vecdb_check_typmod(typmod, dim);
	PG_RETURN_VECTOR_P(vector_from_floats(x, dim));
}

PG_FUNCTION_INFO_V1(vector_out);
Datum
vector_out(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	PG_RETURN_CSTRING(vecdb_format_elements(v->x, v->dim));
}

PG_FUNCTION_INFO_V1(vector_typmod_in);
Datum
vector_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vecdb_parse_typmod(PG_GETARG_ARRAYTYPE_P(0), "vector", VECTOR_MAX_DIM));
}

PG_FUNCTION_INFO_V1(vector_recv);
Datum
vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int16		dim = pq_getmsgint(buf, sizeof(int16));
	int16		unused = pq_getmsgint(buf, sizeof(int16));
	Vector	   *v;

	vecdb_check_dims(dim, VECTOR_MAX_DIM, "vector");
	vecdb_check_typmod(typmod, dim);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("expected unused to be 0, not %d", unused)));

	v = InitVector(dim);
	for (int i = 0; i < dim; i++)
	{
		v->x[i] = pq_getmsgfloat4(buf);
		vecdb_check_element(v->x[i], "vector");
	}
	PG_RETURN_VECTOR_P(v);
}

PG_FUNCTION_INFO_V1(vector_send);
Datum
vector_send(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint(&buf, v->dim, sizeof(int16));
	pq_sendint(&buf, v->unused, sizeof(int16));
	for (int i = 0; i < v->dim; i++)
		pq_sendfloat4(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Cast vector to vector(n): enforce the column's dimensions */
PG_FUNCTION_INFO_V1(vector);
Datum
vector(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	vecdb_check_typmod(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_VECTOR_P(v);
}

PG_FUNCTION_INFO_V1(array_to_vector);
Datum
array_to_vector(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int			dim;
	float	   *x = vecdb_array_elements(array, "vector", VECTOR_MAX_DIM, &dim);

	vecdb_check_typmod(PG_GETARG_INT32(1), dim);
	PG_RETURN_VECTOR_P(vector_from_floats(x, dim));
}

PG_FUNCTION_INFO_V1(vector_to_float4);
Datum
vector_to_float4(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	PG_RETURN_ARRAYTYPE_P(vecdb_float4_array(v->x, v->dim));
}

/* b, once checked to have a's dimensions */
static inline Vector *
same_dims(Vector *a, Vector *b)
{
	vecdb_check_same_dims(a->dim, b->dim);
	return b;
}

/* Fetch two vector arguments of equal dimensions (declarations only) */
#define GET_TWO_VECTORS(a, b) \
	Vector	   *a = PG_GETARG_VECTOR_P(0); \
	Vector	   *b = same_dims(a, PG_GETARG_VECTOR_P(1))

PG_FUNCTION_INFO_V1(l2_distance);
Datum
l2_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8(sqrt((double) vecdb_kernel->l2sq_f32(a->x, b->x, a->dim)));
}

/* Squared L2: orders like l2_distance without the square root (index support) */
PG_FUNCTION_INFO_V1(vector_l2_squared_distance);
Datum
vector_l2_squared_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8((double) vecdb_kernel->l2sq_f32(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(inner_product);
Datum
inner_product(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8((double) vecdb_kernel->dot_f32(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(vector_negative_inner_product);
Datum
vector_negative_inner_product(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8(-(double) vecdb_kernel->dot_f32(a->x, b->x, a->dim));
}

/*
 * Float sums of squares overflow beyond about 1e19 per element and vanish
 * below about 1e-19; then, and only then, the sums are redone in double so
 * that identical vectors stay at distance 0 instead of NaN.
 */
PG_FUNCTION_INFO_V1(cosine_distance);
Datum
cosine_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	CosineSums	s = vecdb_kernel->cosine_f32(a->x, b->x, a->dim);
	double		dot,
				norm_a,
				norm_b,
				similarity;

	if (likely(isfinite(s.dot) && s.norm_a >= FLT_MIN && s.norm_b >= FLT_MIN &&
			   isfinite(s.norm_a) && isfinite(s.norm_b)))
		PG_RETURN_FLOAT8(vecdb_cosine_from_sums(s));

	dot = norm_a = norm_b = 0;
	for (int i = 0; i < a->dim; i++)
	{
		dot += (double) a->x[i] * b->x[i];
		norm_a += (double) a->x[i] * a->x[i];
		norm_b += (double) b->x[i] * b->x[i];
	}
	similarity = dot / (sqrt(norm_a) * sqrt(norm_b));
	if (isnan(similarity))
		PG_RETURN_FLOAT8(get_float8_nan());
	PG_RETURN_FLOAT8(1 - Max(-1.0, Min(1.0, similarity)));
}

PG_FUNCTION_INFO_V1(l1_distance);
Datum
l1_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8((double) vecdb_kernel->l1_f32(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(vector_dims);
Datum
vector_dims(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_VECTOR_P(0)->dim);
}

PG_FUNCTION_INFO_V1(vector_norm);
Datum
vector_norm(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	double		norm = 0;

	for (int i = 0; i < v->dim; i++)
		norm += (double) v->x[i] * (double) v->x[i];
	PG_RETURN_FLOAT8(sqrt(norm));
}

PG_FUNCTION_INFO_V1(l2_normalize);
Datum
l2_normalize(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Vector	   *result = InitVector(v->dim);
	double		norm = 0;

	for (int i = 0; i < v->dim; i++)
		norm += (double) v->x[i] * (double) v->x[i];
	norm = sqrt(norm);
	/* the zero vector stays zero: it has no direction to keep */
	if (norm > 0)
		for (int i = 0; i < v->dim; i++)
			result->x[i] = (float) (v->x[i] / norm);
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(binary_quantize);
Datum
binary_quantize(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	PG_RETURN_DATUM(vecdb_binary_quantize(v->x, v->dim));
}

PG_FUNCTION_INFO_V1(subvector);
Datum
subvector(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	int			first,
				len;

	vecdb_subvector_range(v->dim, PG_GETARG_INT32(1), PG_GETARG_INT32(2), "vector", &first, &len);
	PG_RETURN_VECTOR_P(vector_from_floats(v->x + first, len));
}

PG_FUNCTION_INFO_V1(vector_add);
Datum
vector_add(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	Vector	   *r = InitVector(a->dim);

	for (int i = 0; i < a->dim; i++)
	{
		r->x[i] = a->x[i] + b->x[i];
		if (unlikely(isinf(r->x[i])))
			float_overflow_error();
	}
	PG_RETURN_VECTOR_P(r);
}

PG_FUNCTION_INFO_V1(vector_sub);
Datum
vector_sub(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	Vector	   *r = InitVector(a->dim);

	for (int i = 0; i < a->dim; i++)
	{
		r->x[i] = a->x[i] - b->x[i];
		if (unlikely(isinf(r->x[i])))
			float_overflow_error();
	}
	PG_RETURN_VECTOR_P(r);
}

PG_FUNCTION_INFO_V1(vector_mul);
Datum
vector_mul(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	Vector	   *r = InitVector(a->dim);

	for (int i = 0; i < a->dim; i++)
	{
		r->x[i] = a->x[i] * b->x[i];
		if (unlikely(isinf(r->x[i])))
			float_overflow_error();
		if (unlikely(r->x[i] == 0 && a->x[i] != 0 && b->x[i] != 0))
			float_underflow_error();
	}
	PG_RETURN_VECTOR_P(r);
}

PG_FUNCTION_INFO_V1(vector_concat);
Datum
vector_concat(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *r;

	vecdb_check_dims(a->dim + b->dim, VECTOR_MAX_DIM, "vector");
	r = InitVector(a->dim + b->dim);
	memcpy(r->x, a->x, sizeof(float) * a->dim);
	memcpy(r->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(r);
}

/* Element by element, then the shorter vector first: a total order for btree */
static int
vector_cmp_internal(Vector *a, Vector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

#define VECTOR_COMPARISON(fname, op) \
PG_FUNCTION_INFO_V1(fname); \
Datum \
fname(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_BOOL(vector_cmp_internal(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)) op 0); \
}

VECTOR_COMPARISON(vector_lt, <)
VECTOR_COMPARISON(vector_le, <=)
VECTOR_COMPARISON(vector_eq, ==)
VECTOR_COMPARISON(vector_ne, !=)
VECTOR_COMPARISON(vector_ge, >=)
VECTOR_COMPARISON(vector_gt, >)

PG_FUNCTION_INFO_V1(vector_cmp);
Datum
vector_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vector_cmp_internal(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)));
}

PG_FUNCTION_INFO_V1(vector_accum);
Datum
vector_accum(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(1);

	PG_RETURN_ARRAYTYPE_P(vecdb_accum(PG_GETARG_ARRAYTYPE_P(0), v->x, v->dim,
									  fcinfo, "vector_accum"));
}

PG_FUNCTION_INFO_V1(vector_combine);
Datum
vector_combine(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(vecdb_combine(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_ARRAYTYPE_P(1),
										fcinfo, "vector_combine"));
}

PG_FUNCTION_INFO_V1(vector_avg);
Datum
vector_avg(PG_FUNCTION_ARGS)
{
	int			dim;
	float	   *x = vecdb_state_result(PG_GETARG_ARRAYTYPE_P(0), "vector_avg", true, &dim);

	if (x == NULL)
		PG_RETURN_NULL();
	PG_RETURN_VECTOR_P(vector_from_floats(x, dim));
}

PG_FUNCTION_INFO_V1(vector_sum);
Datum
vector_sum(PG_FUNCTION_ARGS)
{
	int			dim;
	float	   *x = vecdb_state_result(PG_GETARG_ARRAYTYPE_P(0), "vector_sum", false, &dim);

	if (x == NULL)
		PG_RETURN_NULL();
	PG_RETURN_VECTOR_P(vector_from_floats(x, dim));
}
