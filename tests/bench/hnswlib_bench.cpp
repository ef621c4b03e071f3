/*
 * hnswlib_bench.cpp - the ceiling for the hnsw benchmark: hnswlib (Debian's
 * libhnswlib-dev, header only) in process, single thread, on the same data,
 * parameters and ground truth as the SQL side.
 *
 *   hnswlib_bench BASE_IDX QUERY_IDX TRUTH QUERIES PASSES M EF_CONSTRUCTION EF,EF,... SAVE_PATH
 *   hnswlib_bench BASE_IDX QUERY_IDX TRUTH QUERIES PASSES load EF,EF,... SAVE_PATH
 *
 * The second form loads the index the first one saved and only queries it
 * (the benchmark's query rounds; the benchmark builds with an empty EF list,
 * which skips the queries).  The first builds an L2 index of every image of BASE_IDX (float32, raw pixel values
 * 0..255, label = row id = position + 1) by adding the points one by one in
 * order, saves it to SAVE_PATH (its size is the index's size: hnswlib keeps
 * in memory exactly what it saves, vectors included), then, per ef, sets ef,
 * runs the QUERIES queries once as a warm-up and PASSES times timed,
 * searchKnn(q, 10): QPS is the median pass's, latencies are over all timed
 * queries, recall is the last pass's.  Prints CSV rows "metric,ef,value,unit"
 * on standard output.
 */
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <hnswlib/hnswlib.h>

#include "hnsw_data.h"

static double
now_s()
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static std::vector<float>
as_float(const IdxImages &im)
{
	std::vector<float> v((size_t) im.count * im.dim);

	for (size_t i = 0; i < v.size(); i++)
		v[i] = (float) im.pix[i];
	return v;
}

int
main(int argc, char **argv)
{
	bool		load = argc == 9 && strcmp(argv[6], "load") == 0;

	if ((argc != 10 && !load) || atoi(argv[4]) <= 0 || atoi(argv[5]) <= 0 ||
		(!load && (atoi(argv[6]) <= 0 || atoi(argv[7]) <= 0)))
	{
		fprintf(stderr, "usage: hnswlib_bench BASE_IDX QUERY_IDX TRUTH QUERIES PASSES M EF_CONSTRUCTION EF,EF,... SAVE_PATH\n"
				"       hnswlib_bench BASE_IDX QUERY_IDX TRUTH QUERIES PASSES load EF,EF,... SAVE_PATH\n");
		return 2;
	}
	uint32_t	nq = (uint32_t) atoi(argv[4]);
	int			passes = atoi(argv[5]);
	size_t		m = load ? 0 : (size_t) atoi(argv[6]),
				efc = load ? 0 : (size_t) atoi(argv[7]);
	const char *ef_list = argv[load ? 7 : 8],
			   *save_path = argv[load ? 8 : 9];
	std::vector<size_t> efs;
	{
		std::stringstream ss(ef_list);
		std::string tok;

		while (std::getline(ss, tok, ','))
			if (!tok.empty())
				efs.push_back((size_t) atoi(tok.c_str()));
	}
	IdxImages	base = idx_load(argv[1], 0),
				query = idx_load(argv[2], nq);
	Truth		truth = truth_load(argv[3], nq);

	if (query.count < nq || query.dim != base.dim)
		idx_die("does not match the base file or has too few images", argv[2]);

	std::vector<float> bv = as_float(base),
				qv = as_float(query);
	hnswlib::L2Space space(base.dim);

	std::unique_ptr<hnswlib::HierarchicalNSW<float>> built;

	if (load)
	{
		try
		{
			built.reset(new hnswlib::HierarchicalNSW<float>(&space, save_path, false, base.count));
		}
		catch (const std::exception &e)
		{
			idx_die(e.what(), save_path);
		}
	}
	else
	{
		/* build: one thread, points in row order; the default level seed (100) */
		double		t0 = now_s();

		built.reset(new hnswlib::HierarchicalNSW<float>(&space, base.count, m, efc));
		for (uint32_t i = 0; i < base.count; i++)
			built->addPoint(&bv[(size_t) i * base.dim], (hnswlib::labeltype) i + 1);
		double		build = now_s() - t0;

		built->saveIndex(save_path);
		struct stat st;

		if (stat(save_path, &st) != 0)
			idx_die("cannot stat the saved index", save_path);
		printf("build_s,,%.3f,s\n", build);
		printf("index_bytes,,%lld,bytes\n", (long long) st.st_size);
		fflush(stdout);
	}
	hnswlib::HierarchicalNSW<float> &index = *built;

	std::vector<double> lat((size_t) nq * passes),
				pass_s(passes);

	for (size_t ef : efs)
	{
		uint64_t	hits = 0;

		index.setEf(ef);
		for (int pass = 0; pass <= passes; pass++)	/* 0: warm-up, then timed */
		{
			double		start = now_s();

			hits = 0;
			for (uint32_t q = 0; q < nq; q++)
			{
				double		qt = now_s();
				auto		res = index.searchKnn(&qv[(size_t) q * query.dim], TRUTH_K);
				uint32_t	ids[TRUTH_K];
				uint32_t	n = 0;

				if (pass > 0)
					lat[(size_t) (pass - 1) * nq + q] = now_s() - qt;
				while (!res.empty() && n < TRUTH_K)
				{
					ids[n++] = (uint32_t) res.top().second;
					res.pop();
				}
				hits += truth_hits(&truth, q, ids, n);
			}
			if (pass > 0)
				pass_s[pass - 1] = now_s() - start;
		}
		std::sort(lat.begin(), lat.end());
		std::sort(pass_s.begin(), pass_s.end());
		printf("recall_at_10,%zu,%.4f,fraction\n", ef, (double) hits / ((double) nq * TRUTH_K));
		printf("qps,%zu,%.1f,queries/s\n", ef, nq / pass_s[passes / 2]);
		printf("latency_ms_median,%zu,%.4f,ms\n", ef, 1e3 * lat[lat.size() / 2]);
		printf("latency_ms_p99,%zu,%.4f,ms\n", ef, 1e3 * lat[std::min(lat.size() - 1, (size_t) (lat.size() * 0.99))]);
		fflush(stdout);
	}
	return 0;
}
