-- cardlink relay protocol: a Wireshark dissector (Lua, Wireshark 3.x/4.x).
-- SPDX-License-Identifier: Apache-2.0
--
-- Decodes the relay protocol of docs/protocol.md: the 8-byte header (§2),
-- the body's BER-TLV fields (§3) with the name of every message and field of
-- §5, the error codes of §6, and the two framings: messages back to back on
-- a reliable byte stream (§12, TCP) and the lossy-link frames of §13
-- (7E-delimited, escaped, CRC-16/MCRF4XX) with the relay message inside.
--
-- Use:
--   tshark -X lua_script:/usr/local/share/cardlink/wireshark/cardlink.lua -r FILE -V
-- or copy (or symlink) the file into Wireshark's personal Lua plugin folder
-- (Help > About > Folders, e.g. ~/.local/lib/wireshark/plugins/).
--
-- Ports (Edit > Preferences > Protocols > CARDLINK / CARDLINK-LOSSY):
--   TCP 7817  relay messages on a byte stream (a heuristic also finds them on
--             any TCP port: byte 0 C1, a known type, reserved flags 0);
--   UDP 7818  lossy-link frames, one or more per datagram (a serial link
--             captured through a UDP bridge); "Decode As..." CARDLINK-LOSSY
--             on a TCP port decodes a serial byte stream carried over TCP.
-- Display filters: cardlink, cardlink.type == 0x22, cardlink.error.code,
-- cardlink_lossy.crc.status == "Bad", ...

local cardlink = Proto("cardlink", "cardlink relay protocol")
local lossy = Proto("cardlink_lossy", "cardlink lossy-link framing")

-- ------------------------------------------------------------ value tables

local msg_names = {
    [0x01] = "HELLO", [0x02] = "HELLO-ACK", [0x03] = "KEEPALIVE", [0x04] = "CLOSE",
    [0x10] = "ERROR",
    [0x20] = "APDU", [0x21] = "APDU-RESPONSE",
    [0x22] = "SCRIPT", [0x23] = "SCRIPT-RESULT",
    [0x24] = "DISPLAY", [0x25] = "DISPLAY-DONE",
    [0x26] = "PROMPT", [0x27] = "PROMPT-ANSWER",
    [0x28] = "PIN-VERIFY", [0x29] = "PIN-VERIFY-RESULT",
    [0x2A] = "PIN-CHANGE", [0x2B] = "PIN-CHANGE-RESULT",
    [0x2C] = "TXN-APPROVE", [0x2D] = "TXN-RESULT",
    [0x2E] = "CARD-RESET", [0x2F] = "CARD-RESET-RESULT",
    [0x30] = "CARD-INSERTED", [0x31] = "CARD-REMOVED", [0x32] = "READER-STATUS",
    [0x40] = "ACTUATE", [0x41] = "ACTUATE-RESULT",
}

local err_names = {
    [0x00] = "NONE", [0x01] = "MALFORMED", [0x02] = "UNSUPPORTED", [0x03] = "VERSION",
    [0x04] = "SEQUENCE", [0x05] = "TOO_LARGE", [0x06] = "STATE", [0x07] = "NO_CARD",
    [0x08] = "CARD_MUTE", [0x09] = "CARD_IO", [0x0A] = "DENIED", [0x0B] = "CANCELLED",
    [0x0C] = "TIMEOUT", [0x0D] = "DUPLICATE", [0x0E] = "LIMIT", [0x0F] = "SHUTDOWN",
    [0x10] = "INTERNAL", [0x11] = "PROTOCOL",
}

local ins_names = {
    [0x0E] = "ERASE BINARY", [0x20] = "VERIFY", [0x24] = "CHANGE REFERENCE DATA",
    [0x26] = "DISABLE VERIFICATION REQUIREMENT", [0x28] = "ENABLE VERIFICATION REQUIREMENT",
    [0x2A] = "PERFORM SECURITY OPERATION", [0x2C] = "RESET RETRY COUNTER",
    [0x44] = "ACTIVATE FILE", [0x46] = "GENERATE ASYMMETRIC KEY PAIR",
    [0x70] = "MANAGE CHANNEL", [0x82] = "EXTERNAL AUTHENTICATE", [0x84] = "GET CHALLENGE",
    [0x86] = "GENERAL AUTHENTICATE", [0x88] = "INTERNAL AUTHENTICATE",
    [0xA4] = "SELECT", [0xB0] = "READ BINARY", [0xB2] = "READ RECORD",
    [0xC0] = "GET RESPONSE", [0xC2] = "ENVELOPE", [0xCA] = "GET DATA", [0xCB] = "GET DATA",
    [0xD0] = "WRITE BINARY", [0xD2] = "WRITE RECORD", [0xD6] = "UPDATE BINARY",
    [0xDA] = "PUT DATA", [0xDC] = "UPDATE RECORD", [0xE2] = "APPEND RECORD",
    [0x52] = "CREDIT (cardlink purse)", [0x54] = "DEBIT (cardlink purse)",
    [0x1E] = "BLOCK (cardlink, issuer-signed)",
}

local protocol_names = { [0] = "T=0", [1] = "T=1", [2] = "APDU-level" }

-- ------------------------------------------------------------ header fields

local hf = {
    magic   = ProtoField.uint8("cardlink.magic", "Magic", base.HEX, nil, 0xF0),
    format  = ProtoField.uint8("cardlink.format", "Header format", base.DEC, nil, 0x0F),
    type    = ProtoField.uint8("cardlink.type", "Type", base.HEX, msg_names),
    flags   = ProtoField.uint8("cardlink.flags", "Flags", base.HEX),
    f_ack   = ProtoField.bool("cardlink.flags.ack", "ACK", 8, nil, 0x01),
    f_replay = ProtoField.bool("cardlink.flags.replay", "REPLAY", 8, nil, 0x02),
    f_ref   = ProtoField.bool("cardlink.flags.ref", "REF", 8, nil, 0x04),
    f_res   = ProtoField.uint8("cardlink.flags.reserved", "Reserved", base.HEX, nil, 0xF8),
    seq     = ProtoField.uint8("cardlink.seq", "Sequence number", base.DEC),
    ack     = ProtoField.uint8("cardlink.ack", "Acknowledged", base.DEC),
    ref     = ProtoField.uint8("cardlink.ref", "Answers request", base.DEC),
    length  = ProtoField.uint16("cardlink.length", "Body length", base.DEC),
    name    = ProtoField.string("cardlink.name", "Message"),
    unknown = ProtoField.bytes("cardlink.unknown", "Unknown field", base.SPACE),
    tag     = ProtoField.uint16("cardlink.tag", "Tag", base.HEX),
    -- APDU (command) and response parts, shared by every apdu/rapdu field
    cla     = ProtoField.uint8("cardlink.apdu.cla", "CLA", base.HEX),
    ins     = ProtoField.uint8("cardlink.apdu.ins", "INS", base.HEX, ins_names),
    p1      = ProtoField.uint8("cardlink.apdu.p1", "P1", base.HEX),
    p2      = ProtoField.uint8("cardlink.apdu.p2", "P2", base.HEX),
    lc      = ProtoField.uint16("cardlink.apdu.lc", "Lc", base.DEC),
    cdata   = ProtoField.bytes("cardlink.apdu.data", "Command data", base.SPACE),
    le      = ProtoField.uint32("cardlink.apdu.le", "Le", base.DEC),
    case    = ProtoField.string("cardlink.apdu.case", "Case"),
    rdata   = ProtoField.bytes("cardlink.rapdu.data", "Response data", base.SPACE),
    sw      = ProtoField.uint16("cardlink.rapdu.sw", "SW1 SW2", base.HEX),
}

local ex = {
    malformed = ProtoExpert.new("cardlink.malformed", "Malformed cardlink message",
        expert.group.MALFORMED, expert.severity.ERROR),
    unknown = ProtoExpert.new("cardlink.unknown_field", "Unknown field",
        expert.group.UNDECODED, expert.severity.WARN),
    crc = ProtoExpert.new("cardlink_lossy.bad_crc", "Bad CRC: the frame is dropped",
        expert.group.CHECKSUM, expert.severity.ERROR),
    dropped = ProtoExpert.new("cardlink_lossy.dropped", "Frame dropped by the receiver",
        expert.group.MALFORMED, expert.severity.WARN),
}

-- ------------------------------------------------------------ body fields
-- A field spec: { tag, key, label, kind, extra }. kinds:
--   u8 (extra: value names), u16, u32, bits8/bits16 (extra: { {mask, name}, ... }),
--   bytes, text, txnid, atr, apdu, rapdu, sw, err, pair (extra: {a, b}),
--   maxapdu, expect, versions, hdr4, cons (extra: spec list), steps,
--   responses.

local pin_fields = {
    { 0x80, "template", "Template", "apdu" },
    { 0x81, "encoding", "Encoding", "u8", { [1] = "BCD", [2] = "ASCII", [3] = "ISO 9564 format 2" } },
    { 0x82, "length", "PIN length", "pair", { "min", "max" } },
    { 0x83, "pin_offset", "PIN offset", "u8" },
    { 0x84, "length_offset", "Length offset", "u8" },
    { 0x85, "timeout", "Timeout (s)", "u8" },
    { 0x86, "message", "Message index", "u8",
      { [0] = "Enter PIN", [1] = "Enter new PIN", [2] = "Confirm new PIN" } },
    { 0x87, "new_pin_offset", "New PIN offset", "u8" },
    { 0x88, "confirm", "Confirm", "u8", { [0] = "once", [1] = "twice" } },
}
local pin_result_fields = {
    { 0x80, "sw", "SW", "sw" },
    { 0x81, "error", "Error", "err" },
}

local specs = {
    [0x01] = { "hello", {
        { 0x80, "versions", "Versions", "versions" },
        { 0x81, "device_id", "Device id", "bytes" },
        { 0xA2, "cap", "Capabilities", "cons", { "capabilities", {
            { 0x80, "interfaces", "Card interfaces", "bits8",
              { { 0x01, "contact T=0" }, { 0x02, "contact T=1" }, { 0x04, "contactless" },
                { 0x08, "APDU-level reader" } } },
            { 0x81, "display", "Display", "pair", { "columns", "rows" } },
            { 0x82, "input", "Input", "bits8",
              { { 0x01, "numeric keypad" }, { 0x02, "PIN pad" }, { 0x04, "confirm/cancel keys" },
                { 0x08, "alphanumeric keys" } } },
            { 0x83, "printer", "Printer columns", "u8" },
            { 0x84, "max_message", "Max message", "u16" },
            { 0x85, "max_apdu", "Max APDU", "pair16", { "command", "response" } },
            { 0x86, "features", "Features", "bits16",
              { { 0x0001, "SCRIPT" }, { 0x0002, "DISPLAY" }, { 0x0004, "PROMPT" },
                { 0x0008, "PIN-VERIFY" }, { 0x0010, "PIN-CHANGE" }, { 0x0020, "TXN-APPROVE" },
                { 0x0040, "CARD-RESET" }, { 0x0080, "RESUME" } } },
            { 0x87, "script_steps", "Script steps", "u8" },
        } } },
        { 0x83, "resume_token", "Resume token", "bytes" },
        { 0x90, "software", "Software", "text" },
    } },
    [0x02] = { "hello_ack", {
        { 0x80, "version", "Version", "u8" },
        { 0x81, "resume_token", "Resume token", "bytes" },
        { 0x82, "flags", "Flags", "bits8", { { 0x01, "RESUMED" } } },
        { 0x83, "keepalive", "Keep-alive (s)", "u16" },
        { 0x84, "max_message", "Max message", "u16" },
        { 0x90, "server_text", "Server text", "text" },
    } },
    [0x03] = { "keepalive", {} },
    [0x04] = { "close", {
        { 0x80, "reason", "Reason", "err" },
        { 0x90, "text", "Text", "text" },
    } },
    [0x10] = { "error", {
        { 0x80, "code", "Code", "err" },
        { 0x90, "text", "Text", "text" },
    } },
    [0x20] = { "apdu", {
        { 0x80, "command", "Command", "apdu" },
        { 0x81, "txn_id", "Transaction id", "txnid" },
    } },
    [0x21] = { "apdu_response", {
        { 0x80, "response", "Response", "rapdu" },
    } },
    [0x22] = { "script", {
        { 0x80, "options", "Options", "bits8", { { 0x01, "CONTINUE" } } },
        { 0x81, "txn_id", "Transaction id", "txnid" },
        { 0xA2, "steps", "Steps", "steps", {
            { 0x80, "command", "Command", "apdu" },
            { 0x81, "expect", "Expect", "expect" },
            { 0x82, "step_options", "Step options", "bits8", { { 0x01, "SW-ONLY" } } },
        } },
    } },
    [0x23] = { "script_result", {
        { 0x80, "mismatch", "First mismatch at step", "u8" },
        { 0x81, "error", "Error", "err" },
        { 0xA2, "responses", "Responses", "responses", {
            { 0x80, "response", "Response", "rapdu" },
        } },
    } },
    [0x24] = { "display", {
        { 0x80, "text", "Text", "text" },
        { 0x81, "duration", "Duration (s)", "u8" },
    } },
    [0x25] = { "display_done", {} },
    [0x26] = { "prompt", {
        { 0x80, "kind", "Kind", "u8", { [1] = "TEXT", [2] = "NUMERIC", [3] = "YES/NO" } },
        { 0x81, "text", "Text", "text" },
        { 0x82, "length", "Entry length", "pair", { "min", "max" } },
        { 0x83, "timeout", "Timeout (s)", "u8" },
    } },
    [0x27] = { "prompt_answer", {
        { 0x80, "result", "Result", "u8", { [0] = "OK", [1] = "NO", [2] = "CANCELLED", [3] = "TIMEOUT" } },
        { 0x81, "value", "Value", "text" },
    } },
    [0x28] = { "pin", pin_fields },
    [0x29] = { "pin_result", pin_result_fields },
    [0x2A] = { "pin", pin_fields },
    [0x2B] = { "pin_result", pin_result_fields },
    [0x2C] = { "txn_approve", {
        { 0x80, "txn_id", "Transaction id", "txnid" },
        { 0x81, "transaction", "Transaction", "bytes" },
        { 0x82, "challenge", "Challenge", "bytes" },
        { 0xA3, "pin_template", "PIN template", "cons", { "pin", pin_fields } },
        { 0x84, "sign_command", "Sign command", "hdr4" },
        { 0x85, "digest", "Digest", "u8", { [1] = "SHA-256", [2] = "SHA-384" } },
    } },
    [0x2D] = { "txn_result", {
        { 0x80, "txn_id", "Transaction id", "txnid" },
        { 0x81, "result", "Result", "u8", { [0] = "APPROVED", [1] = "DECLINED", [2] = "FAILED" } },
        { 0x82, "signature", "Signature", "bytes" },
        { 0x83, "sw", "SW", "sw" },
        { 0x84, "error", "Error", "err" },
    } },
    [0x2E] = { "card_reset", {
        { 0x80, "mode", "Mode", "u8", { [0] = "WARM", [1] = "COLD" } },
    } },
    [0x2F] = { "card_reset_result", {
        { 0x80, "atr", "ATR", "bytes" },
        { 0x81, "protocol", "Protocol", "u8", protocol_names },
        { 0x82, "error", "Error", "err" },
    } },
    [0x30] = { "card_inserted", {
        { 0x80, "atr", "ATR", "bytes" },
        { 0x81, "protocol", "Protocol", "u8", protocol_names },
    } },
    [0x31] = { "card_removed", {} },
    [0x32] = { "reader_status", {
        { 0x80, "status", "Status", "bits8",
          { { 0x01, "CARD-PRESENT" }, { 0x02, "POWERED" }, { 0x04, "FAULT" }, { 0x08, "TAMPER" },
            { 0x10, "LOW-POWER" } } },
    } },    [0x40] = { "actuate", {
        { 0x80, "txn_id", "Transaction id", "txnid" },
        { 0x81, "action", "Action", "u16" },
        { 0x82, "device_id", "Device id", "bytes" },
        { 0x83, "nonce", "Nonce", "bytes" },
        { 0x84, "not_before", "Not before (s since 1970)", "u32" },
        { 0x85, "not_after", "Not after (s since 1970)", "u32" },
        { 0x86, "signature", "Gate signature", "bytes" },
    } },
    [0x41] = { "actuate_result", {
        { 0x80, "txn_id", "Transaction id", "txnid" },
        { 0x81, "result", "Result", "u8",
          { [0] = "DONE", [1] = "EXPIRED", [2] = "NOT_YET_VALID", [3] = "REPLAYED",
            [4] = "BAD_SIGNATURE", [5] = "WRONG_DEVICE", [6] = "NO_ACTUATOR",
            [7] = "ACTUATOR_FAILED", [8] = "DENIED", [9] = "UNAVAILABLE" } },
    } },
}

-- Make the ProtoFields of a spec list under prefix (each spec gets .f and,
-- for the kinds with parts, .parts); a spec list shared by two messages
-- (PIN-VERIFY and PIN-CHANGE) is built once.
local built = {}
local function build(prefix, list)
    if built[list] then return end
    built[list] = true
    for _, s in ipairs(list) do
        local tag, key, label, kind, extra = s[1], s[2], s[3], s[4], s[5]
        local abbr = "cardlink." .. prefix .. "." .. key
        if kind == "u8" then
            s.f = ProtoField.uint8(abbr, label, base.DEC, extra)
        elseif kind == "u16" then
            s.f = ProtoField.uint16(abbr, label, base.DEC)
        elseif kind == "u32" then
            s.f = ProtoField.uint32(abbr, label, base.DEC)
        elseif kind == "err" then
            s.f = ProtoField.uint8(abbr, label, base.HEX, err_names)
        elseif kind == "sw" then
            s.f = ProtoField.uint16(abbr, label, base.HEX)
        elseif kind == "bits8" or kind == "bits16" then
            local bits = kind == "bits8" and 8 or 16
            s.f = (bits == 8 and ProtoField.uint8 or ProtoField.uint16)(abbr, label, base.HEX)
            s.parts = {}
            for _, b in ipairs(extra) do
                local bkey = b[2]:lower():gsub("[^%w]+", "_"):gsub("_$", "")
                s.parts[#s.parts + 1] = ProtoField.bool(abbr .. "." .. bkey, b[2], bits, nil, b[1])
            end
        elseif kind == "pair" then
            s.f = ProtoField.bytes(abbr, label, base.SPACE)
            s.parts = { ProtoField.uint8(abbr .. "." .. extra[1], extra[1], base.DEC),
                        ProtoField.uint8(abbr .. "." .. extra[2], extra[2], base.DEC) }
        elseif kind == "pair16" then
            s.f = ProtoField.bytes(abbr, label, base.SPACE)
            s.parts = { ProtoField.uint16(abbr .. "." .. extra[1], extra[1], base.DEC),
                        ProtoField.uint16(abbr .. "." .. extra[2], extra[2], base.DEC) }
        elseif kind == "expect" then
            s.f = ProtoField.bytes(abbr, label, base.SPACE)
            s.parts = { ProtoField.uint16(abbr .. ".sw", "Status word", base.HEX),
                        ProtoField.uint16(abbr .. ".mask", "Mask", base.HEX) }
        elseif kind == "versions" then
            s.f = ProtoField.bytes(abbr, label, base.SPACE)
            s.parts = { ProtoField.uint8(abbr .. ".version", "Version", base.DEC) }
        elseif kind == "text" then
            s.f = ProtoField.string(abbr, label)
        elseif kind == "cons" then
            s.f = ProtoField.bytes(abbr, label, base.SPACE)
            build(extra[1], extra[2])
        elseif kind == "steps" or kind == "responses" then
            s.f = ProtoField.bytes(abbr, label, base.SPACE)
            s.parts = { ProtoField.uint8(abbr .. ".index", kind == "steps" and "Step" or "Response", base.DEC) }
            build(prefix, extra)
        else -- bytes, txnid, apdu, rapdu, hdr4
            s.f = ProtoField.bytes(abbr, label, base.SPACE)
        end
    end
end

local all_fields = {}
for _, f in pairs(hf) do all_fields[#all_fields + 1] = f end
for t = 0, 255 do
    local sp = specs[t]
    if sp then build(sp[1], sp[2]) end
end
for list, _ in pairs(built) do
    for _, s in ipairs(list) do
        all_fields[#all_fields + 1] = s.f
        for _, p in ipairs(s.parts or {}) do all_fields[#all_fields + 1] = p end
    end
end
cardlink.fields = all_fields
cardlink.experts = { ex.malformed, ex.unknown }

-- ------------------------------------------------------------ BER-TLV

-- Reads one field at off (relative to tvb) within [off, stop). Returns
-- tag, tag_len + len_len (header size), value length, or nil and a message.
local function read_tlv(tvb, off, stop)
    if off >= stop then return nil, "missing tag" end
    local tag = tvb(off, 1):uint()
    local hl = 1
    if bit32.band(tag, 0x1F) == 0x1F then
        if off + 1 >= stop then return nil, "truncated tag" end
        tag = tag * 256 + tvb(off + 1, 1):uint()
        hl = 2
    end
    if off + hl >= stop then return nil, "missing length" end
    local l = tvb(off + hl, 1):uint()
    hl = hl + 1
    if l == 0x80 then return nil, "indefinite length" end
    if l == 0x81 or l == 0x82 then
        local n = l - 0x80
        if off + hl + n > stop then return nil, "truncated length" end
        l = tvb(off + hl, n):uint()
        hl = hl + n
    elseif l > 0x82 then
        return nil, "length form " .. string.format("%02X", l)
    end
    if off + hl + l > stop then return tag, hl, l, "value runs past the end" end
    return tag, hl, l
end

local function hexstr(range)
    local s = {}
    for i = 0, range:len() - 1 do s[#s + 1] = string.format("%02X", range(i, 1):uint()) end
    return table.concat(s, " ")
end

-- A command APDU's parts (ISO 7816-4 §5.1 cases).
local function add_apdu(t, r)
    local n = r:len()
    if n < 4 then t:add_proto_expert_info(ex.malformed, "APDU shorter than 4 bytes"); return end
    t:add(hf.cla, r(0, 1)); t:add(hf.ins, r(1, 1)); t:add(hf.p1, r(2, 1)); t:add(hf.p2, r(3, 1))
    local ins = r(1, 1):uint()
    local case, lc, lcw, le, lew
    if n == 4 then case = "1"
    elseif n == 5 then case, le, lew = "2 short", 4, 1
    else
        local b4 = r(4, 1):uint()
        if b4 ~= 0 then
            lc, lcw = 4, 1
            if n == 5 + b4 then case = "3 short"
            elseif n == 6 + b4 then case, le, lew = "4 short", n - 1, 1 end
        elseif n == 7 then case, le, lew = "2 extended", 4, 3
        elseif n > 7 then
            local elc = r(5, 2):uint()
            lc, lcw = 4, 3
            if n == 7 + elc then case = "3 extended"
            elseif n == 9 + elc then case, le, lew = "4 extended", n - 2, 2 end
        end
    end
    if not case then
        t:add_proto_expert_info(ex.malformed, "APDU length inconsistent with its bytes")
        return
    end
    t:add(hf.case, r(0, n), case)
    if lc then
        local lcv = r(lc, lcw):uint()
        t:add(hf.lc, r(lc, lcw), lcv)
        if lcv > 0 then t:add(hf.cdata, r(lc + lcw, lcv)) end
    end
    if le then
        local v = r(le, lew):uint()
        if v == 0 then v = (lew == 1) and 256 or 65536 end
        t:add(hf.le, r(le, lew), v)
    end
    t:append_text(" (" .. (ins_names[ins] or string.format("INS %02X", ins)) .. ")")
end

local function add_rapdu(t, r)
    local n = r:len()
    if n < 2 then t:add_proto_expert_info(ex.malformed, "response shorter than SW1 SW2"); return end
    if n > 2 then t:add(hf.rdata, r(0, n - 2)) end
    t:add(hf.sw, r(n - 2, 2))
    t:append_text(string.format(" (SW %04X)", r(n - 2, 2):uint()))
end

local dissect_fields

-- A bytes field over its value (an empty value: over its tag and length).
local function add_bytes(t, f, tlv, v)
    if v:len() > 0 then return t:add(f, v) end
    return t:add(f, tlv):set_text("(empty)")
end

-- Adds one known field s with value range v (whole TLV range tlv).
local function add_field(t, s, tlv, v, pinfo, path)
    local kind, extra = s[4], s[5]
    local n = v:len()
    local function need(ok, what)
        if not ok then t:add_proto_expert_info(ex.malformed, s[3] .. ": " .. what) end
        return ok
    end
    if kind == "u8" or kind == "err" then
        if not need(n == 1, "size must be 1") then return end
        t:add(s.f, tlv, v:uint())
    elseif kind == "u16" or kind == "sw" then
        if not need(n == 2, "size must be 2") then return end
        t:add(s.f, tlv, v:uint())
    elseif kind == "u32" then
        if not need(n == 4, "size must be 4") then return end
        t:add(s.f, tlv, v:uint())
    elseif kind == "bits8" or kind == "bits16" then
        local w = kind == "bits8" and 1 or 2
        if not need(n == w, "size must be " .. w) then return end
        local st = t:add(s.f, tlv, v:uint())
        local names = {}
        for i, p in ipairs(s.parts) do
            st:add(p, v)
            if bit32.band(v:uint(), extra[i][1]) ~= 0 then names[#names + 1] = extra[i][2] end
        end
        st:append_text(" (" .. (#names > 0 and table.concat(names, ", ") or "none") .. ")")
    elseif kind == "pair" or kind == "pair16" then
        local w = kind == "pair" and 1 or 2
        if not need(n == 2 * w, "size must be " .. 2 * w) then return end
        local st = add_bytes(t, s.f, tlv, v)
        st:add(s.parts[1], v(0, w)); st:add(s.parts[2], v(w, w))
        st:append_text(string.format(" (%s %d, %s %d)", extra[1], v(0, w):uint(), extra[2], v(w, w):uint()))
    elseif kind == "expect" then
        if not need(n == 2 or n == 4, "size must be 2 or 4") then return end
        local st = add_bytes(t, s.f, tlv, v)
        st:add(s.parts[1], v(0, 2))
        if n == 4 then
            st:add(s.parts[2], v(2, 2))
            st:append_text(string.format(" (SW AND %04X = %04X)", v(2, 2):uint(), v(0, 2):uint()))
        else
            st:append_text(string.format(" (exactly %04X)", v(0, 2):uint()))
        end
    elseif kind == "versions" then
        local st = add_bytes(t, s.f, tlv, v)
        for i = 0, n - 1 do st:add(s.parts[1], v(i, 1)) end
    elseif kind == "text" then
        t:add(s.f, tlv, n > 0 and v:string() or "")
    elseif kind == "apdu" then
        add_apdu(add_bytes(t, s.f, tlv, v), v)
    elseif kind == "rapdu" then
        add_rapdu(add_bytes(t, s.f, tlv, v), v)
    elseif kind == "hdr4" then
        local st = add_bytes(t, s.f, tlv, v)
        if need(n == 4, "size must be 4") then add_apdu(st, v) end
    elseif kind == "txnid" then
        need(n == 16, "a transaction id is 16 bytes")
        add_bytes(t, s.f, tlv, v)
    elseif kind == "cons" then
        local st = add_bytes(t, s.f, tlv, v)
        st:set_text(s[3])
        dissect_fields(v:tvb(), st, extra[2], pinfo, "list")
    elseif kind == "steps" or kind == "responses" then
        local st = add_bytes(t, s.f, tlv, v)
        st:set_text(s[3])
        dissect_fields(v:tvb(), st, extra, pinfo, kind)
    else
        add_bytes(t, s.f, tlv, v)
    end
end

-- Decodes the TLV fields of tvb with the spec list; mode "steps" and
-- "responses" group the fields into items, each starting with tag 80.
dissect_fields = function(tvb, tree, list, pinfo, mode)
    local bytag = {}
    for _, s in ipairs(list) do bytag[s[1]] = s end
    local off, stop = 0, tvb:len()
    local item_tree, index, item_start = tree, -1, 0
    while off < stop do
        local tag, hl, l, err = read_tlv(tvb, off, stop)
        if not tag then
            tree:add_proto_expert_info(ex.malformed, "body: " .. hl)
            return
        end
        if err then
            tree:add_proto_expert_info(ex.malformed, string.format("field %X: %s", tag, err))
            return
        end
        local tlv, v = tvb(off, hl + l), tvb(off + hl, l)
        local s = bytag[tag]
        if (mode == "steps" or mode == "responses") and tag == 0x80 then
            if index >= 0 then item_tree:set_len(off - item_start) end
            index = index + 1
            item_start = off
            item_tree = tree:add(list.index_field, tvb(off), index)
        end
        if s then
            add_field(item_tree, s, tlv, v, pinfo)
        else
            local num = tag < 0x100 and bit32.band(tag, 0x1F) or bit32.band(tag, 0xFF)
            local optional = bit32.band(num, 0x10) ~= 0
            local u = add_bytes(item_tree, hf.unknown, tlv, v)
            u:prepend_text(string.format("Tag %X: ", tag))
            u:add_proto_expert_info(ex.unknown, string.format("%s field %X",
                optional and "unknown optional (skipped)" or "unknown critical", tag))
        end
        off = off + hl + l
    end
    if index >= 0 then item_tree:set_len(off - item_start) end
end

-- The steps' and responses' index field (made in build as parts[1]).
for t = 0, 255 do
    local sp = specs[t]
    if sp then
        for _, s in ipairs(sp[2]) do
            if s[4] == "steps" or s[4] == "responses" then s[5].index_field = s.parts[1] end
        end
    end
end

-- ------------------------------------------------------------ one message

local info_frame, info_count, info_sep = -1, 0, " | "

-- The Info column lists every message (and frame) of a packet.
local function add_info(pinfo, text, sep_next)
    if info_frame ~= pinfo.number then
        info_frame, info_count = pinfo.number, 0
    end
    info_count = info_count + 1
    if info_count == 1 then
        pinfo.cols.info:set(text)
    else
        pinfo.cols.info:append(info_sep .. text)
    end
    info_sep = sep_next or " | "
end

-- Dissects one relay message (tvb holds it, from offset 0).
local function dissect_message(tvb, pinfo, tree)
    local n = tvb:len()
    pinfo.cols.protocol:set("CARDLINK")
    if n < 8 then
        local t = tree:add(cardlink, tvb(), "cardlink relay message (truncated header)")
        t:add_proto_expert_info(ex.malformed, "header shorter than 8 bytes")
        add_info(pinfo, "cardlink: truncated header")
        return n
    end
    local typ = tvb(1, 1):uint()
    local flags = tvb(2, 1):uint()
    local seq, ack, ref = tvb(3, 1):uint(), tvb(4, 1):uint(), tvb(5, 1):uint()
    local blen = tvb(6, 2):uint()
    local name = msg_names[typ] or string.format("type %02X", typ)
    local total = math.min(8 + blen, n)
    local t = tree:add(cardlink, tvb(0, total))
    local summary = name
    if typ >= 0x10 then summary = summary .. " seq=" .. seq end
    if bit32.band(flags, 1) ~= 0 then summary = summary .. " ack=" .. ack end
    if bit32.band(flags, 4) ~= 0 then summary = summary .. " ref=" .. ref end
    if bit32.band(flags, 2) ~= 0 then summary = summary .. " REPLAY" end
    t:append_text(", " .. summary)
    t:add(hf.name, tvb(1, 1), name):set_generated()
    local mv = tvb(0, 1):uint()
    t:add(hf.magic, tvb(0, 1))
    t:add(hf.format, tvb(0, 1))
    if bit32.rshift(mv, 4) ~= 0xC then
        t:add_proto_expert_info(ex.malformed, "byte 0: not a cardlink message (magic is not C)")
    elseif bit32.band(mv, 0x0F) ~= 1 then
        t:add_proto_expert_info(ex.malformed, "byte 0: unknown header format")
    end
    t:add(hf.type, tvb(1, 1))
    local ft = t:add(hf.flags, tvb(2, 1))
    ft:add(hf.f_ack, tvb(2, 1)); ft:add(hf.f_replay, tvb(2, 1)); ft:add(hf.f_ref, tvb(2, 1))
    ft:add(hf.f_res, tvb(2, 1))
    local fnames = {}
    if bit32.band(flags, 1) ~= 0 then fnames[#fnames + 1] = "ACK" end
    if bit32.band(flags, 2) ~= 0 then fnames[#fnames + 1] = "REPLAY" end
    if bit32.band(flags, 4) ~= 0 then fnames[#fnames + 1] = "REF" end
    ft:append_text(" (" .. (#fnames > 0 and table.concat(fnames, ", ") or "none") .. ")")
    if bit32.band(flags, 0xF8) ~= 0 then
        ft:add_proto_expert_info(ex.malformed, "reserved flag bits set")
    end
    t:add(hf.seq, tvb(3, 1))
    t:add(hf.ack, tvb(4, 1))
    t:add(hf.ref, tvb(5, 1))
    t:add(hf.length, tvb(6, 2))
    local info = summary
    if 8 + blen > n then
        t:add_proto_expert_info(ex.malformed, string.format("body truncated: %d of %d bytes", n - 8, blen))
    elseif blen > 0 then
        local sp = specs[typ]
        if sp then
            dissect_fields(tvb(8, blen):tvb(), t, sp[2], pinfo, "message")
        else
            t:add(hf.unknown, tvb(8, blen))
            t:add_proto_expert_info(ex.unknown, "unknown message type")
        end
        -- a short detail for the Info column
        if (typ == 0x10 or typ == 0x04) and blen >= 3 and tvb(8, 1):uint() == 0x80 then
            local c = tvb(10, 1):uint()
            info = info .. " " .. (err_names[c] or string.format("%02X", c))
        end
    end
    add_info(pinfo, info)
    return total
end

-- ------------------------------------------------------------ TCP (§12)

local default_tcp_port = 7817
cardlink.prefs.tcp_port = Pref.uint("TCP port", default_tcp_port,
    "TCP port of the relay protocol (0: only the heuristic and Decode As)")
cardlink.prefs.heuristic = Pref.bool("Try heuristic on any TCP port", true,
    "Decode TCP payloads that start with a cardlink header (C1, a known type, reserved flags 0)")

local function pdu_len(tvb, pinfo, off)
    return 8 + tvb(off + 6, 2):uint()
end

function cardlink.dissector(tvb, pinfo, tree)
    dissect_tcp_pdus(tvb, tree, 8, pdu_len, dissect_message, true)
    return tvb:len()
end

local function looks_like_cardlink(tvb)
    if tvb:len() < 8 then return false end
    if tvb(0, 1):uint() ~= 0xC1 then return false end
    if not msg_names[tvb(1, 1):uint()] then return false end
    local flags = tvb(2, 1):uint()
    if bit32.band(flags, 0xF8) ~= 0 then return false end
    if bit32.band(flags, 1) == 0 and tvb(4, 1):uint() ~= 0 then return false end
    if bit32.band(flags, 4) == 0 and tvb(5, 1):uint() ~= 0 then return false end
    if tvb(1, 1):uint() < 0x10 and tvb(3, 1):uint() ~= 0 then return false end
    return true
end

local function heuristic(tvb, pinfo, tree)
    if not cardlink.prefs.heuristic or not looks_like_cardlink(tvb) then return false end
    pinfo.conversation = cardlink
    cardlink.dissector(tvb, pinfo, tree)
    return true
end

local tcp_table = DissectorTable.get("tcp.port")
local registered_tcp = 0
local function register_tcp()
    if registered_tcp ~= 0 then tcp_table:remove(registered_tcp, cardlink) end
    registered_tcp = cardlink.prefs.tcp_port
    if registered_tcp ~= 0 then tcp_table:add(registered_tcp, cardlink) end
end
register_tcp()
cardlink:register_heuristic("tcp", heuristic)

-- ------------------------------------------------------------ lossy (§13)

local lf = {
    frame   = ProtoField.bytes("cardlink_lossy.frame", "Frame", base.SPACE),
    ctl     = ProtoField.uint8("cardlink_lossy.ctl", "Control", base.HEX),
    c_data  = ProtoField.bool("cardlink_lossy.ctl.data", "DATA", 8, nil, 0x01),
    c_ack   = ProtoField.bool("cardlink_lossy.ctl.ack", "ACK", 8, nil, 0x02),
    c_res   = ProtoField.uint8("cardlink_lossy.ctl.reserved", "Reserved", base.HEX, nil, 0xFC),
    epochs  = ProtoField.uint8("cardlink_lossy.epochs", "Epochs", base.HEX),
    e_send  = ProtoField.uint8("cardlink_lossy.epoch.sender", "Sender epoch", base.DEC, nil, 0xF0),
    e_peer  = ProtoField.uint8("cardlink_lossy.epoch.acked", "Acknowledged epoch", base.DEC, nil, 0x0F),
    seq     = ProtoField.uint8("cardlink_lossy.seq", "Link sequence number", base.DEC),
    ack     = ProtoField.uint8("cardlink_lossy.ack", "Link acknowledged", base.DEC),
    payload = ProtoField.bytes("cardlink_lossy.payload", "Payload", base.SPACE),
    crc     = ProtoField.uint16("cardlink_lossy.crc", "CRC-16/MCRF4XX", base.HEX),
    crc_st  = ProtoField.string("cardlink_lossy.crc.status", "CRC status"),
    escaped = ProtoField.uint16("cardlink_lossy.escaped", "Escaped bytes", base.DEC),
}
local lf_list = {}
for _, f in pairs(lf) do lf_list[#lf_list + 1] = f end
lossy.fields = lf_list
lossy.experts = { ex.crc, ex.dropped }

local function crc16(bytes, n)
    local crc = 0xFFFF
    for i = 0, n - 1 do
        crc = bit32.bxor(crc, bytes:get_index(i))
        for _ = 1, 8 do
            if bit32.band(crc, 1) ~= 0 then
                crc = bit32.bxor(bit32.rshift(crc, 1), 0x8408)
            else
                crc = bit32.rshift(crc, 1)
            end
        end
    end
    return crc
end

-- One frame's content (between flags), tvb range r.
local function dissect_frame(r, pinfo, tree)
    local raw = r:bytes()
    local out = ByteArray.new()
    out:set_size(raw:len())
    local n, i, escapes, abort = 0, 0, 0, false
    while i < raw:len() do
        local b = raw:get_index(i)
        if b == 0x7D then
            local nb = i + 1 < raw:len() and raw:get_index(i + 1) or 0x7E
            if nb == 0x7E or nb == 0x7D then abort = true; break end
            b = bit32.bxor(nb, 0x20)
            i = i + 1
            escapes = escapes + 1
        end
        out:set_index(n, b)
        n = n + 1
        i = i + 1
    end
    out:set_size(n)
    local t = tree:add(lossy, r)
    if abort then
        t:append_text(", aborted (7D before a flag or 7D)")
        t:add_proto_expert_info(ex.dropped, "abort sequence: frame dropped")
        add_info(pinfo, "lossy frame aborted")
        return
    end
    if n < 6 then
        t:append_text(", too short")
        t:add_proto_expert_info(ex.dropped, "content shorter than 6 bytes: frame dropped")
        add_info(pinfo, "lossy frame too short")
        return
    end
    local ut = out:tvb(escapes > 0 and "Unescaped lossy frame" or "Lossy frame")
    if escapes > 0 then t:add(lf.escaped, r, escapes):set_generated() end
    local ctl, ep, seq, ack = ut(0, 1):uint(), ut(1, 1):uint(), ut(2, 1):uint(), ut(3, 1):uint()
    local ct = t:add(lf.ctl, ut(0, 1))
    ct:add(lf.c_data, ut(0, 1)); ct:add(lf.c_ack, ut(0, 1)); ct:add(lf.c_res, ut(0, 1))
    local cn = {}
    if bit32.band(ctl, 1) ~= 0 then cn[#cn + 1] = "DATA" end
    if bit32.band(ctl, 2) ~= 0 then cn[#cn + 1] = "ACK" end
    ct:append_text(" (" .. (#cn > 0 and table.concat(cn, "+") or "none") .. ")")
    local et = t:add(lf.epochs, ut(1, 1))
    et:add(lf.e_send, ut(1, 1)); et:add(lf.e_peer, ut(1, 1))
    t:add(lf.seq, ut(2, 1))
    t:add(lf.ack, ut(3, 1))
    local plen = n - 6
    local want = crc16(out, n - 2)
    local got = ut(n - 2, 2):le_uint()
    local summary = "lossy " .. table.concat(cn, "+")
    summary = summary .. string.format(" epoch=%d", bit32.rshift(ep, 4))
    if bit32.band(ctl, 1) ~= 0 then summary = summary .. " seq=" .. seq end
    if bit32.band(ctl, 2) ~= 0 then
        summary = summary .. string.format(" ack=%d/%d", ack, bit32.band(ep, 0x0F))
    end
    t:append_text(", " .. summary)
    local crct = t:add_le(lf.crc, ut(n - 2, 2))
    local drop
    if got == want then
        crct:add(lf.crc_st, ut(n - 2, 2), "Good"):set_generated()
    else
        crct:add(lf.crc_st, ut(n - 2, 2), "Bad"):set_generated()
        crct:append_text(string.format(" [should be %04X]", want))
        crct:add_proto_expert_info(ex.crc)
        drop = "bad CRC"
    end
    if bit32.band(ctl, 0xFC) ~= 0 then drop = drop or "reserved ctl bit"
    elseif bit32.band(ctl, 3) == 0 then drop = drop or "neither DATA nor ACK"
    elseif (bit32.band(ctl, 1) ~= 0) ~= (plen > 0) then drop = drop or "DATA and payload disagree"
    elseif bit32.band(ctl, 1) == 0 and seq ~= 0 then drop = drop or "seq without DATA"
    elseif bit32.band(ctl, 2) == 0 and (ack ~= 0 or bit32.band(ep, 0x0F) ~= 0) then
        drop = drop or "ack without ACK"
    end
    if drop and drop ~= "bad CRC" then
        t:add_proto_expert_info(ex.dropped, drop .. ": frame dropped")
    end
    if drop then summary = summary .. " [" .. drop .. "]" end
    if plen > 0 then
        t:add(lf.payload, ut(4, plen))
        add_info(pinfo, summary, ": ")
        dissect_message(ut(4, plen):tvb(), pinfo, tree)
        pinfo.cols.protocol:set("CARDLINK-LOSSY")
    else
        add_info(pinfo, summary)
    end
end

-- Splits tvb into frames at the 7E flags. Returns the bytes consumed: a
-- frame with no closing flag yet is left for the next segment on TCP.
function lossy.dissector(tvb, pinfo, tree)
    pinfo.cols.protocol:set("CARDLINK-LOSSY")
    local n = tvb:len()
    local i = 0
    while i < n and tvb(i, 1):uint() ~= 0x7E do i = i + 1 end   -- bytes before the first flag
    while i < n do
        local j = i + 1
        while j < n and tvb(j, 1):uint() ~= 0x7E do j = j + 1 end
        if j >= n then
            if pinfo.can_desegment > 0 then
                pinfo.desegment_offset = i
                pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
                return n
            end
            if j > i + 1 then
                local t = tree:add(lossy, tvb(i), "cardlink lossy frame (no closing flag)")
                t:add_proto_expert_info(ex.dropped, "no closing flag")
            end
            return n
        end
        if j > i + 1 then dissect_frame(tvb(i + 1, j - i - 1), pinfo, tree) end
        i = j   -- a flag may be shared between two frames
        if i + 1 == n then break end
    end
    return n
end

local default_udp_port = 7818
lossy.prefs.udp_port = Pref.uint("UDP port", default_udp_port,
    "UDP port carrying lossy-link frames (0: Decode As only)")
local udp_table = DissectorTable.get("udp.port")
local registered_udp = 0
local function register_udp()
    if registered_udp ~= 0 then udp_table:remove(registered_udp, lossy) end
    registered_udp = lossy.prefs.udp_port
    if registered_udp ~= 0 then udp_table:add(registered_udp, lossy) end
end
register_udp()
tcp_table:add_for_decode_as(lossy)

function cardlink.prefs_changed() register_tcp() end
function lossy.prefs_changed() register_udp() end
