/*
** The C side of the map benchmark in bench/run.lua: the same lookups and
** updates the Lua side makes, as plain C loops over libbpf.  Built at bench
** time into a shared object; each function is one FFI call that runs the
** whole loop and returns how many seconds it took.
*/
#include <stdint.h>
#include <time.h>
#include <bpf/bpf.h>

#define EXPORT __attribute__((visibility("default")))

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* n lookups of keys 0 .. nkeys-1 in turn; *sum adds up the values found. */
EXPORT double mapops_lookup(int fd, long n, uint32_t nkeys, uint64_t *sum)
{
	uint64_t value, total = 0;
	double t0 = now();
	for (long i = 0; i < n; i++) {
		uint32_t key = (uint32_t)(i % nkeys);
		if (bpf_map_lookup_elem(fd, &key, &value) == 0)
			total += value;
	}
	*sum = total;
	return now() - t0;
}

/* n updates of keys 0 .. nkeys-1 in turn, each to its loop index. */
EXPORT double mapops_update(int fd, long n, uint32_t nkeys)
{
	double t0 = now();
	for (long i = 0; i < n; i++) {
		uint32_t key = (uint32_t)(i % nkeys);
		uint64_t value = (uint64_t)i;
		if (bpf_map_update_elem(fd, &key, &value, BPF_ANY) != 0)
			return -1;
	}
	return now() - t0;
}
