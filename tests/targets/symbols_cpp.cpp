// C++ fixture for the symbolizer tests: a template method in a namespace.
#include <chrono>
#include <cstdlib>

namespace sampletop_test {
template <typename T> struct Box {
	T v;
	__attribute__((noinline)) T spin(T n)
	{
		for (T i = 0; i < n; i++)
			v = v * 31 + i;
		return v;
	}
};
} // namespace sampletop_test

volatile long cpp_sink;

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5;
	auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(secs);
	sampletop_test::Box<long> b{ 1 };

	while (std::chrono::steady_clock::now() < end)
		cpp_sink = b.spin(100000);
	return 0;
}
