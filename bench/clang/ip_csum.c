// 28. The ones' complement checksum of the 20-byte IPv4 header (0 when
// its checksum field is right): ten 16-bit words summed in a constant-bound loop.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int ip_csum(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return 0;
	// summed in network order: the ones' complement sum commutes with byte swaps
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum += sum >> 16;
	return bpf_ntohs(~sum & 0xffff);
}

char LICENSE[] SEC("license") = "GPL";
