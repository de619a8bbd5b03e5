// Golden vectors for every message type the codec models, written by hand from the structure
// layouts of OF 1.3.5 (§7.1 to §7.5). Each is decoded and compared field by field with the value
// it means, and that value is encoded and compared byte for byte with the vector.

import NIOCore
import OpenFlow
import Packets

func g(_ name: String, xid: UInt32, _ message: OpenFlowMessage, _ bytes: [UInt8]) -> Golden {
    Golden(name: name, bytes: bytes, envelope: OpenFlowEnvelope(xid: xid, message: message))
}

// Shared pieces.
/// ofp_action_output port N, max_len 0 (§7.2.5): type 0, len 16, port, max_len, pad[6].
func outputHex(_ port: UInt8) -> String { "0000 0010 000000\(String(format2: port)) 0000 000000000000" }
extension String {
    init(format2 v: UInt8) {
        let s = String(v, radix: 16)
        self = s.count == 1 ? "0" + s : s
    }
}

/// ofp_match with eth_type=0x0800 (§7.2.2): type 1, length 10, OXM 80000a02 0800, pad 6.
let matchIPv4Hex = "0001 000a 80000a02 0800 000000000000"

let goldenSymmetric: [Golden] = [
    // §7.5.1 OFPT_HELLO with one OFPHET_VERSIONBITMAP element (type 1, length 8) whose bitmap
    // has bit 4 set: OpenFlow 1.3 only.
    g("hello", xid: 1, .hello(Hello(versions: [4])),
      hex("04 00 0010 00000001", "0001 0008 00000010")),
    // HELLO with no elements (as 1.0 to 1.2 peers send it).
    g("hello_bare", xid: 2, .hello(Hello()), hex("04 00 0008 00000002")),
    // §7.5.4 OFPT_ERROR: OFPET_BAD_REQUEST (1), OFPBRC_BAD_LEN (6), data = first 8 bytes of the request.
    g("error", xid: 2, .error(ErrorMessage(kind: .badRequestBadLen, data: buf(hex("040e004800000007")))),
      hex("04 01 0014 00000002", "0001 0006", "040e004800000007")),
    // §7.5.4.1 OFPET_EXPERIMENTER error: type 0xffff, exp_type 5, experimenter 0x00002320.
    g("error_experimenter", xid: 3, .error(ErrorMessage(experimenter: 0x2320, expType: 5, data: buf(hex("deadbeef")))),
      hex("04 01 0014 00000003", "ffff 0005 00002320", "deadbeef")),
    // §7.5.2 / §7.5.3 echo request and reply with arbitrary data.
    g("echo_request", xid: 4, .echoRequest(buf(hex("61626364"))), hex("04 02 000c 00000004", "61626364")),
    g("echo_reply", xid: 4, .echoReply(ByteBuffer()), hex("04 03 0008 00000004")),
    // §7.5.5 OFPT_EXPERIMENTER: experimenter 0x2320 (Nicira), exp_type 10, data kept raw.
    g("experimenter", xid: 5, .experimenter(ExperimenterMessage(experimenter: 0x2320, expType: 10, data: buf(hex("01020304")))),
      hex("04 04 0014 00000005", "00002320 0000000a", "01020304")),
]

let goldenConfig: [Golden] = [
    g("features_request", xid: 6, .featuresRequest, hex("04 05 0008 00000006")),
    // §7.3.1 ofp_switch_features: datapath_id 42, n_buffers 256, n_tables 254, auxiliary_id 0,
    // pad[2], capabilities 0x4f, reserved 0.
    g("features_reply", xid: 6,
      .featuresReply(FeaturesReply(datapathID: 42, nBuffers: 256, nTables: 254, auxiliaryID: 0, capabilities: 0x4F)),
      hex("04 06 0020 00000006", "000000000000002a 00000100 fe 00 0000 0000004f 00000000")),
    g("get_config_request", xid: 7, .getConfigRequest, hex("04 07 0008 00000007")),
    // §7.3.2 ofp_switch_config: flags OFPC_FRAG_NORMAL, miss_send_len 128.
    g("get_config_reply", xid: 7, .getConfigReply(SwitchConfig(flags: .fragNormal, missSendLength: 128)),
      hex("04 08 000c 00000007", "0000 0080")),
    g("set_config", xid: 8, .setConfig(SwitchConfig(flags: .fragReassemble, missSendLength: 0xFFFF)),
      hex("04 09 000c 00000008", "0002 ffff")),
    // §7.3.3 ofp_table_mod: table_id 0xff (all), pad[3], config 0.
    g("table_mod", xid: 9, .tableMod(TableMod(tableID: 0xFF, config: 0)), hex("04 11 0010 00000009", "ff 000000 00000000")),
    // §7.3.4.3 ofp_port_mod: port 1, pad[4], hw_addr, pad[2], config OFPPC_PORT_DOWN, mask, advertise 0, pad[4].
    g("port_mod", xid: 10,
      .portMod(PortMod(portNumber: 1, hardwareAddress: mac("02:00:00:00:00:01"), config: 1, mask: 1, advertise: 0)),
      hex("04 10 0028 0000000a", "00000001 00000000 020000000001 0000 00000001 00000001 00000000 00000000")),
    // §7.3.9 ofp_role_request: role MASTER (2), pad[4], generation_id 7.
    g("role_request", xid: 11, .roleRequest(RoleMessage(role: .master, generationID: 7)),
      hex("04 18 0018 0000000b", "00000002 00000000 0000000000000007")),
    g("role_reply", xid: 11, .roleReply(RoleMessage(role: .slave, generationID: 0xF000_F000_F000_F000)),
      hex("04 19 0018 0000000b", "00000003 00000000 f000f000f000f000")),
    g("barrier_request", xid: 12, .barrierRequest, hex("04 14 0008 0000000c")),
    g("barrier_reply", xid: 12, .barrierReply, hex("04 15 0008 0000000c")),
    // §7.3.6 ofp_queue_get_config_request: port 1, pad[4].
    g("queue_get_config_request", xid: 13, .queueGetConfigRequest(port: 1), hex("04 16 0010 0000000d", "00000001 00000000")),
    // §7.3.6 ofp_queue_get_config_reply: port 1, pad[4], then the ofp_packet_queue list (kept
    // raw): queue_id 1, port 1, len 32, pad[6], one OFPQT_MIN_RATE property (len 16, rate 500).
    g("queue_get_config_reply", xid: 13,
      .queueGetConfigReply(QueueGetConfigReply(port: 1, queues: buf(hex(
          "00000001 00000001 0020 000000000000", "0001 0010 00000000 01f4 000000000000")))),
      hex("04 17 0030 0000000d", "00000001 00000000",
          "00000001 00000001 0020 000000000000", "0001 0010 00000000 01f4 000000000000")),
    g("get_async_request", xid: 14, .getAsyncRequest, hex("04 1a 0008 0000000e")),
    // §7.3.10 ofp_async_config: packet_in_mask[2], port_status_mask[2], flow_removed_mask[2].
    g("get_async_reply", xid: 14,
      .getAsyncReply(AsyncConfig(packetInMask: AsyncMask(masterOrEqual: 3, slave: 0),
                                 portStatusMask: AsyncMask(masterOrEqual: 7, slave: 7),
                                 flowRemovedMask: AsyncMask(masterOrEqual: 15, slave: 0))),
      hex("04 1b 0020 0000000e", "00000003 00000000", "00000007 00000007", "0000000f 00000000")),
    g("set_async", xid: 15,
      .setAsync(AsyncConfig(packetInMask: AsyncMask(masterOrEqual: 1, slave: 2),
                            portStatusMask: AsyncMask(masterOrEqual: 3, slave: 4),
                            flowRemovedMask: AsyncMask(masterOrEqual: 5, slave: 6))),
      hex("04 1c 0020 0000000f", "00000001 00000002", "00000003 00000004", "00000005 00000006")),
    // A type this codec does not know (48): kept raw.
    g("unknown_type", xid: 16, .unknown(type: OpenFlowMessageType(48), body: buf(hex("aabbccdd"))),
      hex("04 30 000c 00000010", "aabbccdd")),
]

let ethPort = SwitchPort(portNumber: 1, hardwareAddress: mac("02:00:00:00:00:01"), name: "eth1", config: 0, state: 4,
                         current: 0x840, advertised: 0, supported: 0, peer: 0, currentSpeed: 10_000_000,
                         maxSpeed: 10_000_000)
/// §7.2.1 ofp_port (64 bytes): port_no, pad[4], hw_addr, pad[2], name[16], config, state, curr,
/// advertised, supported, peer, curr_speed, max_speed.
let ethPortHex = "00000001 00000000 020000000001 0000 65746831000000000000000000000000 "
    + "00000000 00000004 00000840 00000000 00000000 00000000 00989680 00989680"

let goldenAsync: [Golden] = [
    // §7.4.1 ofp_packet_in: buffer_id NO_BUFFER, total_len 60, reason ACTION, table 0, cookie 1,
    // match {in_port=3} (length 12, pad 4), pad[2], then 4 bytes of the frame.
    g("packet_in", xid: 17,
      .packetIn(PacketIn(bufferID: openFlowNoBuffer, totalLength: 60, reason: .action, tableID: 0, cookie: 1,
                         match: [.inPort(3)], data: buf(hex("deadbeef")))),
      hex("04 0a 002e 00000011", "ffffffff 003c 01 00 0000000000000001",
          "0001 000c 80000004 00000003 00000000", "0000", "deadbeef")),
    // §7.4.2 ofp_flow_removed: cookie 16, priority 0x8000, reason IDLE_TIMEOUT, table 0,
    // duration 5 s + 4096 ns, idle 10, hard 0, 100 packets, 6400 bytes, match eth_type=0x0800.
    g("flow_removed", xid: 18,
      .flowRemoved(FlowRemoved(cookie: 16, priority: 0x8000, reason: .idleTimeout, tableID: 0, durationSec: 5,
                               durationNsec: 0x1000, idleTimeout: 10, hardTimeout: 0, packetCount: 100, byteCount: 6400,
                               match: [.ethType(0x0800)])),
      hex("04 0b 0040 00000012", "0000000000000010 8000 00 00 00000005 00001000 000a 0000",
          "0000000000000064 0000000000001900", matchIPv4Hex)),
    // §7.4.3 ofp_port_status: reason MODIFY, pad[7], ofp_port.
    g("port_status", xid: 19, .portStatus(PortStatus(reason: .modify, port: ethPort)),
      hex("04 0c 0050 00000013", "02 00000000000000", ethPortHex)),
]

let goldenPacketOut: [Golden] = [
    // §7.3.7 ofp_packet_out: buffer_id NO_BUFFER, in_port CONTROLLER, actions_len 16, pad[6],
    // output:1, then the frame (4 bytes here).
    g("packet_out", xid: 20,
      .packetOut(PacketOut(bufferID: openFlowNoBuffer, inPort: .controller, actions: [.output(port: 1, maxLength: 0)],
                           data: buf(hex("01020304")))),
      hex("04 0d 002c 00000014", "ffffffff fffffffd 0010 000000000000", outputHex(1), "01020304")),
]
