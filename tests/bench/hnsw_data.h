/*
 * hnsw_data.h - what the hnsw benchmark's helpers (hnsw_truth.c,
 * hnsw_sql_bench.c, hnswlib_bench.cpp) share: loading an uncompressed IDX
 * image file (MNIST's format) into memory, and the ground-truth file.
 *
 * Ground-truth file (text, written by hnsw_truth), one line per query:
 *
 *     QUERY_ID D10 N ID1 ID2 ... IDN
 *
 * QUERY_ID counts from 1 (the test image's position), D10 is the squared L2
 * distance of the 10th nearest training image, and ID1..IDN (N >= 10) are
 * every training image whose squared distance is <= D10, nearest first
 * (ties by id).  Training image i (from 0) is row id i + 1.  The pixels are
 * integers, so the distances are exact and ties are real: a result counts
 * as a true neighbour if it is in that list, and recall@10 is the number of
 * distinct true neighbours among the (at most) 10 results, divided by 10.
 *
 * Header-only, C and C++.
 */
#ifndef VECDB_HNSW_DATA_H
#define VECDB_HNSW_DATA_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRUTH_K 10

typedef struct IdxImages
{
	uint32_t	count;			/* images */
	uint32_t	dim;			/* pixels per image */
	unsigned char *pix;			/* count * dim bytes */
} IdxImages;

static inline void
idx_die(const char *what, const char *path)
{
	fprintf(stderr, "%s: %s\n", path, what);
	exit(1);
}

/* the first LIMIT images (all when LIMIT is 0) of an uncompressed idx3-ubyte file */
static inline IdxImages
idx_load(const char *path, uint32_t limit)
{
	IdxImages	im;
	unsigned char h[16];
	FILE	   *f = fopen(path, "rb");
	size_t		bytes;

	if (f == NULL)
		idx_die("cannot open", path);
	if (fread(h, 1, 16, f) != 16)
		idx_die("short IDX header", path);
	if (h[0] != 0 || h[1] != 0 || h[2] != 8 || h[3] != 3)
		idx_die("not an idx3-ubyte file", path);
	im.count = ((uint32_t) h[4] << 24) | ((uint32_t) h[5] << 16) | ((uint32_t) h[6] << 8) | h[7];
	im.dim = (((uint32_t) h[8] << 24) | ((uint32_t) h[9] << 16) | ((uint32_t) h[10] << 8) | h[11]) *
		(((uint32_t) h[12] << 24) | ((uint32_t) h[13] << 16) | ((uint32_t) h[14] << 8) | h[15]);
	if (im.dim == 0 || im.dim > 16000)
		idx_die("images do not fit a vector", path);
	if (limit > 0 && limit < im.count)
		im.count = limit;
	bytes = (size_t) im.count * im.dim;
	im.pix = (unsigned char *) malloc(bytes);
	if (im.pix == NULL)
		idx_die("out of memory", path);
	if (fread(im.pix, 1, bytes, f) != bytes)
		idx_die("file ends early", path);
	fclose(f);
	return im;
}

typedef struct Truth
{
	uint32_t	queries;
	uint32_t   *n;				/* true neighbours per query (>= 10) */
	uint32_t  **ids;			/* their row ids, nearest first */
} Truth;

/* the first QUERIES lines of a ground-truth file */
static inline Truth
truth_load(const char *path, uint32_t queries)
{
	Truth		t;
	FILE	   *f = fopen(path, "r");

	if (f == NULL)
		idx_die("cannot open", path);
	t.queries = queries;
	t.n = (uint32_t *) calloc(queries, sizeof(uint32_t));
	t.ids = (uint32_t **) calloc(queries, sizeof(uint32_t *));
	if (t.n == NULL || t.ids == NULL)
		idx_die("out of memory", path);
	for (uint32_t q = 0; q < queries; q++)
	{
		unsigned	qid,
					n;
		unsigned long long d10;

		if (fscanf(f, "%u %llu %u", &qid, &d10, &n) != 3 || qid != q + 1 || n < TRUTH_K)
			idx_die("malformed ground-truth line", path);
		t.n[q] = n;
		t.ids[q] = (uint32_t *) malloc(n * sizeof(uint32_t));
		if (t.ids[q] == NULL)
			idx_die("out of memory", path);
		for (uint32_t i = 0; i < n; i++)
			if (fscanf(f, "%u", &t.ids[q][i]) != 1)
				idx_die("malformed ground-truth line", path);
	}
	fclose(f);
	return t;
}

/* true neighbours among the NRES result ids of query Q (duplicates count once) */
static inline uint32_t
truth_hits(const Truth *t, uint32_t q, const uint32_t *res, uint32_t nres)
{
	uint32_t	hits = 0;

	for (uint32_t r = 0; r < nres; r++)
	{
		int			dup = 0;

		for (uint32_t s = 0; s < r; s++)
			dup |= res[s] == res[r];
		if (dup)
			continue;
		for (uint32_t i = 0; i < t->n[q]; i++)
			if (t->ids[q][i] == res[r])
			{
				hits++;
				break;
			}
	}
	return hits > TRUTH_K ? TRUTH_K : hits;
}

#endif
