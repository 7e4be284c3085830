/* The profile spec's target (spec/perf_spec.lua): main calls
 * lbpf_profile_outer, which calls lbpf_profile_busy, a loop that spins in
 * user code and, every round, reads 1 MiB of /dev/zero with a read system
 * call made right there (no libc frame between it and the kernel), for the
 * seconds its argument says, then exits.  Built with frame pointers, so
 * that the kernel can walk its user stack.  The spec builds it with cc;
 * where there is no cc (the 6.1 guest of tools/vm) it runs the copy
 * tools/vm/build.sh built. */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

__attribute__((noinline)) long lbpf_profile_busy(int fd, double seconds)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	volatile unsigned long spin = 0;
	long got = 0, rounds = 0;
	for (;;) {
		for (int i = 0; i < 20000; i++)
			spin += (unsigned long)i;
#if defined(__x86_64__)
		long ret;
		__asm__ volatile("syscall"
				 : "=a"(ret)
				 : "0"(0L /* read */), "D"((long)fd), "S"(buf), "d"(sizeof buf)
				 : "rcx", "r11", "memory");
#else
		long ret = read(fd, buf, sizeof buf);
#endif
		got += ret;
		if (++rounds % 16)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 >= seconds)
			break;
	}
	return got + (long)(spin & 1);
}

__attribute__((noinline)) long lbpf_profile_outer(int fd, double seconds)
{
	long got = lbpf_profile_busy(fd, seconds);
	__asm__ volatile("");
	return got;
}

int main(int argc, char **argv)
{
	int fd = open("/dev/zero", O_RDONLY);
	if (fd < 0)
		return 2;
	return lbpf_profile_outer(fd, argc > 1 ? atof(argv[1]) : 1.0) > 0 ? 0 : 1;
}
