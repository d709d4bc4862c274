/* Times the live view on a synthetic profile whose tree has 111,111 nodes
 * (ten children per node, six levels, 100,000 distinct stacks): as it opens
 * and with every node expanded. Prints "tui.key: value" lines. */
#include "model/profile.h"
#include "model/tree.h"
#include "tui/screen.h"
#include "base/util.h"

#include <locale.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	struct profile *p = profile_new();
	uint32_t th = profile_thread(p, 1, 1, "bench", "bench");
	frame_id_t names[6][10], stack[6];
	int frames = argc > 1 ? atoi(argv[1]) : 20;
	double ms[3];
	size_t rows = 0, nodes;
	struct view_opts vo = VIEW_OPTS_INIT;
	struct tree *t;
	char buf[96];

	setlocale(LC_ALL, "");
	p->meta.freq_hz = 1000;
	for (int l = 0; l < 6; l++) {
		for (int d = 0; d < 10; d++) {
			struct frame f = { .name = buf, .module = "/usr/lib/libbench.so", .kind = FRAME_NATIVE };

			snprintf(buf, sizeof(buf), "bench::Level%d::function_number_%d<int>", l, d);
			names[l][d] = profile_frame(p, &f);
		}
	}
	srand(1);
	for (uint32_t i = 0; i < 100000; i++) {
		uint32_t v = i;

		stack[0] = names[0][0];
		for (int l = 1; l < 6; l++, v /= 10)
			stack[l] = names[l][v % 10];
		profile_add_sample(p, th, stack, 6, 1 + rand() % 100);
	}
	t = tree_build(p, &vo);
	nodes = t->nr - 1;
	tree_free(t);
	/* As it opens, then every node expanded: with --min-percent's default
	 * (0.5: small nodes summed up) and with 0 (every node a row). */
	for (int run = 0; run < 3; run++) {
		static const char *const keys[] = { "hot_path", "all_expanded", "all_expanded_min0" };
		const char *k = keys[run];

		if (tui_bench(p, 200, 60, run > 0, run == 2 ? 0 : 0.5, frames, ms, &rows)) {
			fprintf(stderr, "tui_render: cannot open a terminal on /dev/null\n");
			return 1;
		}
		printf("tui.%s_rows: %zu\n", k, rows);
		printf("tui.%s_refresh_ms: %.2f\n", k, ms[0]);
		printf("tui.%s_rows_ms: %.2f\n", k, ms[1]);
		printf("tui.%s_draw_ms: %.2f\n", k, ms[2]);
		printf("tui.%s_frame_ms: %.2f\n", k, ms[1] + ms[2]);
	}
	printf("tui.tree_nodes: %zu\n", nodes);
	profile_free(p);
	return 0;
}
