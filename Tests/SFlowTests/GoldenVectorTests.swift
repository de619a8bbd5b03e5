import Foundation
import Packets
import Testing
@testable import SFlow

// Golden vectors written by hand from the specifications (sflow.org "sFlow Version 5" July 2004,
// "sFlow Host Structures" July 2010, "sFlow LAG Counters Structure" September 2012, "sFlow OpenFlow
// Structures" (of_port 1004, port_name 1005)), not from the decoder. Every field has its comment;
// lengths are counted by hand. Each vector is decoded, every value checked, and re-encoded byte for byte.
enum Golden {
    /// (a) IPv4 agent; two compact flow samples (format 1): a raw Ethernet/802.1Q/IPv4/TCP header
    /// plus extended_switch with output "discarded", and one with output "multiple".
    static let a = hexVector("""
    00000005                          # sample_datagram_v5: version 5
    00000001                          # agent_address type IP_V4
    c0000201                          #   192.0.2.1
    00000001                          # sub_agent_id 1
    00000102                          # sequence_number 258
    0036ee80                          # uptime 3,600,000 ms
    00000002                          # samples<>: 2
    # -- sample 1: flow_sample, data_format enterprise 0 format 1
    00000001                          # data_format 0:1
    0000008c                          # opaque length 140
    00000007                          # sequence_number 7
    00000005                          # source_id: type 0 (ifIndex) << 24 | index 5
    00000400                          # sampling_rate 1024
    00001c00                          # sample_pool 7168
    00000002                          # drops 2
    00000005                          # input: format 0, ifIndex 5
    40000100                          # output: format 1 (discarded), reason 256
    00000002                          # flow_records<>: 2
    # ---- record 1: sampled_header, flow_data 0:1
    00000001                          # data_format 0:1
    0000004c                          # opaque length 76 = 16 + 58 + 2 padding
    00000001                          # header_protocol 1 ETHERNET-ISO88023
    000005f2                          # frame_length 1522 (14 + 4 + 1500 + FCS)
    00000004                          # stripped 4 (the FCS)
    0000003a                          # header<>: 58 bytes
    020000000002                      #   Ethernet destination 02:00:00:00:00:02
    020000000001                      #   Ethernet source 02:00:00:00:00:01
    8100 a064                         #   802.1Q: TPID 0x8100, TCI PCP 5 VID 100
    0800                              #   EtherType IPv4
    45 b8 05dc                        #   IPv4: version 4 IHL 5, TOS 0xb8 (EF), total length 1500
    1c46 4000                         #   identification, flags DF, fragment offset 0
    40 06 0000                        #   TTL 64, protocol 6 TCP, header checksum
    0a000001                          #   source 10.0.0.1
    0a000002                          #   destination 10.0.0.2
    c350 1451                         #   TCP source port 50000, destination port 5201
    00000001                          #   sequence number
    00000000                          #   acknowledgment number
    50 18 ffff                        #   data offset 5, flags PSH|ACK, window
    0000 0000                         #   checksum, urgent pointer
    0000                              #   XDR padding to a multiple of 4
    # ---- record 2: extended_switch, flow_data 0:1001
    000003e9                          # data_format 0:1001
    00000010                          # opaque length 16
    00000064                          # src_vlan 100
    00000005                          # src_priority 5
    000000c8                          # dst_vlan 200
    00000000                          # dst_priority 0
    # -- sample 2: flow_sample 0:1
    00000001                          # data_format 0:1
    00000038                          # opaque length 56
    00000008                          # sequence_number 8
    00000005                          # source_id 0:5
    00000400                          # sampling_rate 1024
    00002000                          # sample_pool 8192
    00000002                          # drops 2
    00000007                          # input: ifIndex 7
    80000003                          # output: format 2 (multiple), 3 interfaces
    00000001                          # flow_records<>: 1
    000003e9                          # extended_switch 0:1001
    00000010                          # opaque length 16
    00000064                          # src_vlan 100
    00000000                          # src_priority 0
    00000064                          # dst_vlan 100
    00000000                          # dst_priority 0
    """)

    /// (b) IPv6 agent; an expanded flow sample (format 3) with sampled_ethernet, sampled_ipv4,
    /// sampled_ipv6, extended_router (IPv6 next hop) and extended_gateway.
    static let b = hexVector("""
    00000005                          # version 5
    00000002                          # agent_address type IP_V6
    20010db8000000000000000000000001  #   2001:db8::1
    00000000                          # sub_agent_id 0
    ffffffff                          # sequence_number 4294967295
    00000064                          # uptime 100 ms
    00000001                          # samples<>: 1
    # -- flow_sample_expanded, data_format 0:3
    00000003                          # data_format 0:3
    0000012c                          # opaque length 300
    00000011                          # sequence_number 17
    00000000                          # source_id_type 0 (ifIndex)
    01000000                          # source_id_index 16777216 (does not fit in 24 bits)
    000003e8                          # sampling_rate 1000
    00002710                          # sample_pool 10000
    00000000                          # drops 0
    00000000                          # input: format 0
    01000001                          #        ifIndex 16777217
    00000001                          # output: format 1 (discarded)
    00000101                          #        reason 257
    00000005                          # flow_records<>: 5
    # ---- sampled_ethernet 0:2
    00000002                          # data_format 0:2
    00000018                          # opaque length 24
    000005ee                          # length 1518
    02000000000a 0000                 # src_mac 02:00:00:00:00:0a (mac = opaque[6], XDR-padded to 8)
    02000000000b 0000                 # dst_mac 02:00:00:00:00:0b
    000086dd                          # type 0x86DD
    # ---- sampled_ipv4 0:3
    00000003                          # data_format 0:3
    00000020                          # opaque length 32
    000005dc                          # length 1500
    00000011                          # protocol 17 UDP
    c0a80001                          # src_ip 192.168.0.1
    c0a80002                          # dst_ip 192.168.0.2
    00000035                          # src_port 53
    0000c000                          # dst_port 49152
    00000000                          # tcp_flags 0
    00000028                          # tos 0x28
    # ---- sampled_ipv6 0:4
    00000004                          # data_format 0:4
    00000038                          # opaque length 56
    000005c8                          # length 1480
    00000006                          # protocol 6 TCP
    20010db800000000000000000000000a  # src_ip 2001:db8::a
    20010db800000000000000000000000b  # dst_ip 2001:db8::b
    00000050                          # src_port 80
    0000d431                          # dst_port 54321
    00000012                          # tcp_flags SYN|ACK
    00000003                          # priority 3
    # ---- extended_router 0:1002
    000003ea                          # data_format 0:1002
    0000001c                          # opaque length 28
    00000002                          # nexthop type IP_V6
    fe800000000000000000000000000001  #   fe80::1
    00000030                          # src_mask_len 48
    00000040                          # dst_mask_len 64
    # ---- extended_gateway 0:1003
    000003eb                          # data_format 0:1003
    0000004c                          # opaque length 76
    00000001                          # nexthop type IP_V4
    cb007101                          #   203.0.113.1
    0000fde8                          # as 65000
    0000fde9                          # src_as 65001
    0000fdea                          # src_peer_as 65002
    00000002                          # dst_as_path<>: 2 segments
    00000002                          #   type AS_SEQUENCE
    00000003                          #   as_sequence<>: 3
    0000fdeb 0000fdec 000186a0        #   65003 65004 100000
    00000001                          #   type AS_SET
    00000002                          #   as_set<>: 2
    0000fded 0000fdee                 #   65005 65006
    00000002                          # communities<>: 2
    fde80064                          #   65000:100
    ffffff01                          #   NO_EXPORT
    00000064                          # localpref 100
    """)

    /// (c) A compact counter sample (format 2) with if_counters, ethernet_counters, vlan_counters,
    /// lag_port_stats, processor, of_port and port_name (a 7-byte name, so 1 byte of padding).
    static let c = hexVector("""
    00000005                          # version 5
    00000001                          # agent_address IP_V4
    0a000001                          #   10.0.0.1
    00000002                          # sub_agent_id 2
    00000003                          # sequence_number 3
    00001388                          # uptime 5000 ms
    00000001                          # samples<>: 1
    # -- counters_sample 0:2
    00000002                          # data_format 0:2
    00000158                          # opaque length 344
    00000009                          # sequence_number 9
    00000003                          # source_id 0:3
    00000007                          # counter_records<>: 7
    # ---- if_counters 0:1
    00000001                          # data_format 0:1
    00000058                          # opaque length 88
    00000003                          # ifIndex 3
    00000006                          # ifType 6 ethernetCsmacd
    00000002540be400                  # ifSpeed 10,000,000,000
    00000001                          # ifDirection 1 full-duplex
    00000003                          # ifStatus: admin up | oper up
    000000e8d4a51000                  # ifInOctets 1,000,000,000,000
    00000064 00000065 00000066        # ifInUcastPkts 100, ifInMulticastPkts 101, ifInBroadcastPkts 102
    00000067 00000068 00000069        # ifInDiscards 103, ifInErrors 104, ifInUnknownProtos 105
    0000000100000000                  # ifOutOctets 4294967296
    000000c8 000000c9 000000ca        # ifOutUcastPkts 200, ifOutMulticastPkts 201, ifOutBroadcastPkts 202
    000000cb 000000cc                 # ifOutDiscards 203, ifOutErrors 204
    00000002                          # ifPromiscuousMode 2 (false)
    # ---- ethernet_counters 0:2
    00000002                          # data_format 0:2
    00000034                          # opaque length 52
    00000001 00000002 00000003        # dot3StatsAlignmentErrors, FCSErrors, SingleCollisionFrames
    00000004 00000005 00000006        # MultipleCollisionFrames, SQETestErrors, DeferredTransmissions
    00000007 00000008 00000009        # LateCollisions, ExcessiveCollisions, InternalMacTransmitErrors
    0000000a 0000000b 0000000c        # CarrierSenseErrors, FrameTooLongs, InternalMacReceiveErrors
    0000000d                          # SymbolErrors
    # ---- vlan_counters 0:5
    00000005                          # data_format 0:5
    0000001c                          # opaque length 28
    00000064                          # vlan_id 100
    0000000000989680                  # octets 10,000,000
    000003e8                          # ucastPkts 1000
    0000000a                          # multicastPkts 10
    00000005                          # broadcastPkts 5
    00000001                          # discards 1
    # ---- lag_port_stats 0:7
    00000007                          # data_format 0:7
    00000038                          # opaque length 56
    0200000000aa 0000                 # dot3adAggPortActorSystemID 02:00:00:00:00:aa (+ XDR padding)
    0200000000bb 0000                 # dot3adAggPortPartnerOperSystemID 02:00:00:00:00:bb
    00000004                          # dot3adAggPortAttachedAggID 4
    05 3d 07 3f                       # dot3adAggPortState: actor admin, actor oper, partner admin, partner oper
    00000010 00000001 00000002        # LACPDUsRx 16, MarkerPDUsRx 1, MarkerResponsePDUsRx 2
    00000003 00000004                 # UnknownRx 3, IllegalRx 4
    00000011 00000005 00000006        # LACPDUsTx 17, MarkerPDUsTx 5, MarkerResponsePDUsTx 6
    # ---- processor 0:1001
    000003e9                          # data_format 0:1001
    0000001c                          # opaque length 28
    000003e8                          # 5s_cpu 10.00 %
    000001f4                          # 1m_cpu 5.00 %
    000000fa                          # 5m_cpu 2.50 %
    0000000400000000                  # total_memory 16 GiB
    0000000100000000                  # free_memory 4 GiB
    # ---- of_port 0:1004
    000003ec                          # data_format 0:1004
    0000000c                          # opaque length 12
    123456789abcdef0                  # datapath_id
    00000003                          # port_no 3
    # ---- port_name 0:1005
    000003ed                          # data_format 0:1005
    0000000c                          # opaque length 12
    00000007                          # name<255>: 7 bytes
    73312d65746833 00                 #   "s1-eth3" + 1 byte of padding
    """)

    /// (d) An expanded counter sample (format 4) with host_descr, host_adapters, host_cpu (with the
    /// later cpu_steal / cpu_guest / cpu_guest_nice fields) and host_memory.
    static let d = hexVector("""
    00000005                          # version 5
    00000001                          # agent_address IP_V4
    0a000002                          #   10.0.0.2
    00000000                          # sub_agent_id 0
    00000001                          # sequence_number 1
    000003e8                          # uptime 1000 ms
    00000001                          # samples<>: 1
    # -- counters_sample_expanded 0:4
    00000004                          # data_format 0:4
    00000124                          # opaque length 292
    00000002                          # sequence_number 2
    00000002                          # source_id_type 2 (entPhysicalEntry)
    00000001                          # source_id_index 1
    00000004                          # counter_records<>: 4
    # ---- host_descr 0:2000
    000007d0                          # data_format 0:2000
    00000030                          # opaque length 48
    00000005                          # hostname<64>: 5 bytes
    686f737431 000000                 #   "host1" + 3 bytes of padding
    00112233445566778899aabbccddeeff  # uuid (16 bytes; the erratum makes it opaque[16])
    00000003                          # machine_type 3 (x86_64)
    00000002                          # os_name 2 (linux)
    00000008                          # os_release<32>: 8 bytes
    362e312e302d3133                  #   "6.1.0-13"
    # ---- host_adapters 0:2001
    000007d1                          # data_format 0:2001
    0000002c                          # opaque length 44
    00000002                          # adapters<>: 2
    00000002                          #   ifIndex 2
    00000001                          #   mac_address<>: 1
    020000000001 0000                 #     02:00:00:00:00:01
    00000003                          #   ifIndex 3
    00000002                          #   mac_address<>: 2
    020000000002 0000                 #     02:00:00:00:00:02
    020000000003 0000                 #     02:00:00:00:00:03
    # ---- host_cpu 0:2003
    000007d3                          # data_format 0:2003
    00000050                          # opaque length 80
    3f000000                          # load_one 0.5
    3fa00000                          # load_five 1.25
    40000000                          # load_fifteen 2.0
    00000002                          # proc_run 2
    00000096                          # proc_total 150
    00000004                          # cpu_num 4
    00000960                          # cpu_speed 2400 MHz
    00015180                          # uptime 86400 s
    000003e8                          # cpu_user 1000 ms
    0000000a                          # cpu_nice 10
    000001f4                          # cpu_system 500
    00015f90                          # cpu_idle 90000
    00000014                          # cpu_wio 20
    00000005                          # cpu_intr 5
    00000006                          # cpu_sintr 6
    0001e240                          # interrupts 123456
    0009fbf1                          # contexts 654321
    00000007                          # cpu_steal 7
    00000008                          # cpu_guest 8
    00000009                          # cpu_guest_nice 9
    # ---- host_memory 0:2004
    000007d4                          # data_format 0:2004
    00000048                          # opaque length 72
    0000000400000000                  # mem_total 16 GiB
    0000000080000000                  # mem_free 2 GiB
    0000000010000000                  # mem_shared 256 MiB
    0000000008000000                  # mem_buffers 128 MiB
    0000000040000000                  # mem_cached 1 GiB
    0000000200000000                  # swap_total 8 GiB
    0000000180000000                  # swap_free 6 GiB
    00000064                          # page_in 100
    000000c8                          # page_out 200
    00000003                          # swap_in 3
    00000004                          # swap_out 4
    """)

    /// (e) Unknown enterprise and format samples and records, which must be kept raw.
    static let e = hexVector("""
    00000005                          # version 5
    00000001                          # agent_address IP_V4
    c0000202                          #   192.0.2.2
    00000000                          # sub_agent_id 0
    00000005                          # sequence_number 5
    00000006                          # uptime 6 ms
    00000004                          # samples<>: 4
    # -- sample 1: enterprise 4413, format 5
    0113d005                          # data_format 4413 << 12 | 5
    00000008                          # opaque length 8
    deadbeef cafebabe                 # opaque contents
    # -- sample 2: enterprise 0, format 99 (not defined)
    00000063                          # data_format 0:99
    0000000c                          # opaque length 12
    00010203 04050607 08090a0b        # opaque contents
    # -- sample 3: flow_sample 0:1 with unknown records
    00000001                          # data_format 0:1
    00000054                          # opaque length 84
    00000001                          # sequence_number 1
    00000001                          # source_id 0:1
    00000001                          # sampling_rate 1
    00000001                          # sample_pool 1
    00000000                          # drops 0
    00000001                          # input ifIndex 1
    00000002                          # output ifIndex 2
    00000003                          # flow_records<>: 3
    00000fa0                          # data_format 0:4000 (not defined)
    00000008                          # opaque length 8
    01020304 05060708                 # opaque contents
    02260001                          # data_format 8800:1 (an enterprise's structure)
    00000004                          # opaque length 4
    aabbccdd                          # opaque contents
    000003e9                          # extended_switch 0:1001
    00000010                          # opaque length 16
    00000001 00000000 00000002 00000000 # src_vlan 1, src_priority 0, dst_vlan 2, dst_priority 0
    # -- sample 4: counters_sample 0:2 with unknown records
    00000002                          # data_format 0:2
    00000034                          # opaque length 52
    00000001                          # sequence_number 1
    00000001                          # source_id 0:1
    00000003                          # counter_records<>: 3
    00000fa1                          # data_format 0:4001 (not defined)
    0000000c                          # opaque length 12
    00000001 00000002 00000003        # opaque contents
    02260007                          # data_format 8800:7
    00000004                          # opaque length 4
    11223344                          # opaque contents
    00000fa2                          # data_format 0:4002 (not defined)
    00000000                          # opaque length 0: an empty record
    """)

    static let all: [(name: String, bytes: [UInt8])] = [("a", a), ("b", b), ("c", c), ("d", d), ("e", e)]

    static func mac(_ s: String) -> MACAddress { MACAddress(s)! }
    static func v4(_ s: String) -> IPv4Address { IPv4Address(s)! }
    static func v6(_ s: String) -> IPv6Address { IPv6Address(s)! }

    static var expectedA: SFlowDatagram {
        // The 58 header bytes start after 28 (datagram) + 8 + 32 (sample) + 8 + 16 (record) bytes.
        let header: [UInt8] = Array(a[92..<150])
        return SFlowDatagram(
            agent: .v4(v4("192.0.2.1")), subAgentId: 1, sequence: 258, uptime: 3_600_000, samples: [
                .flow(FlowSample(
                    sequence: 7, source: DataSource(type: 0, index: 5), samplingRate: 1024, samplePool: 7168, drops: 2,
                    input: .ifIndex(5), output: .discarded(reason: 256), records: [
                        .rawPacketHeader(RawPacketHeader(headerProtocol: 1, frameLength: 1522, stripped: 4, header: header)),
                        .extendedSwitch(ExtendedSwitch(srcVlan: 100, srcPriority: 5, dstVlan: 200, dstPriority: 0)),
                    ])),
                .flow(FlowSample(
                    sequence: 8, source: DataSource(type: 0, index: 5), samplingRate: 1024, samplePool: 8192, drops: 2,
                    input: .ifIndex(7), output: .multiple(3), records: [
                        .extendedSwitch(ExtendedSwitch(srcVlan: 100, srcPriority: 0, dstVlan: 100, dstPriority: 0)),
                    ])),
            ])
    }

    static var expectedB: SFlowDatagram {
        SFlowDatagram(
            agent: .v6(v6("2001:db8::1")), subAgentId: 0, sequence: 4_294_967_295, uptime: 100, samples: [
                .flow(FlowSample(
                    expanded: true, sequence: 17, source: DataSource(type: 0, index: 16_777_216), samplingRate: 1000,
                    samplePool: 10_000, drops: 0, input: .ifIndex(16_777_217), output: .discarded(reason: 257), records: [
                        .ethernetFrameData(EthernetFrameData(length: 1518, srcMac: mac("02:00:00:00:00:0a"),
                                                             dstMac: mac("02:00:00:00:00:0b"), type: 0x86DD)),
                        .ipv4Data(IPv4Data(length: 1500, protocol: 17, srcIp: v4("192.168.0.1"), dstIp: v4("192.168.0.2"),
                                           srcPort: 53, dstPort: 49152, tcpFlags: 0, tos: 0x28)),
                        .ipv6Data(IPv6Data(length: 1480, protocol: 6, srcIp: v6("2001:db8::a"), dstIp: v6("2001:db8::b"),
                                           srcPort: 80, dstPort: 54321, tcpFlags: 0x12, priority: 3)),
                        .extendedRouter(ExtendedRouter(nexthop: .v6(v6("fe80::1")), srcMaskLen: 48, dstMaskLen: 64)),
                        .extendedGateway(ExtendedGateway(
                            nexthop: .v4(v4("203.0.113.1")), as: 65000, srcAs: 65001, srcPeerAs: 65002,
                            dstAsPath: [ASPathSegment(type: 2, asNumbers: [65003, 65004, 100_000]),
                                        ASPathSegment(type: 1, asNumbers: [65005, 65006])],
                            communities: [0xFDE8_0064, 0xFFFF_FF01], localpref: 100)),
                    ])),
            ])
    }

    static var expectedC: SFlowDatagram {
        var g = GenericInterfaceCounters()
        g.ifIndex = 3; g.ifType = 6; g.ifSpeed = 10_000_000_000; g.ifDirection = 1; g.ifStatus = 3
        g.ifInOctets = 1_000_000_000_000; g.ifInUcastPkts = 100; g.ifInMulticastPkts = 101; g.ifInBroadcastPkts = 102
        g.ifInDiscards = 103; g.ifInErrors = 104; g.ifInUnknownProtos = 105
        g.ifOutOctets = 4_294_967_296; g.ifOutUcastPkts = 200; g.ifOutMulticastPkts = 201; g.ifOutBroadcastPkts = 202
        g.ifOutDiscards = 203; g.ifOutErrors = 204; g.ifPromiscuousMode = 2
        var e = EthernetInterfaceCounters()
        e.dot3StatsAlignmentErrors = 1; e.dot3StatsFCSErrors = 2; e.dot3StatsSingleCollisionFrames = 3
        e.dot3StatsMultipleCollisionFrames = 4; e.dot3StatsSQETestErrors = 5; e.dot3StatsDeferredTransmissions = 6
        e.dot3StatsLateCollisions = 7; e.dot3StatsExcessiveCollisions = 8; e.dot3StatsInternalMacTransmitErrors = 9
        e.dot3StatsCarrierSenseErrors = 10; e.dot3StatsFrameTooLongs = 11; e.dot3StatsInternalMacReceiveErrors = 12
        e.dot3StatsSymbolErrors = 13
        var v = VLANCounters()
        v.vlanId = 100; v.octets = 10_000_000; v.ucastPkts = 1000; v.multicastPkts = 10; v.broadcastPkts = 5; v.discards = 1
        var l = LACPCounters()
        l.actorSystemID = mac("02:00:00:00:00:aa"); l.partnerSystemID = mac("02:00:00:00:00:bb"); l.attachedAggID = 4
        l.actorAdminPortState = 0x05; l.actorOperPortState = 0x3D; l.partnerAdminPortState = 0x07; l.partnerOperPortState = 0x3F
        l.lacpdusRx = 16; l.markerPDUsRx = 1; l.markerResponsePDUsRx = 2; l.unknownRx = 3; l.illegalRx = 4
        l.lacpdusTx = 17; l.markerPDUsTx = 5; l.markerResponsePDUsTx = 6
        var p = ProcessorCounters()
        p.cpu5s = 1000; p.cpu1m = 500; p.cpu5m = 250; p.totalMemory = 16 << 30; p.freeMemory = 4 << 30
        return SFlowDatagram(
            agent: .v4(v4("10.0.0.1")), subAgentId: 2, sequence: 3, uptime: 5000, samples: [
                .counters(CounterSample(sequence: 9, source: DataSource(type: 0, index: 3), records: [
                    .genericInterface(g), .ethernetInterface(e), .vlan(v), .lacp(l), .processor(p),
                    .openFlowPort(OpenFlowPort(datapathId: 0x1234_5678_9ABC_DEF0, portNo: 3)),
                    .portName(PortName(name: "s1-eth3")),
                ])),
            ])
    }

    static var expectedD: SFlowDatagram {
        var cpu = HostCPU()
        cpu.loadOne = 0.5; cpu.loadFive = 1.25; cpu.loadFifteen = 2.0
        cpu.procRun = 2; cpu.procTotal = 150; cpu.cpuNum = 4; cpu.cpuSpeed = 2400; cpu.uptime = 86400
        cpu.cpuUser = 1000; cpu.cpuNice = 10; cpu.cpuSystem = 500; cpu.cpuIdle = 90000; cpu.cpuWio = 20
        cpu.cpuIntr = 5; cpu.cpuSintr = 6; cpu.interrupts = 123_456; cpu.contexts = 654_321; cpu.extra = [7, 8, 9]
        var m = HostMemory()
        m.memTotal = 16 << 30; m.memFree = 2 << 30; m.memShared = 256 << 20; m.memBuffers = 128 << 20
        m.memCached = 1 << 30; m.swapTotal = 8 << 30; m.swapFree = 6 << 30
        m.pageIn = 100; m.pageOut = 200; m.swapIn = 3; m.swapOut = 4
        return SFlowDatagram(
            agent: .v4(v4("10.0.0.2")), subAgentId: 0, sequence: 1, uptime: 1000, samples: [
                .counters(CounterSample(expanded: true, sequence: 2, source: DataSource(type: 2, index: 1), records: [
                    .hostDescription(HostDescription(
                        hostname: "host1",
                        uuid: [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF],
                        machineType: 3, osName: 2, osRelease: "6.1.0-13")),
                    .hostAdapters(HostAdapters(adapters: [
                        HostAdapter(ifIndex: 2, macAddresses: [mac("02:00:00:00:00:01")]),
                        HostAdapter(ifIndex: 3, macAddresses: [mac("02:00:00:00:00:02"), mac("02:00:00:00:00:03")]),
                    ])),
                    .hostCPU(cpu),
                    .hostMemory(m),
                ])),
            ])
    }

    static var expectedE: SFlowDatagram {
        SFlowDatagram(
            agent: .v4(v4("192.0.2.2")), subAgentId: 0, sequence: 5, uptime: 6, samples: [
                .unknown(format: DataFormat(enterprise: 4413, format: 5), data: [0xDE, 0xAD, 0xBE, 0xEF, 0xCA, 0xFE, 0xBA, 0xBE]),
                .unknown(format: DataFormat(format: 99), data: Array(0...11)),
                .flow(FlowSample(
                    sequence: 1, source: DataSource(type: 0, index: 1), samplingRate: 1, samplePool: 1, drops: 0,
                    input: .ifIndex(1), output: .ifIndex(2), records: [
                        .unknown(format: DataFormat(format: 4000), data: [1, 2, 3, 4, 5, 6, 7, 8]),
                        .unknown(format: DataFormat(enterprise: 8800, format: 1), data: [0xAA, 0xBB, 0xCC, 0xDD]),
                        .extendedSwitch(ExtendedSwitch(srcVlan: 1, srcPriority: 0, dstVlan: 2, dstPriority: 0)),
                    ])),
                .counters(CounterSample(sequence: 1, source: DataSource(type: 0, index: 1), records: [
                    .unknown(format: DataFormat(format: 4001), data: [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]),
                    .unknown(format: DataFormat(enterprise: 8800, format: 7), data: [0x11, 0x22, 0x33, 0x44]),
                    .unknown(format: DataFormat(format: 4002), data: []),
                ])),
            ])
    }

    static var expected: [(name: String, bytes: [UInt8], model: SFlowDatagram)] {
        [("a", a, expectedA), ("b", b, expectedB), ("c", c, expectedC), ("d", d, expectedD), ("e", e, expectedE)]
    }
}

@Suite("Golden vectors from the sFlow v5 specification")
struct GoldenVectorTests {
    @Test("vector lengths add up as counted by hand")
    func vectorLengths() {
        #expect(Golden.a.count == 240)
        #expect(Golden.b.count == 348)
        #expect(Golden.c.count == 380)
        #expect(Golden.d.count == 328)
        #expect(Golden.e.count == 216)
    }

    @Test("decode gives every field; re-encoding gives the same bytes", arguments: Golden.expected.map(\.name))
    func decodeAndReencode(name: String) throws {
        let v = try #require(Golden.expected.first { $0.name == name })
        let decoded = try SFlowDecoder.decode(v.bytes)
        #expect(decoded.isClean, "issues: \(decoded.issues)")
        #expect(decoded.malformedSamples == 0)
        #expect(decoded.datagram == v.model)
        #expect(SFlowEncoder.encode(decoded.datagram) == v.bytes)
        // The model written from the spec encodes to the vector too (the encoder alone is right).
        #expect(SFlowEncoder.encode(v.model) == v.bytes)
    }

    @Test("(a) flow sample fields and interface formats")
    func flowSampleA() throws {
        let d = try SFlowDecoder.decode(Golden.a).datagram
        #expect(d.version == 5)
        #expect(d.agent == .v4(IPv4Address(192, 0, 2, 1)))
        guard case .flow(let f) = d.samples[0], case .flow(let g) = d.samples[1] else {
            Issue.record("expected two flow samples"); return
        }
        #expect(!f.expanded)
        #expect(f.source == DataSource(type: 0, index: 5))
        #expect(f.input.format == 0 && f.input.value == 5 && f.input.singleIfIndex == 5)
        // OVS reports a packet sent through a group as discarded with reason 256.
        #expect(f.output.format == 1 && f.output.value == 256 && f.output.singleIfIndex == nil)
        #expect(f.output.compact == 0x4000_0100)
        #expect(g.output.format == 2 && g.output.value == 3 && g.output.singleIfIndex == nil)
        #expect(g.output.compact == 0x8000_0003)
        #expect(SFlowInterface(compact: 0x3FFF_FFFF).singleIfIndex == nil) // the device itself
        guard case .rawPacketHeader(let h) = f.records[0] else { Issue.record("expected a raw header"); return }
        #expect(h.header.count == 58)
        let p = h.parsed
        #expect(p.ethDst == MACAddress(0x0200_0000_0002))
        #expect(p.ethSrc == MACAddress(0x0200_0000_0001))
        #expect(p.vlan == 100 && p.vlanPCP == 5 && p.innerVlan == nil)
        #expect(p.etherType == 0x0800)
        #expect(p.ipVersion == 4 && p.tos == 0xB8 && p.ttl == 64 && p.ipLength == 1500)
        #expect(p.flowKey == FlowKey(src: .v4(IPv4Address(10, 0, 0, 1)), dst: .v4(IPv4Address(10, 0, 0, 2)),
                                     proto: 6, sport: 50000, dport: 5201))
        #expect(p.tcpFlags == 0x18)
        #expect(!p.truncated && !p.isFragment)
    }

    @Test("(b) expanded data source and interfaces carry values past 24 and 30 bits")
    func expandedB() throws {
        let d = try SFlowDecoder.decode(Golden.b).datagram
        guard case .flow(let f) = d.samples.first else { Issue.record("expected a flow sample"); return }
        #expect(f.expanded)
        #expect(f.source.index == 16_777_216)
        #expect(f.input == SFlowInterface(format: 0, value: 16_777_217))
        #expect(d.agent.description == "2001:db8::1")
    }

    @Test("(d) host_cpu without the later fields decodes with no extras")
    func hostCPUWithoutLaterFields() throws {
        // The July 2010 host_cpu ends at `contexts`: 68 bytes.
        var cpu = HostCPU()
        cpu.cpuNum = 2
        let d = SFlowDatagram(agent: .v4(IPv4Address(1, 2, 3, 4)), subAgentId: 0, sequence: 1, uptime: 1, samples: [
            .counters(CounterSample(sequence: 1, source: DataSource(type: 0, index: 1), records: [.hostCPU(cpu)])),
        ])
        let bytes = SFlowEncoder.encode(d)
        #expect(bytes.count == 28 + 8 + 12 + 8 + 68)
        let back = try SFlowDecoder.decode(bytes)
        #expect(back.isClean)
        #expect(back.datagram == d)
    }

    @Test("the fast scanner agrees with the full decoder on every vector")
    func scannerAgrees() throws {
        for (name, bytes) in Golden.all {
            let full = try SFlowDecoder.decode(bytes)
            var summaries: [FlowSampleSummary] = []
            let counts = try bytes.withUnsafeBytes { raw in
                try SFlowDecoder.scanFlowSamples(raw) { summaries.append(copy $0) }
            }
            let flows = full.datagram.samples.compactMap { if case .flow(let f) = $0 { f } else { nil } }
            let counters = full.datagram.samples.filter { if case .counters = $0 { true } else { false } }.count
            let unknown = full.datagram.samples.filter { if case .unknown = $0 { true } else { false } }.count
            #expect(counts.flowSamples == flows.count, "\(name)")
            #expect(counts.counterSamples == counters, "\(name)")
            #expect(counts.unknownSamples == unknown, "\(name)")
            #expect(counts.malformedSamples == 0 && counts.error == nil, "\(name)")
            #expect(summaries.count == flows.count, "\(name)")
            for (s, f) in zip(summaries, flows) {
                #expect(s.agent == full.datagram.agent && s.datagramSequence == full.datagram.sequence)
                #expect(s.sample.sequence == f.sequence && s.sample.source == f.source)
                #expect(s.sample.samplingRate == f.samplingRate && s.sample.samplePool == f.samplePool)
                #expect(s.sample.input == f.input && s.sample.output == f.output)
                // The header parsed in place is the full decoder's parse of the first raw header.
                let raw = f.records.compactMap { if case .rawPacketHeader(let h) = $0 { h } else { nil } }.first
                if let raw { #expect(s.header == raw.parsed, "\(name)") }
            }
        }
        // (a): the first sample's header is parsed in place; the second has none.
        var a: [FlowSampleSummary] = []
        _ = try Golden.a.withUnsafeBytes { raw in try SFlowDecoder.scanFlowSamples(raw) { a.append(copy $0) } }
        #expect(a.count == 2)
        #expect(a[0].hasHeader && a[0].frameLength == 1522)
        #expect(a[0].header.flowKey?.description == "10.0.0.1:50000 > 10.0.0.2:5201 proto 6")
        #expect(!a[1].hasHeader && a[1].frameLength == 0)
        // (b): no raw header, so the flow key comes from the first IP data record (sampled_ipv4).
        var b: [FlowSampleSummary] = []
        _ = try Golden.b.withUnsafeBytes { raw in try SFlowDecoder.scanFlowSamples(raw) { b.append(copy $0) } }
        #expect(b.count == 1)
        #expect(b.first?.hasHeader == true && b.first?.frameLength == 1500)
        #expect(b.first?.header.flowKey == FlowKey(src: .v4(IPv4Address(192, 168, 0, 1)), dst: .v4(IPv4Address(192, 168, 0, 2)),
                                                   proto: 17, sport: 53, dport: 49152))
        #expect(b.first?.header.tos == 0x28)
    }

    @Test("a flow sample with two raw header records keeps the second, parsed as if alone")
    func scannerTakesTheLastHeaderRecord() throws {
        let macA = MACAddress(0x0200_0000_0001), macB = MACAddress(0x0200_0000_0002)
        // The first record is VLAN-tagged IPv4 TCP, the second untagged IPv4 UDP between other hosts:
        // nothing of the first (the VLAN above all) may show through the second.
        let first = FrameBuilder.sampledIPv4Header(srcMac: macA, dstMac: macB, src: IPv4Address(10, 0, 0, 1), dst: IPv4Address(10, 0, 0, 2),
                                                   proto: 6, srcPort: 1000, dstPort: 2000, ipLength: 1486, vlan: 42)
        let second = FrameBuilder.sampledIPv4Header(srcMac: macB, dstMac: macA, src: IPv4Address(10, 1, 0, 3), dst: IPv4Address(10, 1, 0, 4),
                                                    proto: 17, srcPort: 3000, dstPort: 4000, ipLength: 800)
        let records: [FlowRecord] = [.rawPacketHeader(RawPacketHeader(headerProtocol: RawPacketHeader.ethernet, frameLength: 1500, stripped: 0, header: first)),
                                     .rawPacketHeader(RawPacketHeader(headerProtocol: RawPacketHeader.ethernet, frameLength: 814, stripped: 0, header: second))]
        let d = SFlowDatagram(agent: .v4(IPv4Address(172, 16, 0, 1)), subAgentId: 0, sequence: 1, uptime: 1000,
                              samples: [.flow(FlowSample(sequence: 1, source: DataSource(type: 0, index: 3), samplingRate: 1000, samplePool: 1000,
                                                         drops: 0, input: .ifIndex(3), output: .ifIndex(4), records: records))])
        var out: [FlowSampleSummary] = []
        _ = try SFlowEncoder.encode(d).withUnsafeBytes { raw in try SFlowDecoder.scanFlowSamples(raw) { out.append(copy $0) } }
        let s = try #require(out.first)
        let alone = HeaderParser.parseEthernet(second)
        #expect(HeaderParser.parseEthernet(first).vlan == 42)
        #expect(alone.vlan == nil)
        #expect(s.header == alone)
        #expect(s.frameLength == 814)
    }

    // MARK: Rendering

    static func jsonLine(_ bytes: [UInt8], sample: Int, time: Double) throws -> [String: Any] {
        let d = try SFlowDecoder.decode(bytes).datagram
        var w = JSONWriter()
        SFlowRendering.writeSample(d.samples[sample], of: d, time: time, into: &w)
        #expect(!w.bytes.contains(UInt8(ascii: "\n")), "one sample is one line")
        let obj = try JSONSerialization.jsonObject(with: Data(w.bytes))
        return try #require(obj as? [String: Any])
    }

    static func int(_ v: Any?) -> Int? { (v as? NSNumber)?.intValue }
    static func u64(_ v: Any?) -> UInt64? { (v as? NSNumber)?.uint64Value }

    @Test("(a) renders as a JSON line with the field names of the issue")
    func renderFlowJSON() throws {
        let o = try Self.jsonLine(Golden.a, sample: 0, time: 1_700_000_000.25)
        #expect((o["time"] as? NSNumber)?.doubleValue == 1_700_000_000.25)
        #expect(o["agent"] as? String == "192.0.2.1")
        #expect(Self.int(o["subAgent"]) == 1)
        #expect(Self.int(o["sequence"]) == 258)
        #expect(o["type"] as? String == "flow")
        #expect(o["sourceId"] as? String == "0:5")
        #expect(Self.int(o["samplingRate"]) == 1024)
        #expect(Self.int(o["samplePool"]) == 7168)
        #expect(Self.int(o["drops"]) == 2)
        #expect(Self.int(o["input"]) == 5)
        #expect(o["output"] as? String == "discarded:256")
        let records = try #require(o["records"] as? [[String: Any]])
        #expect(records.count == 2)
        #expect(records.map { Self.int($0["format"]) } == [1, 1001])
        let h = records[0]
        #expect(h["src"] as? String == "10.0.0.1")
        #expect(h["dst"] as? String == "10.0.0.2")
        #expect(Self.int(h["proto"]) == 6)
        #expect(Self.int(h["sport"]) == 50000)
        #expect(Self.int(h["dport"]) == 5201)
        #expect(Self.int(h["frameLength"]) == 1522)
        #expect(Self.int(records[1]["srcVlan"]) == 100 && Self.int(records[1]["dstVlan"]) == 200)

        let o2 = try Self.jsonLine(Golden.a, sample: 1, time: 1_700_000_000.25)
        #expect(o2["output"] as? String == "multiple:3")
        #expect(Self.int(o2["input"]) == 7)
    }

    @Test("(c) counter records render ifIndex, ifSpeed, ifInOctets, datapathId, portNo, name")
    func renderCounterJSON() throws {
        let o = try Self.jsonLine(Golden.c, sample: 0, time: 12)
        #expect(o["type"] as? String == "counters")
        #expect(o["sourceId"] as? String == "0:3")
        #expect(Self.int(o["time"]) == 12)
        let records = try #require(o["records"] as? [[String: Any]])
        #expect(records.map { Self.int($0["format"]) } == [1, 2, 5, 7, 1001, 1004, 1005])
        #expect(Self.int(records[0]["ifIndex"]) == 3)
        #expect(Self.u64(records[0]["ifSpeed"]) == 10_000_000_000)
        #expect(Self.u64(records[0]["ifInOctets"]) == 1_000_000_000_000)
        #expect(Self.u64(records[5]["datapathId"]) == 0x1234_5678_9ABC_DEF0)
        #expect(Self.int(records[5]["portNo"]) == 3)
        #expect(records[6]["name"] as? String == "s1-eth3")
    }

    @Test("(e) unknown samples and records render their enterprise, format and raw bytes")
    func renderUnknownJSON() throws {
        let o = try Self.jsonLine(Golden.e, sample: 0, time: 0)
        #expect(o["type"] as? String == "unknown")
        #expect(Self.int(o["enterprise"]) == 4413 && Self.int(o["format"]) == 5)
        #expect(o["data"] as? String == "deadbeefcafebabe")
        let f = try Self.jsonLine(Golden.e, sample: 2, time: 0)
        let records = try #require(f["records"] as? [[String: Any]])
        #expect(Self.int(records[1]["enterprise"]) == 8800 && Self.int(records[1]["format"]) == 1)
        #expect(records[1]["data"] as? String == "aabbccdd")
    }

    @Test("strings from the wire are escaped in JSON and kept intact")
    func jsonEscaping() throws {
        let name = "p\"o\\r\tt\n\u{01}\u{7f}é"
        let d = SFlowDatagram(agent: .v4(IPv4Address(192, 0, 2, 1)), subAgentId: 0, sequence: 1, uptime: 1, samples: [
            .counters(CounterSample(sequence: 1, source: DataSource(type: 0, index: 1), records: [.portName(PortName(name: name))])),
        ])
        let bytes = SFlowEncoder.encode(d)
        #expect(try SFlowDecoder.decode(bytes).datagram == d)
        let o = try Self.jsonLine(bytes, sample: 0, time: 0)
        let records = try #require(o["records"] as? [[String: Any]])
        #expect(records.first?["name"] as? String == name)
    }

    @Test("every vector renders as valid JSON, sample by sample")
    func everyVectorRenders() throws {
        for (_, bytes) in Golden.all {
            let d = try SFlowDecoder.decode(bytes).datagram
            for i in d.samples.indices {
                let o = try Self.jsonLine(bytes, sample: i, time: 1.5)
                #expect(o["agent"] as? String == d.agent.description)
            }
        }
    }

    @Test("header_protocol 11 (IPv4) and 12 (IPv6) parse from the IP header on")
    func sampledHeaderProtocols() {
        let ipv4 = hexVector("""
        45 00 0054 0000 0000 40 01 0000   # IPv4, total 84, TTL 64, ICMP
        c0000201 c0000202                 # 192.0.2.1 > 192.0.2.2
        08 00 f7ff 0000 0000              # ICMP echo request, code 0
        """)
        let p4 = ipv4.withUnsafeBytes { SFlowDecoder.parseSampledHeader(protocol: RawPacketHeader.ipv4, $0) }
        #expect(p4.ethSrc == nil && p4.etherType == 0x0800 && p4.ipVersion == 4)
        #expect(p4.flowKey == FlowKey(src: .v4(IPv4Address(192, 0, 2, 1)), dst: .v4(IPv4Address(192, 0, 2, 2)),
                                      proto: 1, sport: 8, dport: 0))
        #expect(p4.icmpType == 8 && p4.icmpCode == 0)

        let ipv6 = hexVector("""
        60000000 0008 11 40               # IPv6, payload 8, next header UDP, hop limit 64
        20010db8000000000000000000000001  # 2001:db8::1
        20010db8000000000000000000000002  # 2001:db8::2
        1f90 0035 0008 0000               # UDP 8080 > 53
        """)
        let p6 = ipv6.withUnsafeBytes { SFlowDecoder.parseSampledHeader(protocol: RawPacketHeader.ipv6, $0) }
        #expect(p6.etherType == 0x86DD && p6.ipVersion == 6 && p6.ttl == 64 && p6.ipLength == 48)
        #expect(p6.flowKey == FlowKey(src: .v6(IPv6Address("2001:db8::1")!), dst: .v6(IPv6Address("2001:db8::2")!),
                                      proto: 17, sport: 8080, dport: 53))
        // Through a whole raw header record too.
        let rec = RawPacketHeader(headerProtocol: 12, frameLength: 66, stripped: 0, header: ipv6)
        #expect(rec.parsed.flowKey?.dport == 53)
        // An unknown header_protocol parses to nothing rather than guessing.
        let other = ipv6.withUnsafeBytes { SFlowDecoder.parseSampledHeader(protocol: 7, $0) }
        #expect(other == ParsedHeader())
    }
}
