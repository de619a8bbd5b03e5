// FLOW_MOD (OF 1.3.5 §7.3.4.1), GROUP_MOD (§7.3.4.3) and METER_MOD (§7.3.4.5) vectors.
//
//  ofp_flow_mod after the header (40 bytes):
//  cookie(8) cookie_mask(8) table_id(1) command(1) idle_timeout(2) hard_timeout(2) priority(2)
//  buffer_id(4) out_port(4) out_group(4) flags(2) pad(2), then ofp_match, then instructions.
//  OXM header: class 0x8000, field << 1 | hasmask, length (§7.2.3.2).

import NIOCore
import OpenFlow
import Packets

let goldenFlowMods: [Golden] = [
    // ADD, the elephant re-route Tusk sends: 5-tuple-ish match with a masked ipv4_dst.
    g("flow_mod_add", xid: 21,
      .flowMod(FlowMod(command: .add, cookie: 1, cookieMask: 0, tableID: 0, idleTimeout: 30, hardTimeout: 300,
                       priority: 40000, flags: [.sendFlowRemoved],
                       match: [.inPort(3), .ethType(0x0800), .ipv4Src(v4("10.0.1.2")),
                               .ipv4Dst(v4("10.2.0.0"), mask: v4("255.255.0.0")), .ipProto(6), .tcpSrc(40000),
                               .tcpDst(5201)],
                       instructions: [.applyActions([.output(port: 7, maxLength: 0)])])),
      hex("04 0e 0080 00000015",
          "0000000000000001 0000000000000000 00 00 001e 012c 9c40 ffffffff ffffffff ffffffff 0001 0000",
          // ofp_match: type 1, length 55 = 4 + 51 bytes of OXM, then 1 byte of pad.
          "0001 0037",
          "80000004 00000003",           // in_port = 3
          "80000a02 0800",               // eth_type = 0x0800
          "80001604 0a000102",           // ipv4_src = 10.0.1.2
          "80001908 0a020000 ffff0000",  // ipv4_dst = 10.2.0.0/255.255.0.0 (hasmask)
          "80001401 06",                 // ip_proto = 6
          "80001a02 9c40",               // tcp_src = 40000
          "80001c02 1451",               // tcp_dst = 5201
          "00",
          // OFPIT_APPLY_ACTIONS, len 24, pad[4], output:7
          "0004 0018 00000000", outputHex(7))),

    // MODIFY with most OXM fields, masks, and every instruction type.
    g("flow_mod_modify_fields", xid: 22,
      .flowMod(FlowMod(command: .modify, cookie: 2, cookieMask: 0xFFFF_FFFF_FFFF_FFFF, tableID: 1, priority: 0x100,
                       match: [.inPort(1), .ethDst(mac("02:00:00:00:00:02"), mask: mac("ff:ff:ff:ff:ff:00")),
                               .ethSrc(mac("02:00:00:00:00:01")), .ethType(0x86DD), .vlanVID(0x1005, mask: 0x1FFF),
                               .vlanPCP(5), .ipDSCP(46), .ipProto(17), .ipv6Src(v6("2001:db8::1")),
                               .ipv6Dst(v6("2001:db8:1::"), mask: v6("ffff:ffff:ffff::")), .udpSrc(53), .udpDst(4789)],
                       instructions: [
                           .meter(5),
                           .applyActions([.pushVLAN(ethertype: 0x8100), .setField(.vlanVID(0x1014)), .setQueue(3),
                                          .decNwTTL, .popVLAN, .output(port: .controller, maxLength: 0xFFFF)]),
                           .writeActions([.group(9)]),
                           .writeMetadata(0xAB, mask: 0xFF),
                           .gotoTable(2),
                       ])),
      hex("04 0e 0138 00000016",
          "0000000000000002 ffffffffffffffff 01 01 0000 0000 0100 ffffffff ffffffff ffffffff 0000 0000",
          "0001 0087",                                    // 4 + 131 bytes of OXM
          "80000004 00000001",                            // in_port = 1
          "8000070c 020000000002 ffffffffff00",           // eth_dst/mask
          "80000806 020000000001",                        // eth_src
          "80000a02 86dd",                                // eth_type = IPv6
          "80000d04 1005 1fff",                           // vlan_vid = 5|PRESENT, mask 0x1fff
          "80000e01 05",                                  // vlan_pcp = 5
          "80001001 2e",                                  // ip_dscp = 46
          "80001401 11",                                  // ip_proto = 17
          "80003410 20010db8000000000000000000000001",    // ipv6_src
          "80003720 20010db8000100000000000000000000 ffffffffffff00000000000000000000", // ipv6_dst/48
          "80001e02 0035",                                // udp_src = 53
          "80002002 12b5",                                // udp_dst = 4789
          "00",                                           // pad to 136
          "0006 0008 00000005",                           // OFPIT_METER 5
          "0004 0048 00000000",                           // OFPIT_APPLY_ACTIONS, len 72
          "0011 0008 8100 0000",                          //   push_vlan 0x8100
          "0019 0010 80000c02 1014 000000000000",         //   set_field vlan_vid=0x1014, pad 6
          "0015 0008 00000003",                           //   set_queue 3
          "0018 0008 00000000",                           //   dec_nw_ttl
          "0012 0008 00000000",                           //   pop_vlan
          "0000 0010 fffffffd ffff 000000000000",         //   output CONTROLLER, max_len NO_BUFFER
          "0003 0010 00000000 0016 0008 00000009",        // OFPIT_WRITE_ACTIONS group 9
          "0002 0018 00000000 00000000000000ab 00000000000000ff", // OFPIT_WRITE_METADATA
          "0001 0008 02 000000")),                        // OFPIT_GOTO_TABLE 2

    // MODIFY_STRICT with every ARP field; the match is exactly 56 bytes, so no padding.
    g("flow_mod_modify_strict_arp", xid: 23,
      .flowMod(FlowMod(command: .modifyStrict, cookie: 3, priority: 0x7000,
                       match: [.ethType(0x0806), .arpOp(1), .arpSPA(v4("10.0.0.1"), mask: v4("255.255.255.0")),
                               .arpTPA(v4("10.0.0.2")), .arpSHA(mac("02:00:00:00:00:01")), .arpTHA(mac("00:00:00:00:00:00"))],
                       instructions: [.applyActions([.output(port: .normal, maxLength: 0)])])),
      hex("04 0e 0080 00000017",
          "0000000000000003 0000000000000000 00 02 0000 0000 7000 ffffffff ffffffff ffffffff 0000 0000",
          "0001 0038",
          "80000a02 0806",                 // eth_type = ARP
          "80002a02 0001",                 // arp_op = request
          "80002d08 0a000001 ffffff00",    // arp_spa/24
          "80002e04 0a000002",             // arp_tpa
          "80003006 020000000001",         // arp_sha
          "80003206 000000000000",         // arp_tha
          "0004 0018 00000000 0000 0010 fffffffa 0000 000000000000")),

    // DELETE from every table of flows that output to port 7 and match ICMPv4 echo requests.
    g("flow_mod_delete_icmpv4", xid: 24,
      .flowMod(FlowMod(command: .delete, tableID: 0xFF, priority: 0, outPort: 7,
                       match: [.ethType(0x0800), .ipProto(1), .icmpv4Type(8), .icmpv4Code(0)])),
      hex("04 0e 0050 00000018",
          "0000000000000000 0000000000000000 ff 03 0000 0000 0000 ffffffff 00000007 ffffffff 0000 0000",
          "0001 0019 80000a02 0800 80001401 01 80002601 08 80002801 00 00000000000000")),

    // DELETE_STRICT of an ICMPv6 neighbour-solicitation flow that outputs to group 5.
    g("flow_mod_delete_strict_icmpv6", xid: 25,
      .flowMod(FlowMod(command: .deleteStrict, priority: 0x1234, outGroup: 5,
                       match: [.ethType(0x86DD), .ipProto(58), .icmpv6Type(135), .icmpv6Code(0)])),
      hex("04 0e 0050 00000019",
          "0000000000000000 0000000000000000 00 04 0000 0000 1234 ffffffff ffffffff 00000005 0000 0000",
          "0001 0019 80000a02 86dd 80001401 3a 80003a01 87 80003c01 00 00000000000000")),
]

let goldenGroupMods: [Golden] = [
    // SELECT with three weighted buckets (50/30/20): how Tusk spreads flows over an ECMP/LAG.
    // ofp_bucket: len, weight, watch_port, watch_group, pad[4], actions.
    g("group_mod_select", xid: 26,
      .groupMod(GroupMod(command: .add, type: .select, groupID: 1, buckets: [
          Bucket(weight: 50, actions: [.output(port: 1, maxLength: 0)]),
          Bucket(weight: 30, actions: [.output(port: 2, maxLength: 0)]),
          Bucket(weight: 20, actions: [.output(port: 3, maxLength: 0)]),
      ])),
      hex("04 0f 0070 0000001a", "0000 01 00 00000001",
          "0020 0032 ffffffff ffffffff 00000000", outputHex(1),
          "0020 001e ffffffff ffffffff 00000000", outputHex(2),
          "0020 0014 ffffffff ffffffff 00000000", outputHex(3))),
    g("group_mod_all", xid: 27,
      .groupMod(GroupMod(command: .modify, type: .all, groupID: 2, buckets: [
          Bucket(actions: [.output(port: 1, maxLength: 0)]), Bucket(actions: [.output(port: 4, maxLength: 0)]),
      ])),
      hex("04 0f 0050 0000001b", "0001 00 00 00000002",
          "0020 0000 ffffffff ffffffff 00000000", outputHex(1),
          "0020 0000 ffffffff ffffffff 00000000", outputHex(4))),
    g("group_mod_indirect", xid: 28,
      .groupMod(GroupMod(command: .add, type: .indirect, groupID: 3, buckets: [Bucket(actions: [.group(1)])])),
      hex("04 0f 0028 0000001c", "0000 02 00 00000003",
          "0018 0000 ffffffff ffffffff 00000000", "0016 0008 00000001")),
    g("group_mod_fast_failover", xid: 29,
      .groupMod(GroupMod(command: .add, type: .fastFailover, groupID: 4, buckets: [
          Bucket(watchPort: 1, actions: [.output(port: 1, maxLength: 0)]),
          Bucket(watchPort: 2, actions: [.output(port: 2, maxLength: 0)]),
      ])),
      hex("04 0f 0050 0000001d", "0000 03 00 00000004",
          "0020 0000 00000001 ffffffff 00000000", outputHex(1),
          "0020 0000 00000002 ffffffff 00000000", outputHex(2))),
    g("group_mod_delete_all", xid: 30, .groupMod(GroupMod(command: .delete, type: .all, groupID: .all)),
      hex("04 0f 0010 0000001e", "0002 00 00 fffffffc")),
]

let goldenMeterMods: [Golden] = [
    // §7.3.4.5 ofp_meter_mod: command ADD, flags KBPS|BURST|STATS, meter 1, a drop band and a
    // DSCP-remark band (type, len 16, rate, burst_size, then pad / prec_level+pad).
    g("meter_mod", xid: 31,
      .meterMod(MeterMod(command: .add, flags: [.kbps, .burst, .stats], meterID: 1, bands: [
          .drop(rate: 10000, burstSize: 1000), .dscpRemark(rate: 5000, burstSize: 500, precLevel: 1),
      ])),
      hex("04 1d 0030 0000001f", "0000 000d 00000001",
          "0001 0010 00002710 000003e8 00000000",
          "0002 0010 00001388 000001f4 01 000000")),
    g("meter_mod_experimenter_band", xid: 32,
      .meterMod(MeterMod(command: .modify, flags: [.pktps], meterID: 2, bands: [
          .experimenter(rate: 1, burstSize: 2, experimenter: 0x2320),
      ])),
      hex("04 1d 0020 00000020", "0001 0002 00000002", "ffff 0010 00000001 00000002 00002320")),
]
