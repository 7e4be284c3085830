// 19. Packets per IP protocol in a hash map (64-bit counts), the first of
// a protocol inserted; returns the protocol.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tc")
int proto_hash(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return 0;
	__u32 proto = ip->protocol;
	__u64 *v = bpf_map_lookup_elem(&counts, &proto);
	if (v) {
		__sync_fetch_and_add(v, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&counts, &proto, &one, BPF_ANY);
	}
	return proto;
}

char LICENSE[] SEC("license") = "GPL";
