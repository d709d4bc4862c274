/* Times the live view on a synthetic profile whose tree has ~111,000 nodes
 * (ten children per node, six levels), every node expanded. Prints
 * "name value unit" lines for bench/tui.sh. */
#include "profile.h"
#include "tui/tui.h"
#include "util.h"

#include <locale.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	struct profile *p = profile_new();
	uint32_t th = profile_thread(p, 1, 1, "bench", "bench");
	frame_id_t names[6][10], stack[6];
	int frames = argc > 1 ? atoi(argv[1]) : 20;
	double ms[3];
	size_t rows = 0;
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
	if (tui_bench(p, 200, 60, frames, ms, &rows)) {
		fprintf(stderr, "tui_render: cannot open a terminal on /dev/null\n");
		return 1;
	}
	printf("tree_nodes_shown %zu rows\n", rows);
	printf("rebuild %.2f ms\n", ms[0]);
	printf("rows %.2f ms\n", ms[1]);
	printf("draw %.2f ms\n", ms[2]);
	printf("frame_total %.2f ms\n", ms[0] + ms[1] + ms[2]);
	profile_free(p);
	return 0;
}
