// --scope with C++ names: two overloads of app::Server::handle, called in
// turn for SECONDS seconds (test_scope_bpf.sh).
#include <cstdlib>
#include <ctime>

namespace app {
struct Server {
	volatile unsigned long sink = 0;
	__attribute__((noinline)) void handle(int n);
	__attribute__((noinline)) void handle(const char *s);
};

void Server::handle(int n)
{
	for (int i = 0; i < n; i++)
		sink += i;
}

void Server::handle(const char *s)
{
	while (*s)
		sink += *s++;
}
} // namespace app

int main(int argc, char **argv)
{
	app::Server srv;
	time_t end = time(nullptr) + (argc > 1 ? atoi(argv[1]) : 5);

	while (time(nullptr) < end) {
		srv.handle(200000);
		srv.handle("a request");
	}
	return 0;
}
