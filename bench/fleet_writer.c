/* The fleet, simulated: one process writes as NR_HOSTS labelled hosts, one
 * hour of 10 s windows each, into a ClickHouse server, through the agent's
 * own row writer (store/ch_write). Every window replays a recorded profile
 * (a saved .json) with per-host and per-window variation. Prints the ingest
 * figures, and the size of the same windows as gzip'd pprof files (one per
 * host and window, as a pprof-based agent would upload them). Built and run
 * by bench/fleet.sh.
 * Usage: fleet_writer PROFILE.json clickhouse://HOST:PORT/DB HOSTS WINDOWS */
#include "report/report.h"
#include "store/ch_http.h"
#include "store/ch_write.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW_MS 10000
/* Samples of a window of one host: 49 Hz (the agent's default) on 2 CPUs
 * half busy for 10 s. */
#define WINDOW_SAMPLES 490
/* pprof sizes are measured on every PPROF_EVERY-th window of each host and
 * scaled up: rendering all of them would take longer than the writing. */
#define PPROF_EVERY 10

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Four services, by pid: the query filters on one of them. */
static const char *service_of(uint32_t pid, void *ctx)
{
	static const char *const svc[] = { "app.service", "app.service", "db.service",
					   "cron.service" };

	return svc[pid % 4];
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The counts of one host's window: the recording's shares, each stack
 * weighted per host (0.5 to 1.5, stable) and drawn anew per window. */
static void fill_window(struct profile *p, const uint64_t *base, uint64_t base_total, int host)
{
	size_t n = p->nr_samples;

	profile_reset_counts(p);
	for (size_t i = 0; i < n; i++) {
		uint64_t hw = (i * 2654435761u + host * 40503u) % 101 + 50;	/* percent */
		double want = (double)base[i] * WINDOW_SAMPLES / base_total * hw / 100.0;
		uint64_t c = (uint64_t)want;

		/* The fraction drawn at random: a window holds whole samples. */
		if ((double)(next() % 1000) / 1000.0 < want - c)
			c++;
		if (c)
			profile_add(p, p->samples[i].stack, p->samples[i].thread, c);
	}
}

static int insert(struct ch_conn *c, const char *db, enum ch_table t, struct strbuf *rows)
{
	char sql[200], err[600];

	if (!rows->len)
		return 0;
	snprintf(sql, sizeof(sql), "INSERT INTO %s.%s FORMAT JSONEachRow", db, ch_table_names[t]);
	if (ch_exec(c, sql, rows->buf, rows->len, NULL, err, sizeof(err))) {
		fprintf(stderr, "fleet_writer: %s\n", err);
		return -1;
	}
	strbuf_reset(rows);
	return 0;
}

int main(int argc, char **argv)
{
	struct report_opts ro = { .view = VIEW_OPTS_INIT };
	struct strbuf rows[CH_T_NR] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };
	const char *labels[] = { "env=bench" };
	struct profile *p;
	struct ch_url u;
	struct ch_conn *c;
	struct ch_writer **w;
	uint64_t counters[PC_NR], *base, base_total = 0, nrows[CH_T_NR] = { 0 }, bytes = 0, pprof_bytes = 0;
	double t_build = 0, t_send = 0, t0;
	char err[600], host[32];
	int hosts, windows, pprof_windows = 0;
	time_t start;

	if (argc != 5) {
		fprintf(stderr, "usage: fleet_writer PROFILE.json URL HOSTS WINDOWS\n");
		return 2;
	}
	hosts = atoi(argv[3]);
	windows = atoi(argv[4]);
	if (store_load_file(argv[1], &p, err, sizeof(err)) || ch_url_parse(argv[2], &u, err, sizeof(err))) {
		fprintf(stderr, "fleet_writer: %s\n", err);
		return 1;
	}
	c = ch_open(&u, NULL, 120000);
	base = malloc(p->nr_samples * sizeof(*base));
	for (size_t i = 0; i < p->nr_samples; i++)
		base_total += base[i] = p->samples[i].count;
	/* Each window's counters: the recording's, scaled to a window, as an
	 * agent's window row carries them. */
	for (int i = 0; i < PC_NR; i++)
		counters[i] = base_total ? p->meta.counters[i] * WINDOW_SAMPLES / base_total : 0;
	w = calloc(hosts, sizeof(*w));
	for (int h = 0; h < hosts; h++)
		w[h] = ch_writer_new();
	start = time(NULL) - (time_t)windows * WINDOW_MS / 1000;
	for (int win = 0; win < windows; win++) {
		t0 = now_s();
		for (int h = 0; h < hosts; h++) {
			struct ch_window cw = {
				.start_ns = (uint64_t)(start + (time_t)win * WINDOW_MS / 1000) * 1000000000ull,
				.window_ms = WINDOW_MS,
				.seq = win + 1,
				.agent_start_s = start,
				.host = host,
				.labels = labels,
				.nr_labels = 1,
				.counters = counters,
				.service = service_of,
			};
			struct ch_batch b;

			snprintf(host, sizeof(host), "host-%03d", h);
			fill_window(p, base, base_total, h);
			ch_write_window(w[h], p, &cw, &b);
			for (int t = 0; t < CH_T_NR; t++) {
				strbuf_add(&rows[t], b.data + ch_batch_offset(&b, t), b.len[t]);
				nrows[t] += b.rows[t];
			}
			bytes += ch_batch_size(&b);
			ch_batch_release(&b);
			if (win % PPROF_EVERY == 0) {
				char *buf = NULL;
				size_t len = 0;
				FILE *out = open_memstream(&buf, &len);

				p->meta.duration_ns = WINDOW_MS * 1000000ull;
				report_write(p, FMT_PPROF, &ro, out);
				fclose(out);
				free(buf);
				pprof_bytes += len;
				pprof_windows++;
			}
		}
		t_build += now_s() - t0;
		/* One insert per table per window of the whole fleet, as a
		 * collector would batch them. */
		t0 = now_s();
		for (int t = 0; t < CH_T_NR; t++)
			if (insert(c, u.db, t, &rows[t]))
				return 1;
		t_send += now_s() - t0;
	}
	printf("fleet.hosts: %d\n", hosts);
	printf("fleet.windows_per_host: %d\n", windows);
	printf("fleet.recorded_stacks: %zu\n", p->nr_stacks);
	printf("fleet.rows_samples: %llu\n", (unsigned long long)nrows[CH_T_SAMPLES]);
	printf("fleet.rows_stacks: %llu\n", (unsigned long long)nrows[CH_T_STACKS]);
	printf("fleet.rows_windows: %llu\n", (unsigned long long)nrows[CH_T_WINDOWS]);
	printf("fleet.json_bytes_sent: %llu\n", (unsigned long long)bytes);
	printf("fleet.build_s: %.2f\n", t_build);
	printf("fleet.insert_s: %.2f\n", t_send);
	printf("fleet.ingest_rows_per_s: %.0f\n",
	       (nrows[0] + nrows[1] + nrows[2]) / (t_send > 0 ? t_send : 1));
	printf("fleet.ingest_host_windows_per_s: %.0f\n",
	       (double)hosts * windows / (t_send > 0 ? t_send : 1));
	printf("fleet.pprof_gz_bytes_per_window: %.0f\n", (double)pprof_bytes / pprof_windows);
	printf("fleet.pprof_gz_bytes_per_host_hour: %.0f\n",
	       (double)pprof_bytes / pprof_windows * 3600000.0 / WINDOW_MS);
	for (int h = 0; h < hosts; h++)
		ch_writer_free(w[h]);
	free(w);
	free(base);
	for (int t = 0; t < CH_T_NR; t++)
		strbuf_release(&rows[t]);
	ch_close(c);
	ch_url_free(&u);
	profile_free(p);
	return 0;
}
