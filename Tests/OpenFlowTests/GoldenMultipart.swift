// MULTIPART request and reply vectors (OF 1.3.5 §7.3.5): ofp_multipart_request/reply is
// type(2) flags(2) pad(4), then a body per type.

import NIOCore
import OpenFlow
import Packets

func mpReq(_ name: String, xid: UInt32, _ body: MultipartRequestBody, flags: MultipartFlags = [], _ bytes: [UInt8]) -> Golden {
    g(name, xid: xid, .multipartRequest(MultipartRequest(flags: flags, body: body)), bytes)
}

func mpRep(_ name: String, xid: UInt32, _ body: MultipartReplyBody, flags: MultipartFlags = [], _ bytes: [UInt8]) -> Golden {
    g(name, xid: xid, .multipartReply(MultipartReply(flags: flags, body: body)), bytes)
}

/// ofp_match {eth_type=0x0800, ip_proto=132, sctp_src=1000, sctp_dst=2000}: length 27, pad 5.
let matchSCTPHex = "0001 001b 80000a02 0800 80001401 84 80002202 03e8 80002402 07d0 0000000000"

let goldenMultipartRequests: [Golden] = [
    mpReq("mp_desc_request", xid: 40, .desc, hex("04 12 0010 00000028", "0000 0000 00000000")),
    // §7.3.5.2 ofp_flow_stats_request: table_id, pad[3], out_port, out_group, pad[4], cookie,
    // cookie_mask, match.
    mpReq("mp_flow_request", xid: 41,
          .flow(FlowStatsRequest(tableID: 0xFF, match: [.ethType(0x0800), .ipProto(132), .sctpSrc(1000), .sctpDst(2000)])),
          hex("04 12 0050 00000029", "0001 0000 00000000",
              "ff 000000 ffffffff ffffffff 00000000 0000000000000000 0000000000000000", matchSCTPHex)),
    // §7.3.5.3 aggregate: same body; empty match is type 1, length 4, pad 4.
    mpReq("mp_aggregate_request", xid: 42,
          .aggregate(FlowStatsRequest(tableID: 0, outPort: 7, cookie: 0x10, cookieMask: 0xFF)),
          hex("04 12 0038 0000002a", "0002 0000 00000000",
              "00 000000 00000007 ffffffff 00000000 0000000000000010 00000000000000ff", "0001 0004 00000000")),
    mpReq("mp_table_request", xid: 43, .table, hex("04 12 0010 0000002b", "0003 0000 00000000")),
    // §7.3.5.6 ofp_port_stats_request: port_no (ANY), pad[4].
    mpReq("mp_port_stats_request", xid: 44, .portStats(.any), hex("04 12 0018 0000002c", "0004 0000 00000000", "ffffffff 00000000")),
    mpReq("mp_port_desc_request", xid: 45, .portDesc, hex("04 12 0010 0000002d", "000d 0000 00000000")),
    // §7.3.5.9 ofp_group_stats_request: group_id (ALL), pad[4].
    mpReq("mp_group_request", xid: 46, .group(.all), hex("04 12 0018 0000002e", "0006 0000 00000000", "fffffffc 00000000")),
    mpReq("mp_group_desc_request", xid: 47, .groupDesc, hex("04 12 0010 0000002f", "0007 0000 00000000")),
    mpReq("mp_group_features_request", xid: 48, .groupFeatures, hex("04 12 0010 00000030", "0008 0000 00000000")),
    // §7.3.5.12 ofp_meter_multipart_request: meter_id (ALL), pad[4]; REQ_MORE flag set.
    mpReq("mp_meter_request", xid: 49, .meter(.all), flags: .more,
          hex("04 12 0018 00000031", "0009 0001 00000000", "ffffffff 00000000")),
    // A type kept raw (table features with an empty body).
    mpReq("mp_table_features_request", xid: 50, .other(type: .tableFeatures, body: ByteBuffer()),
          hex("04 12 0010 00000032", "000c 0000 00000000")),
]

let goldenMultipartReplies: [Golden] = [
    // §7.3.5.1 ofp_desc: mfr_desc[256], hw_desc[256], sw_desc[256], serial_num[32], dp_desc[256].
    mpRep("mp_desc_reply", xid: 40,
          .desc(SwitchDescription(manufacturer: "Tusk Labs", hardware: "fat-tree", software: "ovs 3.x",
                                  serialNumber: "SN-1", datapath: "leaf1")),
          hex("04 13 0430 00000028", "0000 0000 00000000") + fixed("Tusk Labs", 256) + fixed("fat-tree", 256)
              + fixed("ovs 3.x", 256) + fixed("SN-1", 32) + fixed("leaf1", 256)),
    // §7.3.5.2 ofp_flow_stats: length 88, table 0, pad, 10 s + 500 ns, priority 0x8000, idle 0,
    // hard 0, flags SEND_FLOW_REM, pad[4], cookie 1, 1000 packets, 1500000 bytes, match, instructions.
    mpRep("mp_flow_reply", xid: 41,
          .flow([FlowStats(tableID: 0, durationSec: 10, durationNsec: 500, priority: 0x8000, idleTimeout: 0, hardTimeout: 0,
                           flags: [.sendFlowRemoved], cookie: 1, packetCount: 1000, byteCount: 1_500_000,
                           match: [.ethType(0x0800)], instructions: [.applyActions([.output(port: 2, maxLength: 0)])])]),
          hex("04 13 0068 00000029", "0001 0000 00000000",
              "0058 00 00 0000000a 000001f4 8000 0000 0000 0001 00000000",
              "0000000000000001 00000000000003e8 000000000016e360", matchIPv4Hex,
              "0004 0018 00000000", outputHex(2))),
    // §7.3.5.3 ofp_aggregate_stats_reply: packet_count, byte_count, flow_count, pad[4].
    mpRep("mp_aggregate_reply", xid: 42, .aggregate(AggregateStats(packetCount: 10, byteCount: 1000, flowCount: 2)),
          hex("04 13 0028 0000002a", "0002 0000 00000000", "000000000000000a 00000000000003e8 00000002 00000000")),
    // §7.3.5.4 ofp_table_stats: table_id, pad[3], active_count, lookup_count, matched_count.
    mpRep("mp_table_reply", xid: 43,
          .table([TableStats(tableID: 0, activeCount: 5, lookupCount: 100, matchedCount: 90),
                  TableStats(tableID: 1, activeCount: 0, lookupCount: 0, matchedCount: 0)]),
          hex("04 13 0040 0000002b", "0003 0000 00000000",
              "00 000000 00000005 0000000000000064 000000000000005a",
              "01 000000 00000000 0000000000000000 0000000000000000")),
    // §7.3.5.6 ofp_port_stats: port_no, pad[4], twelve 64-bit counters, duration_sec, duration_nsec.
    mpRep("mp_port_stats_reply", xid: 44,
          .portStats([PortStats(portNumber: 1, rxPackets: 1, txPackets: 2, rxBytes: 3, txBytes: 4, rxDropped: 5,
                                txDropped: 6, rxErrors: 7, txErrors: 8, rxFrameErrors: 9, rxOverErrors: 10,
                                rxCRCErrors: 11, collisions: 12, durationSec: 13, durationNsec: 14)]),
          hex("04 13 0080 0000002c", "0004 0000 00000000", "00000001 00000000",
              "0000000000000001 0000000000000002 0000000000000003 0000000000000004",
              "0000000000000005 0000000000000006 0000000000000007 0000000000000008",
              "0000000000000009 000000000000000a 000000000000000b 000000000000000c",
              "0000000d 0000000e")),
    // §7.3.5.7 port description: a list of ofp_port.
    mpRep("mp_port_desc_reply", xid: 45, .portDesc([ethPort]),
          hex("04 13 0050 0000002d", "000d 0000 00000000", ethPortHex)),
    // §7.3.5.9 ofp_group_stats: length 56, pad[2], group_id, ref_count, pad[4], packet_count,
    // byte_count, duration_sec, duration_nsec, then one ofp_bucket_counter.
    mpRep("mp_group_reply", xid: 46,
          .group([GroupStats(groupID: 1, refCount: 2, packetCount: 100, byteCount: 6400, durationSec: 3, durationNsec: 4,
                             bucketStats: [GroupStats.BucketCounter(packetCount: 60, byteCount: 3840)])]),
          hex("04 13 0048 0000002e", "0006 0000 00000000",
              "0038 0000 00000001 00000002 00000000 0000000000000064 0000000000001900 00000003 00000004",
              "000000000000003c 0000000000000f00")),
    // §7.3.5.10 ofp_group_desc: length 40, type SELECT, pad, group_id, buckets.
    mpRep("mp_group_desc_reply", xid: 47,
          .groupDesc([GroupDescription(type: .select, groupID: 1,
                                       buckets: [Bucket(weight: 10, actions: [.output(port: 1, maxLength: 0)])])]),
          hex("04 13 0038 0000002f", "0007 0000 00000000", "0028 01 00 00000001",
              "0020 000a ffffffff ffffffff 00000000", outputHex(1))),
    // §7.3.5.11 ofp_group_features: types, capabilities, max_groups[4], actions[4].
    mpRep("mp_group_features_reply", xid: 48,
          .groupFeatures(GroupFeatures(types: 0xF, capabilities: 0x5, maxGroups: [16, 16, 16, 16],
                                       actions: [0x0001, 0x0001, 0x0001, 0x0001])),
          hex("04 13 0038 00000030", "0008 0000 00000000", "0000000f 00000005",
              "00000010 00000010 00000010 00000010", "00000001 00000001 00000001 00000001")),
    // §7.3.5.12 ofp_meter_stats: meter_id, len 56, pad[6], flow_count, packet_in_count,
    // byte_in_count, duration_sec, duration_nsec, then one ofp_meter_band_stats.
    mpRep("mp_meter_reply", xid: 49,
          .meter([MeterStats(meterID: 1, flowCount: 1, packetInCount: 10, byteInCount: 1000, durationSec: 5,
                             durationNsec: 6, bandStats: [MeterStats.BandStats(packetBandCount: 2, byteBandCount: 200)])]),
          hex("04 13 0048 00000031", "0009 0000 00000000",
              "00000001 0038 000000000000 00000001 000000000000000a 00000000000003e8 00000005 00000006",
              "0000000000000002 00000000000000c8")),
]

let allGolden: [Golden] = goldenSymmetric + goldenConfig + goldenAsync + goldenPacketOut + goldenFlowMods
    + goldenGroupMods + goldenMeterMods + goldenMultipartRequests + goldenMultipartReplies
