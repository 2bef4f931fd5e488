#!/usr/bin/env python3
# Writes the seed corpus of the fuzz targets into corpus/<target>/: a few
# small well-formed inputs (and some near misses) so that the fuzzers start
# from records that pass the parsers' first checks.  Deterministic; run it
# again after changing the input formats documented in each fuzz_*.c.
import os
import struct

CAP = 0x20000  # WINTUN_RING_MIN_CAPACITY, the rings the targets build
HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(bytes(data))


def csum(b):
    if len(b) % 2:
        b = b + b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto, l4, ident=0x1234):
    h = bytearray(struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), ident, 0x4000, 64, proto,
                              0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])))
    struct.pack_into('!H', h, 10, csum(bytes(h)))
    return bytes(h) + l4


def ipv6(proto, l4):
    return struct.pack('!IHBB16s16s', 0x60000000, len(l4), proto, 64,
                       bytes.fromhex('fd00' + '00' * 13 + '01'),
                       bytes.fromhex('fd00' + '00' * 13 + '02')) + l4


def tcp(seq, flags, payload, thl=20):
    opts = b'\x01' * (thl - 20)
    return struct.pack('!HHIIBBHHH', 12345, 80, seq, 1, (thl // 4) << 4, flags, 0xFFFF, 0,
                       0) + opts + payload


def udp(payload):
    return struct.pack('!HHHH', 12345, 53, 8 + len(payload), 0) + payload


def vnet(flags=0, gso=0, hdr_len=0, mss=0, cstart=0, coff=0):
    return struct.pack('<BBHHHH', flags, gso, hdr_len, mss, cstart, coff)


def record(data, flags=0):
    r = struct.pack('<I', len(data) | flags) + data
    return r + b'\0' * (-len(r) % 4)


def ring_input(head, records, tail=None, tail2=None, last=0):
    body = b''.join(records)
    if tail is None:
        tail = (head + len(body)) % CAP
    if tail2 is None:
        tail2 = tail
    return struct.pack('<III', head, tail, tail2) + bytes([last]) + body


payload = bytes(range(256)) * 4

# --- wt_gso_split: the record is the input -------------------------------
write('gso', 'tcp4-super', vnet(1, 1, 40, 100, 20, 16) + ipv4(6, tcp(1000, 0x18, payload[:350])))
write('gso', 'tcp6-super', vnet(1, 4, 60, 200, 40, 16) + ipv6(6, tcp(7, 0x10, payload[:500], 32)))
write('gso', 'udp4-l4', vnet(1, 5, 28, 300, 20, 6) + ipv4(17, udp(payload[:700])))
write('gso', 'none-csum', vnet(1, 0, 0, 0, 20, 16) + ipv4(6, tcp(1, 0x18, payload[:40])))
write('gso', 'short-tcp-header',  # the bug fixed in 'gso: refuse a TCP header shorter ...'
      vnet(1, 1, 28, 1, 20, 16) + ipv4(6, bytes([0x30, 0x39, 0, 80]) + bytes(8) + b'\x20' + bytes(19)))

# --- the client's Send-ring walker -----------------------------------------
pk = [ipv4(17, udp(payload[:n])) for n in (10, 100, 1000)]
write('send_ring', 'three-packets', ring_input(0, [record(p) for p in pk]))
write('send_ring', 'with-pads', ring_input(64, [record(pk[0]), record(bytes(30), 0x40000000),
                                                record(pk[1]), record(bytes(0), 0x40000000)],
                                           last=0x80))
write('send_ring', 'wraps', ring_input(CAP - 8, [record(pk[2]), record(pk[0])]))
write('send_ring', 'more-later', ring_input(0, [record(pk[0]), record(pk[1])],
                                            tail=len(record(pk[0])), last=3))
write('send_ring', 'session-over', ring_input(0, [record(pk[0])], tail=0xFFFFFFFF))
write('send_ring', 'bogus-flags', ring_input(0, [record(pk[0]), record(pk[1], 0x10000)]))

# --- the engine's Receive-ring walker ---------------------------------------
write('engine_tx', 'plain', ring_input(0, [record(p) for p in pk] + [record(b'\x00' * 8)]))
write('engine_tx', 'wraps', ring_input(CAP - 4, [record(pk[2]), record(pk[1])], last=4))
segs = [vnet() + ipv4(6, tcp(5000 + i * 200, 0x10 if i < 3 else 0x18, payload[:200]),
                      0x1234 + i) for i in range(4)]
write('engine_tx', 'offload-coalesce', ring_input(0, [record(s) for s in segs], last=3))
segs6 = [vnet() + ipv6(6, tcp(9 + i * 100, 0x10, payload[:100], 32)) for i in range(3)]
write('engine_tx', 'offload-coalesce6', ring_input(256, [record(s) for s in segs6], last=7))
write('engine_tx', 'offload-single', ring_input(0, [record(vnet(1, 1, 40, 100, 20, 16) +
                                                        ipv4(6, tcp(1, 0x18, payload[:300])))],
                                              last=1))
write('engine_tx', 'bogus-pad', ring_input(0, [record(pk[0]), record(bytes(8), 0x40000000)]))

# Wintun 0.1 bundles: per packet a native-endian size, 12 zero bytes, the
# packet, zero padding to 16 (see fuzz_bundle.c).
def bundle_record(p, size=None, hdr=bytes(12), pad_byte=0):
    n = len(p) if size is None else size
    rec = struct.pack('=I', n) + hdr + p
    return rec + bytes([pad_byte]) * (-len(rec) % 16)


write('bundle', 'three-packets', b''.join(bundle_record(p) for p in pk))
write('bundle', 'one-aligned', bundle_record(ipv4(17, udp(payload[:4]))))  # 32 bytes: no padding
write('bundle', 'v6', bundle_record(ipv6(17, udp(payload[:9]))))
write('bundle', 'bad-padding', bundle_record(pk[0]) + bundle_record(pk[1], pad_byte=1))
write('bundle', 'bad-header', bundle_record(pk[0], hdr=bytes(11) + b'\x01'))
write('bundle', 'size-past-end', bundle_record(pk[0], size=len(pk[0]) + 100))
write('bundle', 'not-ip', bundle_record(bytes(24)))
