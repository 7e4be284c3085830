/* The uprobe specs' target (spec/attach_spec.lua): a function returning its
 * argument plus one; a function under a C++ name (kt::StashDB::accept(char
 * const*)) called as often; and a USDT probe lbpf:tick with the loop counter
 * in eax, guarded by its semaphore (the notes written the way <sys/sdt.h>
 * writes them).  The spec builds it with cc; where there is no cc (the 6.1
 * guest of tools/vm) it runs the copy tools/vm/build.sh built. */
#include <stdlib.h>
__attribute__((noinline)) int bump(int x) { __asm__ volatile(""); return x + 1; }
int accept_key(const char *key) __asm__("_ZN2kt7StashDB6acceptEPKc");
__attribute__((noinline)) int accept_key(const char *key) { __asm__ volatile(""); return key[0]; }
unsigned short lbpf_tick_semaphore __attribute__((section(".probes"), used));
#define LBPF_TICK(arg) __asm__ __volatile__ ( \
	"990: nop\n" \
	".pushsection .note.stapsdt,\"?\",\"note\"\n" \
	".balign 4\n" \
	".4byte 992f-991f, 994f-993f, 3\n" \
	"991: .asciz \"stapsdt\"\n" \
	"992: .balign 4\n" \
	"993: .8byte 990b\n" \
	".8byte _.stapsdt.base\n" \
	".8byte lbpf_tick_semaphore\n" \
	".asciz \"lbpf\"\n" \
	".asciz \"tick\"\n" \
	".asciz \"-4@%0\"\n" \
	"994: .balign 4\n" \
	".popsection\n" \
	".ifndef _.stapsdt.base\n" \
	".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n" \
	".weak _.stapsdt.base\n" \
	".hidden _.stapsdt.base\n" \
	"_.stapsdt.base: .space 1\n" \
	".size _.stapsdt.base, 1\n" \
	".popsection\n" \
	".endif\n" :: "a"(arg))
int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 1, s = 0, t = 0;
	for (int i = 0; i < n; i++) s = bump(s);
	for (int i = 0; i < n; i++) t += accept_key("k");
	for (int i = 1; i <= n; i++)
		if (lbpf_tick_semaphore) LBPF_TICK(i);
	return s == n && t == 'k' * n ? 0 : 1;
}
