// 3. 32-bit FNV-1a over the first 16 bytes of the frame.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int fnv16(struct __sk_buff *skb)
{
	__u8 *p = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	if (p + 16 > data_end)
		return 0;
	__u32 h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

char LICENSE[] SEC("license") = "GPL";
