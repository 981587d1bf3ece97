#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEddySupport

/// Needed member names laid out for cheap matching; a class so the scanner can reach the bytes
/// through stable pointers without copying per record.
final class FieldNameTable {
    let count: Int
    let bytes: UnsafeMutablePointer<UInt8>
    let starts: UnsafeMutablePointer<Int>
    let lengths: UnsafeMutablePointer<Int>

    init(_ names: [String]) {
        count = names.count
        let total = names.reduce(0) { $0 + $1.utf8.count }
        bytes = .allocate(capacity: max(total, 1))
        starts = .allocate(capacity: max(count, 1))
        lengths = .allocate(capacity: max(count, 1))
        var at = 0
        for (k, name) in names.enumerated() {
            starts[k] = at
            lengths[k] = name.utf8.count
            for b in name.utf8 { bytes[at] = b; at &+= 1 }
        }
    }

    deinit {
        bytes.deallocate()
        starts.deallocate()
        lengths.deallocate()
    }

    /// The slot named exactly `p[0..<len]`, searching from `guess` first because records of
    /// one stream usually list members in the same order.
    @inline(__always)
    func slot(_ p: UnsafePointer<UInt8>, _ len: Int, guess: Int) -> Int {
        var s = guess
        for _ in 0..<count {
            if s >= count { s = 0 }
            if lengths[s] == len {
                let q = bytes + starts[s]
                if len == 0 || (q[0] == p[0] && sameBytes(q, p, len)) { return s }
            }
            s &+= 1
        }
        return -1
    }
}

/// Whether the `length` bytes at `a` and `b` are equal. Member names are short: whole words
/// beat a call to memcmp, and the last word overlaps the one before it instead of ending in
/// a byte loop (a quoted name and its colon are 4 to 16 bytes long, as a rule).
@inline(__always)
private func sameBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ length: Int) -> Bool {
    let a = UnsafeRawPointer(a)
    let b = UnsafeRawPointer(b)
    if length >= 8 {
        var k = 0
        while k &+ 8 < length {
            if a.loadUnaligned(fromByteOffset: k, as: UInt64.self) != b.loadUnaligned(fromByteOffset: k, as: UInt64.self) {
                return false
            }
            k &+= 8
        }
        return a.loadUnaligned(fromByteOffset: length &- 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: length &- 8, as: UInt64.self)
    }
    if length >= 4 {
        return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
            && a.loadUnaligned(fromByteOffset: length &- 4, as: UInt32.self) == b.loadUnaligned(fromByteOffset: length &- 4, as: UInt32.self)
    }
    var k = 0
    while k < length {
        if a.load(fromByteOffset: k, as: UInt8.self) != b.load(fromByteOffset: k, as: UInt8.self) { return false }
        k &+= 1
    }
    return true
}

/// The member names of the last record read, in order, each with the bytes before it: its
/// gap, from the end of the value before it (the record's start for the first member) to its
/// own value's first byte (`{` or `,`, the quoted name, the colon and any blanks between),
/// with the slot it names (-1 for a member the job does not need).
///
/// The same bytes at the same place in the next record lex the same way (the separator, a
/// name token, the colon), so a match gives the slot without scanning the name or searching
/// the table: ~100 instructions a member. Taking in the separator and the blanks too, one
/// match stands for the tests of each byte between two values (~65 instructions an event on
/// the card job). A member that does not match is scanned as usual and replaces the layout
/// from there on. A gap holds no newline (`learn`), so a match never runs into the next line.
final class MemberLayout {
    private var bytes: UnsafeMutablePointer<UInt8>
    private var byteCapacity = 256
    /// Per member: where its bytes start in `bytes`, their length, its slot; and for the
    /// members up to it, the bits of the slots below 64 they name and the last slot named
    /// (-1 for none). `scanLaidOut` reads these once a record: tracked per member, they
    /// were two more values in registers it has none left for (~30 instructions an event).
    private var entries: UnsafeMutablePointer<(start: Int, length: Int, slot: Int, seen: UInt64, lastSlot: Int)>
    /// Per member: for one of at most 16 bytes, its bytes as two words (in memory in their
    /// order), zero past its length, and a bit per byte it has (`eddy_same_prefix_16`); its
    /// length and slot (see `match`); and `entries`' bits and last slot through it, which
    /// `scanLaidOut` reads from the last member's entry (found through `entries`, its index
    /// was a division by the entry's size). One entry a member: read from two tables, they took two base
    /// pointers and two indices a member. After the last member's, one that matches nothing
    /// (`unmatched`).
    private var words: UnsafeMutablePointer<Word>
    private(set) var count = 0
    private static let maxMembers = 64

    typealias Word = (
        low: UInt64, high: UInt64, byteBits: UInt64, length: Int, slot: Int, seen: UInt64, lastSlot: Int
    )
    /// Longer than any record: no bytes match it.
    private static let unmatched: Word = (0, 0, 0, Int.max, -1, 0, -1)

    init() {
        bytes = .allocate(capacity: byteCapacity)
        entries = .allocate(capacity: Self.maxMembers)
        words = .allocate(capacity: Self.maxMembers + 1)
        words[0] = Self.unmatched
    }

    deinit {
        bytes.deallocate()
        entries.deallocate()
        words.deallocate()
    }


    /// The first member's entry for `match(at:)`; the next member's is the one after it, and
    /// the entry after the last member's matches nothing, so a reader walks them with one
    /// pointer (`scanLaidOut`, where a member index and the count to test it against took
    /// two registers, and spills, per member).
    @inline(__always) var firstWord: UnsafePointer<Word> { UnsafePointer(words) }

    /// The member whose entry is `word`.
    @inline(__always) func member(at word: UnsafePointer<Word>) -> Int { word - UnsafePointer(words) }

    /// The length and slot of member `member` when the `available` bytes at `p` start with
    /// its bytes, else nil.
    @inline(__always)
    func match(_ member: Int, _ p: UnsafePointer<UInt8>, _ available: Int) -> (length: Int, slot: Int)? {
        match(at: words + member, p, available)
    }

    /// `match` for the member whose entry is `entry` (from `firstWord`); `padded` when 16
    /// bytes can be read at `p` whatever `available` is (`ZeroPaddedBytes`: a name has no
    /// zero byte, so none matches past the bytes available).
    @inline(__always)
    func match(
        at entry: UnsafePointer<Word>, _ p: UnsafePointer<UInt8>, _ available: Int, padded: Bool = false
    ) -> (length: Int, slot: Int)? {
        let word = entry.pointee
        if (padded || available >= 16) && word.length <= 16 {
            // A gap is rarely longer than 16 bytes, and a record has more bytes after it: one
            // 16-byte compare, no loop over the length (~15 instructions a member less than
            // `sameBytes`), its bytes read in place from the entry's first two words.
            let same = eddy_same_prefix_16(UnsafeRawPointer(p), UnsafeRawPointer(entry), UInt32(truncatingIfNeeded: word.byteBits))
            return same ? (word.length, word.slot) : nil
        }
        guard word.length <= available, sameBytes(p, bytes + entries[member(at: entry)].start, word.length) else { return nil }
        return (word.length, word.slot)
    }

    /// Records that member `member` of the record being read has the gap of `length` bytes
    /// at `p`, naming `slot`; the members after it are forgotten.
    func learn(_ member: Int, _ p: UnsafePointer<UInt8>, _ length: Int, slot: Int) {
        guard member < Self.maxMembers, member <= count else { return }
        // A record read on its own may hold newlines between its tokens; `scanLaidOut` must
        // not match one, or it would read on into the next line of a buffer.
        guard memchr(p, 10, length) == nil else {
            count = member
            words[member] = Self.unmatched
            return
        }
        let start = member == 0 ? 0 : entries[member - 1].start + entries[member - 1].length
        if start + length > byteCapacity {
            // An unusually long name: layouts that do not fit are simply not remembered.
            guard start + length <= 1 << 16 else {
                count = member
                words[member] = Self.unmatched
                return
            }
            let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: max(byteCapacity * 2, start + length))
            larger.update(from: bytes, count: start)
            bytes.deallocate()
            bytes = larger
            byteCapacity = max(byteCapacity * 2, start + length)
        }
        (bytes + start).update(from: p, count: length)
        var packed: Word = (0, 0, 0, length, slot, 0, -1)
        if length <= 16 {
            packed.byteBits = (1 << UInt64(length)) &- 1
            for k in 0..<length {
                if k < 8 {
                    packed.low |= UInt64(p[k]) << UInt64(8 * k)
                } else {
                    packed.high |= UInt64(p[k]) << UInt64(8 * (k - 8))
                }
            }
        }
        let seenBefore: UInt64 = member == 0 ? 0 : entries[member - 1].seen
        let lastSlotBefore = member == 0 ? -1 : entries[member - 1].lastSlot
        let bit: UInt64 = slot >= 0 && slot < 64 ? 1 << UInt64(slot) : 0
        entries[member] = (start, length, slot, seenBefore | bit, slot >= 0 ? slot : lastSlotBefore)
        // In memory, the bytes in their order (`match` compares them in place).
        packed.low = packed.low.littleEndian
        packed.high = packed.high.littleEndian
        packed.seen = entries[member].seen
        packed.lastSlot = entries[member].lastSlot
        words[member] = packed
        words[member + 1] = Self.unmatched
        count = member + 1
    }
}

/// A position in one record; all parse errors leave through typed throws so the success path
/// carries no error plumbing and nothing is allocated unless a record is bad. Positions move
/// with wrapping arithmetic (`&+=`): they stay within one record, and the overflow check of
/// every step was a branch per byte.
struct JSONCursor {
    let p: UnsafePointer<UInt8>
    let n: Int
    var i = 0

    static let maxDepth = 512

    @inline(__always)
    func fail(_ at: Int, _ message: String) -> RecordProblem {
        RecordProblem(offset: at, message: message)
    }

    @inline(always)
    mutating func skipWhitespace() {
        // Compact JSON has none: test the common case before looping.
        guard i < n, p[i] <= 0x20 else { return }
        var j = i
        while j < n {
            let b = p[j]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { break }
            j &+= 1
        }
        i = j
    }

    /// The byte at `i` after any whitespace (moving `i` past it), nil at the end of the
    /// record: one bounds check where `skipWhitespace` and a read after it made two.
    @inline(always)
    mutating func nextByte() -> UInt8? {
        guard i < n else { return nil }
        let b = p[i]
        if b > 0x20 { return b }
        skipWhitespace()
        return i < n ? p[i] : nil
    }

    /// `skipWhitespace` within one line: a newline is not skipped but left for the caller to
    /// refuse, so that a record read from a buffer of lines (`JSONObjectScanner.scanLine`)
    /// never runs into the next line. A record split at its newlines has none to meet.
    ///
    /// `padded`: the bytes are followed by a zero byte (`ZeroPaddedBytes`), which ends any
    /// run of blanks, so the first byte is read without testing `i` against `n` first.
    @inline(always)
    mutating func skipBlanksInLine(padded: Bool = false) {
        guard padded || i < n, p[i] <= 0x20 else { return }
        var j = i
        while padded || j < n {
            let b = p[j]
            guard b == 0x20 || b == 0x0D || b == 0x09 else { break }
            j &+= 1
        }
        i = j
    }

    /// `nextByte` within one line (see `skipBlanksInLine`, also for `padded`): a newline is
    /// returned as it is.
    @inline(always)
    mutating func nextByteInLine(padded: Bool = false) -> UInt8? {
        if !padded { guard i < n else { return nil } }
        let b = p[i]
        if b > 0x20 { return b }
        skipBlanksInLine()
        return i < n ? p[i] : nil
    }

    /// `i` is at the opening quote; leaves `i` after the closing quote. Returns the body range
    /// and whether it contains escapes.
    @inline(always)
    mutating func scanString() throws(RecordProblem) -> (start: Int, end: Int, escaped: Bool) {
        let open = i
        // A local index stays in a register; `i` is written back only around slow paths.
        var j = i + 1
        var escaped = false
        while true {
            // Eight bytes at a time: stop at the first quote, backslash, control or non-ASCII
            // byte (the lowest flagged byte of these bit tricks is always exact).
            while j + 8 <= n {
                let w = UnsafeRawPointer(p + j).loadUnaligned(as: UInt64.self)
                let ones: UInt64 = 0x0101_0101_0101_0101
                let high: UInt64 = 0x8080_8080_8080_8080
                let quote = w ^ (ones &* 0x22)
                let slash = w ^ (ones &* 0x5C)
                let flagged = (w | ((w &- ones &* 0x20) & ~w) | ((quote &- ones) & ~quote)
                    | ((slash &- ones) & ~slash)) & high
                if flagged != 0 {
                    j &+= flagged.trailingZeroBitCount >> 3
                    break
                }
                j &+= 8
            }
            while j < n {
                let b = p[j]
                if b == 0x22 || b == 0x5C || b < 0x20 || b >= 0x80 { break }
                j &+= 1
            }
            guard j < n else { i = j; throw fail(open, "unterminated string") }
            let b = p[j]
            if b == 0x22 {
                i = j + 1
                return (open + 1, j, escaped)
            }
            i = j
            if b == 0x5C {
                escaped = true
                try scanEscape(open)
            } else if b < 0x20 {
                throw fail(i, "control character in a string (must be escaped)")
            } else {
                let len = UTF8Check.sequenceLength(p, i, n)
                guard len > 0 else { throw fail(i, "invalid UTF-8") }
                i &+= len
            }
            j = i
        }
    }

    @inline(__always)
    func hex4(_ at: Int) -> UInt32? {
        guard at + 4 <= n, let a = JSONText.hexValue(p[at]), let b = JSONText.hexValue(p[at + 1]),
              let c = JSONText.hexValue(p[at + 2]), let d = JSONText.hexValue(p[at + 3]) else { return nil }
        return a << 12 | b << 8 | c << 4 | d
    }

    mutating func scanEscape(_ open: Int) throws(RecordProblem) {
        guard i + 1 < n else { throw fail(open, "unterminated string") }
        switch p[i + 1] {
        case 0x22, 0x5C, 0x2F, UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
             UInt8(ascii: "r"), UInt8(ascii: "t"):
            i &+= 2
        case UInt8(ascii: "u"):
            guard let u = hex4(i + 2) else { throw fail(i, "invalid \\u escape") }
            if u >= 0xD800 && u <= 0xDBFF {
                guard i + 7 < n, p[i + 6] == 0x5C, p[i + 7] == UInt8(ascii: "u"),
                      let lo = hex4(i + 8), lo >= 0xDC00 && lo <= 0xDFFF
                else { throw fail(i, "unpaired surrogate in \\u escape") }
                i &+= 12
            } else if u >= 0xDC00 && u <= 0xDFFF {
                throw fail(i, "unpaired surrogate in \\u escape")
            } else {
                i &+= 6
            }
        default:
            throw fail(i, "invalid escape sequence")
        }
    }

    /// `i` is at the number's first byte; leaves `i` after it, or returns nil (`i` unmoved)
    /// when the token is not a number. Not throwing: a throwing scan was never inlined, and
    /// its shape then went through memory on every number.
    @inline(always)
    mutating func scanNumber() -> NumberText.Shape? {
        let start = i
        guard let shape = NumberText.shapePrefix(p + start, n - start) else { return nil }
        let end = start &+ shape.end
        // A number character right after the longest valid number (`01`, `1.2.3`, `1-`) means
        // the token as a whole is not a number.
        if end < n {
            let b = p[end]
            // A comma or a closing brace, as after nearly every number, is tested first: the
            // full test's constant took a register the scan had none left for (~10
            // instructions a number in `scanLaidOut`, most of them spills).
            if b != 0x2C && b != 0x7D
                && (b &- 0x30 < 10 || b == 0x2E || b == 0x2D || b == 0x2B || (b | 0x20) == 0x65) { return nil }
        }
        i = end
        return shape
    }

    @inline(__always)
    mutating func literal(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8?) throws(RecordProblem) {
        let len = d == nil ? 3 : 4
        // The first byte was already matched by the caller.
        guard i + len + 1 <= n, p[i + 1] == a, p[i + 2] == b, p[i + 3] == c,
              d == nil || p[i + 4] == d! else { throw fail(i, "invalid literal") }
        i &+= len + 1
    }

    /// Validates one value without building it.
    mutating func skipValue(depth: Int) throws(RecordProblem) {
        guard i < n else { throw fail(i, "expected a value") }
        switch p[i] {
        case 0x22: _ = try scanString()
        case 0x7B: try skipObject(depth: depth + 1)
        case 0x5B: try skipArray(depth: depth + 1)
        case UInt8(ascii: "t"): try literal(UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "e"), nil)
        case UInt8(ascii: "f"): try literal(UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "e"))
        case UInt8(ascii: "n"): try literal(UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l"), nil)
        case 0x2D, 0x30...0x39: if scanNumber() == nil { throw fail(i, "invalid number") }
        default: throw fail(i, "expected a value")
        }
    }

    mutating func skipObject(depth: Int) throws(RecordProblem) {
        guard depth <= Self.maxDepth else { throw fail(i, "nesting deeper than \(Self.maxDepth) levels") }
        i &+= 1
        skipWhitespace()
        if i < n && p[i] == 0x7D { i &+= 1; return }
        while true {
            guard i < n, p[i] == 0x22 else { throw fail(i, "expected a member name") }
            _ = try scanString()
            skipWhitespace()
            guard i < n, p[i] == 0x3A else { throw fail(i, "expected ':' after a member name") }
            i &+= 1
            skipWhitespace()
            try skipValue(depth: depth)
            skipWhitespace()
            guard i < n else { throw fail(i, "expected ',' or '}' after a member") }
            if p[i] == 0x2C { i &+= 1; skipWhitespace(); continue }
            if p[i] == 0x7D { i &+= 1; return }
            throw fail(i, "expected ',' or '}' after a member")
        }
    }

    mutating func skipArray(depth: Int) throws(RecordProblem) {
        guard depth <= Self.maxDepth else { throw fail(i, "nesting deeper than \(Self.maxDepth) levels") }
        i &+= 1
        skipWhitespace()
        if i < n && p[i] == 0x5D { i &+= 1; return }
        while true {
            try skipValue(depth: depth)
            skipWhitespace()
            guard i < n else { throw fail(i, "expected ',' or ']' after an element") }
            if p[i] == 0x2C { i &+= 1; skipWhitespace(); continue }
            if p[i] == 0x5D { i &+= 1; return }
            throw fail(i, "expected ',' or ']' after an element")
        }
    }

    @inline(always)
    func text(_ start: Int, _ end: Int) -> String {
        InlineText.make(p + start, end - start)
    }
}

/// Reads one JSON object per record, validating all of it but building values only for the
/// members a job needs.
public struct JSONObjectScanner {
    public let fieldNames: [String]
    public let captureAllMembers: Bool
    /// When captureAllMembers: every top-level member in input order (name decoded, value as
    /// FieldValue), for `carry: ["*"]`. A repeated name keeps its first position and its last
    /// value, as JavaScript's JSON.parse does.
    public private(set) var members: [(name: String, value: FieldValue)] = []

    private let table: FieldNameTable
    /// Whether records are read by `scanLaidOut` first (not when capturing every member, or
    /// with more than 64 slots), and the bits of all the slots then: set once, not worked
    /// out per record (~8 instructions a record).
    private let readsLaidOut: Bool
    /// The slot count when `readsLaidOut`, else -1: `scanLine` tests both at once.
    private let laidOutWidth: Int
    private let allSlots: UInt64
    private var guess = 0
    /// The last record's members, in order: records of one stream nearly always repeat it.
    private let layout = MemberLayout()
    private var decoded: [UInt8] = []
    private var requoted: [UInt8] = []

    /// fieldNames: the top-level members the job needs, in slot order (names are matched
    /// exactly, as decoded strings).
    public init(fieldNames: [String], captureAllMembers: Bool = false) {
        self.fieldNames = fieldNames
        self.captureAllMembers = captureAllMembers
        self.table = FieldNameTable(fieldNames)
        readsLaidOut = !captureAllMembers && fieldNames.count <= 64
        laidOutWidth = readsLaidOut ? fieldNames.count : -1
        allSlots = fieldNames.count >= 64 ? ~0 : (1 << UInt64(fieldNames.count)) &- 1
    }

    /// Parses one record holding exactly one JSON object (surrounding whitespace allowed).
    /// On success sets values[i] for fieldNames[i] (.missing when absent) and returns nil.
    public mutating func scan(_ record: UnsafeRawBufferPointer, into values: inout [FieldValue]) -> RecordProblem? {
        values.withUnsafeMutableBufferPointer { scan(record, into: $0) }
    }

    /// `scan` into values held elsewhere (the slot a record waits in for the watermark).
    public mutating func scan(_ record: UnsafeRawBufferPointer, into slots: UnsafeMutableBufferPointer<FieldValue>) -> RecordProblem? {
        precondition(slots.count == table.count, "values must have one slot per field name")
        // A record laid out as the last one, read first and alone: the general set-up below
        // (its cursor, problem and the clearing of slots past 64) cost ~25 instructions a
        // record around this call.
        if readsLaidOut, let base = record.baseAddress?.assumingMemoryBound(to: UInt8.self),
           let values = slots.baseAddress, let (seen, end) = scanLaidOut(base, record.count, values), end == record.count {
            clearUnseen(seen, slots)
            return nil
        }
        return scanGenerally(record, into: slots)
    }

    /// Reads the record at the start of `lines` (the unread part of a buffer of JSON Lines)
    /// when it is laid out as the last one (see `scanLaidOut`) and its line ends within
    /// `lines`: the index of its newline, or nil for any other record, which is then split at
    /// its newline and read by `scan` (which sets again the values set here). The record's
    /// end is found by reading it, without a `memchr` over its bytes first (~45 instructions
    /// an event): its reading stops at the newline, which no whitespace skip, string, number
    /// or member name read here takes in.
    ///
    /// The zero byte after `lines` ends every run the reading makes without a test of the
    /// position against the count (~50 instructions an event).
    @inline(__always)
    mutating func scanLine(_ lines: ZeroPaddedBytes, into slots: UnsafeMutableBufferPointer<FieldValue>) -> Int? {
        guard slots.count == laidOutWidth, let values = slots.baseAddress,
              let (seen, end) = scanLaidOutPadded(lines.start, lines.count, values), end < lines.count
        else { return nil }
        clearUnseen(seen, slots)
        return end
    }

    /// Marks missing the slots below 64 whose bits `seen` lacks. Only those are visited, so a
    /// record that has every field, as nearly all do, skips the loop.
    @inline(__always)
    private func clearUnseen(_ seen: UInt64, _ slots: UnsafeMutableBufferPointer<FieldValue>) {
        var unseen = ~seen & allSlots
        while unseen != 0 {
            let k = unseen.trailingZeroBitCount
            if slots[k].kind != .missing { slots[k] = .missing }
            unseen &= unseen &- 1
        }
    }

    /// `scan` for a record `scanLaidOut` does not read (or reads only partly).
    @inline(never)
    private mutating func scanGenerally(_ record: UnsafeRawBufferPointer, into slots: UnsafeMutableBufferPointer<FieldValue>) -> RecordProblem? {
        if captureAllMembers { members.removeAll(keepingCapacity: true) }
        guard let base = record.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            for k in 0..<slots.count { slots[k] = .missing }
            return RecordProblem(offset: 0, message: "record is not a JSON object")
        }
        var c = JSONCursor(p: base, n: record.count)
        // Slots below 64 are assigned once per record: the ones not seen are cleared
        // afterwards, instead of clearing all first and then overwriting.
        for k in min(64, slots.count)..<slots.count where slots[k].kind != .missing { slots[k] = .missing }
        var seen: UInt64 = 0
        var problem: RecordProblem? = nil
        do throws(RecordProblem) {
            try scanObject(&c, slots, &seen)
        } catch {
            problem = error
        }
        // Only the slots not seen are visited, so a record that has every field, as nearly all
        // do, skips the loop (testing each slot cost the card job ~24 instructions an event).
        let low = min(64, slots.count)
        var unseen = ~seen & (low == 64 ? ~0 : (1 << UInt64(low)) &- 1)
        while unseen != 0 {
            let k = unseen.trailingZeroBitCount
            if slots[k].kind != .missing { slots[k] = .missing }
            unseen &= unseen &- 1
        }
        return problem
    }

    /// Reads a record whose members are the last record's, in the same order, with plain
    /// strings and numbers for values (nearly every record of a stream), in one pass and
    /// one call: the bits of the slots it set, or nil for any other record, which
    /// `scanObject` then reads from its start (setting again the values set here). Only
    /// with at most 64 slots, all of which `scan` clears when a record leaves them unset.
    /// It saves `scanObject`'s call per needed value and per skipped one, and its checks for
    /// what such a record never has: ~210 instructions an event on the card job.
    ///
    /// Whitespace is skipped within the line only: the record ends at `n` or at a newline,
    /// where the end it returns (after the object and any blanks) is.
    @inline(never)
    private mutating func scanLaidOut(
        _ p: UnsafePointer<UInt8>, _ n: Int, _ values: UnsafeMutablePointer<FieldValue>
    ) -> (seen: UInt64, end: Int)? {
        scanLaidOut(p, n, values, padded: false)
    }

    /// `scanLaidOut` of bytes followed by a zero byte and 15 more (`ZeroPaddedBytes`).
    @inline(never)
    private mutating func scanLaidOutPadded(
        _ p: UnsafePointer<UInt8>, _ n: Int, _ values: UnsafeMutablePointer<FieldValue>
    ) -> (seen: UInt64, end: Int)? {
        scanLaidOut(p, n, values, padded: true)
    }

    /// `scanLaidOut`, and with `padded` for `scanLaidOutPadded`: the position is not tested
    /// against `n` before a byte is read or 16 bytes are loaded. It never moves past the zero
    /// byte at `n`, which no blank, name, string, number or separator takes in.
    @inline(always)
    private mutating func scanLaidOut(
        _ p: UnsafePointer<UInt8>, _ n: Int, _ values: UnsafeMutablePointer<FieldValue>, padded: Bool
    ) -> (seen: UInt64, end: Int)? {
        var word = layout.firstWord
        var c = JSONCursor(p: p, n: n)
        // The first member's gap takes in the opening brace.
        guard var (length, slot) = layout.match(at: word, p, n, padded: padded) else { return nil }
        while true {
            c.i &+= length
            word += 1
            let start = c.i
            // A gap ends at the value's first byte (nothing to skip); before the record's end
            // when padded (a gap holds no zero byte).
            if !padded { guard start < n else { return nil } }
            if p[start] == 0x22 {
                // A short plain string, the common case, is read here; any other string by
                // `scanString`, out of line: inlined, its escapes and UTF-8 checks took
                // registers that the rest of this loop then spilled.
                // Found and built from one 16-byte load (`eddy_read_short_string`).
                let short = padded || start &+ 16 <= n ? eddy_read_short_string(p + start) : eddy_short_string()
                if short.length > 0 {
                    c.i = start &+ short.length
                    if slot >= 0 {
                        let text = InlineText.makeASCII(words: (short.low, short.high), count: short.length)
                        FieldValue.overwrite(values + slot, with: FieldValue(kind: .string, text: text))
                    }
                } else {
                    let scanned = Self.stringEnd(p, n, start)
                    guard scanned.end >= 0, slot < 0 || !scanned.escaped else { return nil }
                    c.i = scanned.end
                    if slot >= 0 {
                        FieldValue.overwrite(values + slot, with: FieldValue(kind: .string, text: c.text(start, c.i)))
                    }
                }
            } else {
                // A short plain number (amounts, epoch times) in one pass; any other by
                // `numberEnd`, out of line, which refuses what is no number (a literal, an
                // object or an array, left to `scanObject`) without a test of its own here.
                // A number followed by a byte that would continue it (`1.5e3`) matches no
                // gap after it (a gap starts with a blank or a comma), nor the object's end.
                // Padded, the bytes up to 16 on are readable, and the zero byte at `n` ends a
                // number as the record's end does: told so, the reader's tests of the room
                // left fold away (~8 instructions a number).
                let number = eddy_read_short_number(p + start, padded ? 16 : n &- start)
                if number.length > 0 {
                    c.i = start &+ number.length
                    if slot >= 0 { FieldValue.overwrite(values + slot, with: NumberText.shortValue(number)) }
                } else {
                    let end = Self.numberEnd(p, n, start, slot >= 0 ? values + slot : nil)
                    guard end >= 0 else { return nil }
                    c.i = end
                }
            }
            // The next member's gap, laid out as before; else the object ends here.
            guard let next = layout.match(at: word, p + c.i, n &- c.i, padded: padded) else { break }
            (length, slot) = next
        }
        c.skipBlanksInLine(padded: padded)
        guard (padded || c.i < n) && p[c.i] == 0x7D else { return nil }
        c.i &+= 1
        // The newline right after the object, as ends nearly every line, is tested first: the
        // skip's own test took it for a blank to look up (~10 instructions a record).
        if (padded || c.i < n) && p[c.i] != 0x0A {
            c.skipBlanksInLine()
            guard c.i == n || p[c.i] == 0x0A else { return nil }
        }
        // The last member's entry, which says for all of them (`MemberLayout.words`).
        let last = (word - 1).pointee
        if last.lastSlot >= 0 { guess = last.lastSlot &+ 1 }
        return (last.seen, c.i)
    }

    /// The position after the number that starts at `start`, its value written to
    /// `destination` when there is one; -1 when it is no valid number or out of range.
    @inline(never)
    private static func numberEnd(
        _ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int, _ destination: UnsafeMutablePointer<FieldValue>?
    ) -> Int {
        var c = JSONCursor(p: p, n: n, i: start)
        guard let shape = c.scanNumber() else { return -1 }
        if let destination {
            guard let value = NumberText.value(p + start, c.i &- start, shape) else { return -1 }
            FieldValue.overwrite(destination, with: value)
        }
        return c.i
    }

    /// The position after the string that opens at `open`, and whether it has escapes;
    /// -1 when it is not a valid string.
    @inline(never)
    private static func stringEnd(_ p: UnsafePointer<UInt8>, _ n: Int, _ open: Int) -> (end: Int, escaped: Bool) {
        var c = JSONCursor(p: p, n: n, i: open)
        guard let body = try? c.scanString() else { return (-1, false) }
        return (c.i, body.escaped)
    }

    private mutating func scanObject(
        _ cursor: inout JSONCursor, _ values: UnsafeMutableBufferPointer<FieldValue>, _ seen: inout UInt64
    ) throws(RecordProblem) {
        // A local cursor, never passed `inout`, stays in registers (see `readNeededValue`).
        var c = cursor
        defer { cursor = c }
        var member = 0
        // Where the bytes before the next member start (see `MemberLayout`): the record's
        // start, then the end of each value.
        var gapStart = c.i
        while true {
            var slot: Int
            var name = (start: 0, end: 0, escaped: false)
            if !captureAllMembers, member < layout.count, let known = layout.match(member, c.p + gapStart, c.n - gapStart) {
                // The same bytes before the value as at this member of the last record: the
                // same separator and name, the same slot, without scanning them again.
                c.i = gapStart &+ known.length
                slot = known.slot
            } else {
                c.skipWhitespace()
                if member == 0 {
                    guard c.i < c.n, c.p[c.i] == 0x7B else { throw c.fail(c.i, "record is not a JSON object") }
                    c.i &+= 1
                    c.skipWhitespace()
                    if c.i < c.n && c.p[c.i] == 0x7D { c.i &+= 1; break }
                } else {
                    guard c.i < c.n else { throw c.fail(c.i, "expected ',' or '}' after a member") }
                    if c.p[c.i] == 0x7D { c.i &+= 1; break }
                    guard c.p[c.i] == 0x2C else { throw c.fail(c.i, "expected ',' or '}' after a member") }
                    c.i &+= 1
                    c.skipWhitespace()
                }
                guard c.i < c.n, c.p[c.i] == 0x22 else { throw c.fail(c.i, "expected a member name") }
                name = try c.scanString()
                c.skipWhitespace()
                guard c.i < c.n, c.p[c.i] == 0x3A else { throw c.fail(c.i, "expected ':' after a member name") }
                c.i &+= 1
                if !name.escaped {
                    slot = table.slot(c.p + name.start, name.end - name.start, guess: guess)
                } else {
                    slot = decodedNameSlot(c, name.start, name.end)
                }
                c.skipWhitespace()
                if !captureAllMembers { layout.learn(member, c.p + gapStart, c.i - gapStart, slot: slot) }
            }
            member &+= 1
            // Blanks past a matched gap's (it may end before the value).
            c.skipWhitespace()
            if slot >= 0 {
                c.i = try readNeededValue(c.p, c.n, at: c.i, into: values.baseAddress! + slot)
                guess = slot + 1
                if slot < 64 { seen |= 1 << UInt64(slot) }
                if captureAllMembers { capture(name: c, name.start, name.end, name.escaped, values[slot]) }
            } else if captureAllMembers {
                var value = FieldValue.missing
                // Through a copy, so that `c` itself never escapes (see `readNeededValue`).
                var cursor = c
                try readValue(&cursor, into: &value)
                c.i = cursor.i
                capture(name: c, name.start, name.end, name.escaped, value)
            } else {
                c.i = try Self.skipValue(c.p, c.n, at: c.i)
            }
            gapStart = c.i
        }
        c.skipWhitespace()
        guard c.i == c.n else { throw c.fail(c.i, "trailing characters after the object") }
    }

    private mutating func decodeBody(_ c: JSONCursor, _ start: Int, _ end: Int) {
        decoded.removeAll(keepingCapacity: true)
        // Already validated by scanString, so decoding cannot fail here.
        _ = JSONText.decodeBody(UnsafeRawBufferPointer(start: c.p + start, count: end - start), into: &decoded)
    }

    private mutating func decodedNameSlot(_ c: JSONCursor, _ start: Int, _ end: Int) -> Int {
        decodeBody(c, start, end)
        return decoded.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return table.slot(c.p, 0, guess: 0) }
            return table.slot(base, buf.count, guess: 0)
        }
    }

    private mutating func capture(name c: JSONCursor, _ start: Int, _ end: Int, _ escaped: Bool, _ value: FieldValue) {
        let name: String
        if escaped {
            decodeBody(c, start, end)
            name = String(decoding: decoded, as: UTF8.self)
        } else {
            name = c.text(start, end)
        }
        if let k = members.firstIndex(where: { $0.name == name }) {
            members[k].value = value
        } else {
            members.append((name, value))
        }
    }

    @inline(__always)
    private mutating func readValue(_ c: inout JSONCursor, into dest: inout FieldValue) throws(RecordProblem) {
        dest = try readValue(&c)
    }

    /// Reads a needed member's value into `destination`. Plain strings and numbers, nearly
    /// every value of a stream, are read here as in `readValue` (which reads the rest), but
    /// written in place: returned through `readValue`, they cost ~230 instructions an event
    /// more. Their scans and the number's value are inlined with `@inline(always)`:
    /// `@inline(__always)` is only a hint to this compiler, which kept each a call that
    /// passed the number's shape and the value through memory. Kept out of `scanObject`,
    /// which past a size stops inlining even the smallest helpers.
    ///
    /// The cursor goes in and out by value (bytes, count, position; the new position is
    /// returned): passed `inout`, it lived in memory for all of `scanObject`, which loaded and
    /// stored its position around every step of every member.
    @inline(never)
    private mutating func readNeededValue(
        _ p: UnsafePointer<UInt8>, _ n: Int, at start: Int, into destination: UnsafeMutablePointer<FieldValue>
    ) throws(RecordProblem) -> Int {
        var c = JSONCursor(p: p, n: n, i: start)
        if start < c.n {
            let first = c.p[start]
            if first == 0x22 {
                let body = try c.scanString()
                if !body.escaped {
                    FieldValue.overwrite(destination, with: FieldValue(kind: .string, text: c.text(start, c.i)))
                    return c.i
                }
                c.i = start
            } else if first &- 0x30 < 10 || first == 0x2D, let shape = c.scanNumber() {
                guard let value = NumberText.value(c.p + start, c.i - start, shape) else {
                    throw c.fail(start, "number is out of range")
                }
                FieldValue.overwrite(destination, with: value)
                return c.i
            }
        }
        FieldValue.overwrite(destination, with: try readValue(&c))
        return c.i
    }

    /// `JSONCursor.skipValue` from `start`, returning the position after the value (see
    /// `readNeededValue` for why the cursor is not passed `inout`).
    @inline(__always)
    private static func skipValue(_ p: UnsafePointer<UInt8>, _ n: Int, at start: Int) throws(RecordProblem) -> Int {
        var c = JSONCursor(p: p, n: n, i: start)
        try c.skipValue(depth: 1)
        return c.i
    }

    @inline(never)
    private mutating func readValue(_ c: inout JSONCursor) throws(RecordProblem) -> FieldValue {
        guard c.i < c.n else { throw c.fail(c.i, "expected a value") }
        let start = c.i
        switch c.p[c.i] {
        case 0x22:
            let s = try c.scanString()
            if !s.escaped { return FieldValue(kind: .string, text: c.text(start, c.i)) }
            decodeBody(c, s.start, s.end)
            requoted.removeAll(keepingCapacity: true)
            decoded.withUnsafeBytes { JSONText.appendQuoted($0, to: &requoted) }
            return FieldValue(kind: .string, text: String(decoding: requoted, as: UTF8.self))
        case 0x2D, 0x30...0x39:
            guard let shape = c.scanNumber() else { throw c.fail(start, "invalid number") }
            guard let v = NumberText.value(c.p + start, c.i - start, shape) else {
                throw c.fail(start, "number is out of range")
            }
            return v
        case 0x7B:
            try c.skipObject(depth: 1)
            return FieldValue(kind: .json, text: c.text(start, c.i))
        case 0x5B:
            try c.skipArray(depth: 1)
            return FieldValue(kind: .json, text: c.text(start, c.i))
        case UInt8(ascii: "t"):
            try c.literal(UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "e"), nil)
            return FieldValue(kind: .bool, text: "true")
        case UInt8(ascii: "f"):
            try c.literal(UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "e"))
            return FieldValue(kind: .bool, text: "false")
        case UInt8(ascii: "n"):
            try c.literal(UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l"), nil)
            return .null
        default:
            throw c.fail(c.i, "expected a value")
        }
    }
}
