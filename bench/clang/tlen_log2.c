// 26. log2 histogram of the IPv4 tot_len field into a 16-slot array map
// (IPv4 frames only); returns the slot.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} hist SEC(".maps");

// floor(log2(v)) for v > 0, branchless (the usual shift cascade)
static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, s;
	r = (v > 0xffff) << 4; v >>= r;
	s = (v > 0xff) << 3; v >>= s; r |= s;
	s = (v > 0xf) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	return r | (v >> 1);
}

SEC("tc")
int tlen_log2(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	__u32 slot = log2_u32(bpf_ntohs(ip->tot_len));
	__u32 *v = bpf_map_lookup_elem(&hist, &slot);
	if (v)
		__sync_fetch_and_add(v, 1);
	return slot;
}

char LICENSE[] SEC("license") = "GPL";
