// Hand-specialised "speed of light" prototype of eddy's card_velocity job.
//
// Reads JSON Lines (file argument or stdin) with read(2) in 1 MiB chunks, splits lines with
// memchr, scans each JSON object for card_id / merchant / amount / ts (skipping and validating
// everything else), drops late events (time <= max time - 5 s - 1 ms, eddy's watermark),
// buffers the rest in a time-bucket ring (a calendar queue: one bucket per millisecond, events
// appended in arrival order, so releasing in (time, arrival) order needs no comparisons),
// releases them in batches, resolves keys in prefetching phases, applies every feature to one
// 192-byte row per key and writes one JSON line per event.
import Glibc
import CShim

@_silgen_name("swift_float64ToString")
func rtFloat64ToString(_ buffer: UnsafeMutablePointer<UInt8>, _ length: UInt, _ value: Double, _ debug: Bool) -> UInt64

// MARK: - byte helpers

@inline(__always) func load64(_ p: UnsafePointer<UInt8>) -> UInt64 { UnsafeRawPointer(p).loadUnaligned(as: UInt64.self) }
@inline(__always) func store64(_ p: UnsafeMutablePointer<UInt8>, _ v: UInt64) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: UInt64.self) }
@inline(__always) func isWS(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }

/// A text of at most 15 bytes as two words: bytes little-endian, length in the top byte of `hi`.
/// Reads 16 bytes at `p` (buffers are padded).
@inline(__always) func packText(_ p: UnsafePointer<UInt8>, _ n: Int) -> (UInt64, UInt64) {
    let a = load64(p)
    if n < 8 { return (a & ((1 &<< (UInt64(n) &* 8)) &- 1), UInt64(n) &<< 56) }
    if n == 8 { return (a, 8 &<< 56) }
    let b = load64(p + 8) & ((1 &<< (UInt64(n &- 8) &* 8)) &- 1)
    return (a, b | (UInt64(n) &<< 56))
}

/// Writes a packed text (16 bytes stored, length advanced).
@inline(__always) func writeText(_ o: UnsafeMutablePointer<UInt8>, _ lo: UInt64, _ hi: UInt64) -> Int {
    store64(o, lo)
    store64(o + 8, hi & 0x00FF_FFFF_FFFF_FFFF)
    return Int(hi &>> 56)
}

@inline(__always) func mix64(_ x: UInt64) -> UInt64 {
    var h = x
    h ^= h &>> 31
    h = h &* 0x94D0_49BB_1331_11EB
    return h ^ (h &>> 29)
}

@inline(__always) func hashKey(_ lo: UInt64, _ hi: UInt64) -> UInt64 {
    mix64((lo ^ (hi &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9)
}

func alignedAlloc(_ bytes: Int) -> UnsafeMutableRawPointer {
    var p: UnsafeMutableRawPointer?
    guard posix_memalign(&p, 64, max(bytes, 64)) == 0, let p else { fatalError("out of memory") }
    return p
}

// MARK: - number text

let digitPairs: UnsafeMutablePointer<UInt8> = {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 200)
    for i in 0..<100 {
        p[2 * i] = 0x30 + UInt8(i / 10)
        p[2 * i + 1] = 0x30 + UInt8(i % 10)
    }
    return p
}()

let powersOfTen: UnsafeMutablePointer<UInt64> = {
    let p = UnsafeMutablePointer<UInt64>.allocate(capacity: 20)
    var v: UInt64 = 1
    for i in 0..<20 {
        p[i] = v
        if i < 19 { v = v &* 10 }
    }
    return p
}()

let exactPowersOfTen: UnsafeMutablePointer<Double> = {
    let p = UnsafeMutablePointer<Double>.allocate(capacity: 23)
    let values: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                            1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]
    for i in 0..<23 { p[i] = values[i] }
    return p
}()

@inline(__always) func digitCount(_ v: UInt64) -> Int {
    let bits = 64 &- (v | 1).leadingZeroBitCount
    let approx = (bits &* 1233) &>> 12  // floor(log10(2^bits))
    return approx &+ (v >= powersOfTen[approx] ? 1 : 0)
}

/// Writes `v`'s digits ending at `end` (exclusive), `n` of them.
@inline(__always) func writeDigitsBackward(_ v: UInt64, _ end: UnsafeMutablePointer<UInt8>, _ n: Int) {
    var q = end
    var x = v
    var left = n
    while left >= 2 {
        let r = Int(x % 100)
        x /= 100
        q -= 2
        q[0] = digitPairs[2 &* r]
        q[1] = digitPairs[2 &* r &+ 1]
        left &-= 2
    }
    if left == 1 {
        q -= 1
        q[0] = 0x30 &+ UInt8(truncatingIfNeeded: x % 10)
    }
}

@inline(__always) func writeUInt(_ v: UInt64, _ o: UnsafeMutablePointer<UInt8>) -> Int {
    if v < 10 {
        o[0] = 0x30 &+ UInt8(truncatingIfNeeded: v)
        return 1
    }
    let n = digitCount(v)
    writeDigitsBackward(v, o + n, n)
    return n
}

@inline(__always) func writeInt(_ v: Int64, _ o: UnsafeMutablePointer<UInt8>) -> Int {
    if v < 0 {
        o[0] = 0x2D
        return 1 &+ writeUInt(v.magnitude, o + 1)
    }
    return writeUInt(UInt64(v), o)
}

/// `magnitude` with a point before its last `frac` digits (at least one digit before it).
@inline(__always) func writeDecimal(_ magnitude: UInt64, _ frac: Int, _ negative: Bool, _ o: UnsafeMutablePointer<UInt8>) -> Int {
    var p = o
    if negative {
        p[0] = 0x2D
        p += 1
    }
    if frac == 0 { return (negative ? 1 : 0) &+ writeUInt(magnitude, p) }
    let nd = digitCount(magnitude)
    let intDigits = nd > frac ? nd &- frac : 1
    let total = intDigits &+ 1 &+ frac
    var q = p + total
    var x = magnitude
    for _ in 0..<frac {
        q -= 1
        q[0] = 0x30 &+ UInt8(truncatingIfNeeded: x % 10)
        x /= 10
    }
    q -= 1
    q[0] = 0x2E
    writeDigitsBackward(x, q, intDigits)
    return (negative ? 1 : 0) &+ total
}

/// Shortest round-trip text of a finite double, exactly `description`'s (eddy's NumberText.append).
@inline(__always) func writeDouble(_ d: Double, _ o: UnsafeMutablePointer<UInt8>) -> Int {
    guard d.isFinite else {
        store64(o, 0x6C6C_756E)  // "null"
        return 4
    }
    if d.magnitude < 1e15, let i = Int64(exactly: d), d != 0 || d.sign == .plus {
        let n = writeInt(i, o)
        o[n] = 0x2E
        o[n + 1] = 0x30
        return n &+ 2
    }
    let scaled = d * 1e4
    if scaled.magnitude < 1e15, d.magnitude >= 1e-4 {
        let rounded = scaled.rounded(.toNearestOrEven)  // off by one only fails the check below
        if rounded / 1e4 == d {
            let s = Int64(rounded)
            var m = s.magnitude
            var frac = 4
            while frac > 1, m % 10 == 0 {
                m /= 10
                frac &-= 1
            }
            return writeDecimal(m, frac, s < 0, o)
        }
    }
    return writeShortest(d, o)
}

@inline(never) func writeShortest(_ d: Double, _ o: UnsafeMutablePointer<UInt8>) -> Int {
    let raw = UnsafeMutableRawPointer(o)
    for offset in stride(from: 0, to: 40, by: 8) {
        raw.storeBytes(of: 0x3030_3030_3030_3030 as UInt64, toByteOffset: offset, as: UInt64.self)
    }
    return Int(truncatingIfNeeded: rtFloat64ToString(o, 40, d, false))
}

/// Amount texts are packed into 8 bytes: bit 63 clear: the canonical text itself (at most 8
/// ASCII bytes, little-endian, zero-padded); bit 63 set: the index of a longer text in
/// `fallbackTexts` (numbers with exponents, > 8 characters, ...).
nonisolated(unsafe) var fallbackTexts: [[UInt8]] = []

@inline(__always) func writePacked(_ v: UInt64, _ o: UnsafeMutablePointer<UInt8>) -> Int {
    if v &>> 63 != 0 { return writeFallback(v, o) }
    store64(o, v)
    return 8 &- (v.leadingZeroBitCount &>> 3)
}

/// The packed form of the text `p[0..<n]`.
@inline(__always) func packAmountText(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
    if n < 8 { return load64(p) & ((1 &<< (UInt64(n) &* 8)) &- 1) }
    if n == 8 { return load64(p) }
    return fallbackPacked(Array(UnsafeBufferPointer(start: p, count: n)))
}

@inline(never) func writeFallback(_ v: UInt64, _ o: UnsafeMutablePointer<UInt8>) -> Int {
    let text = fallbackTexts[Int(v & 0x7FFF_FFFF_FFFF_FFFF)]
    for i in 0..<text.count { o[i] = text[i] }
    return text.count
}

func fallbackPacked(_ text: [UInt8]) -> UInt64 {
    fallbackTexts.append(text)
    return (1 &<< 63) | UInt64(fallbackTexts.count - 1)
}

// MARK: - state layout

/// An event waiting for the watermark (and, in a release batch, being applied).
struct Event {
    var time: Int64 = 0
    var seq: Int64 = 0
    var keyLo: UInt64 = 0
    var keyHi: UInt64 = 0
    var hash: UInt64 = 0
    var amount: Double = 0
    var packed: UInt64 = 0
    var merchant: UInt32 = 0
    var next: Int32 = -1
    var slot: UInt32 = 0
    var isInt: UInt32 = 0
}

/// One entry of a key's window log (the 1-day window; the 1-hour window is a suffix of it).
struct Entry {
    var time: Int64
    var amount: Double
}
/// Beside each entry, in a parallel pool: its merchant id, with bit 31 set for an integer amount.
let intFlag: UInt32 = 1 << 31
/// Windows up to this many entries count distinct merchants by scanning the log's merchant ids
/// (one cache line); larger ones keep their (key, merchant) counts in the global table.
let smallWindow: UInt32 = 16

/// All of one key's state: three cache lines.
struct Row {
    // line 0
    var keyLo: UInt64 = 0
    var keyHi: UInt64 = 0
    var count: Int64 = 0
    var avgSum: Double = 0
    var avgComp: Double = 0
    var avgInt: Int64 = 0
    var lastMerchant: UInt32 = 0
    var distinct: UInt32 = 0
    var maxValue: Double = 0
    // line 1
    var maxPacked: UInt64 = 0
    var sumD: Double = 0
    var sumComp: Double = 0
    var sumInt: Int64 = 0
    var sumCount: Int32 = 0
    var sumDoubleCount: Int32 = 0
    var ringBase: UInt32 = 0
    var ringMask: UInt32 = 0  // capacity - 1; 0: no ring allocated
    var head1h: UInt32 = 0
    var head1d: UInt32 = 0
    var tail: UInt32 = 0
    var usesTable: UInt32 = 0
    // line 2
    var exp1h: Int64 = .max  // time of the oldest entry in the 1h window
    var exp1d: Int64 = .max
    var r0: UInt64 = 0  // recent amounts, ring of 5 indexed by count % 5
    var r1: UInt64 = 0
    var r2: UInt64 = 0
    var r3: UInt64 = 0
    var r4: UInt64 = 0
    var pad1: UInt64 = 0
}

let recentOffset = MemoryLayout<Row>.offset(of: \Row.r0)!

struct DEntry {
    var key: UInt64
    var count: UInt64
}

let emptyD = UInt64.max
let window1h: Int64 = 3_600_000
let window1d: Int64 = 86_400_000
let watermarkDelay: Int64 = 5000  // ms
let bucketBits = 14
let bucketCount = 1 << bucketBits
let bucketMask = Int64(bucketCount - 1)
let releaseEvery = 256
/// For measuring parts: 1 parse only, 2 also buffer and release, 3 also resolve and apply, 0 everything.
let mode: Int = { if let v = getenv("CEILING_MODE") { return Int(atoi(v)) }; return 0 }()

@inline(__always) func neumaier(_ sum: inout Double, _ comp: inout Double, _ x: Double) {
    let s = sum
    let t = s + x
    if s.magnitude >= x.magnitude { comp += (s - t) + x } else { comp += (x - t) + s }
    sum = t
}

// Output fragments, padded for 32-byte copies.
let fragments: [String] = [
    "{\"card_id\":\"", "\",\"ts\":", ",\"txn_count\":", ",\"amount_sum_1h\":", ",\"amount_max\":",
    ",\"amount_avg\":", ",\"last_merchant\":\"", "\",\"merchants_1d\":", ",\"recent_amounts\":[", "]}\n",
]
let fragmentStore: UnsafeMutablePointer<UInt8> = {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 64 * fragments.count)
    p.initialize(repeating: 0, count: 64 * fragments.count)
    for (i, f) in fragments.enumerated() {
        for (j, b) in f.utf8.enumerated() { p[64 * i + j] = b }
    }
    return p
}()
let fragmentLengths: [Int] = fragments.map { $0.utf8.count }

@inline(__always) func copy32(_ o: UnsafeMutablePointer<UInt8>, _ s: UnsafePointer<UInt8>) {
    store64(o, load64(s))
    store64(o + 8, load64(s + 8))
    store64(o + 16, load64(s + 16))
    store64(o + 24, load64(s + 24))
}

// MARK: - the engine

final class Engine {
    // pending events
    var events: UnsafeMutablePointer<Event>
    var eventsCap = 1 << 14
    var eventsUsed = 0
    var freeList: UnsafeMutablePointer<Int32>
    var freeCount = 0
    var bucketHead: UnsafeMutablePointer<Int32>
    var bucketTail: UnsafeMutablePointer<Int32>
    var lo: Int64 = .min  // everything at or before `lo` has been released
    var ringCount = 0
    var overflow: [Int32] = []
    var batch: UnsafeMutablePointer<Int32>
    var batchCap = 4096
    var batchN = 0
    var maxTime: Int64 = .min
    var watermark: Int64 = .min
    var sinceRelease = 0

    // keys
    var keyIndex: UnsafeMutablePointer<UInt64>  // (tag << 32) | (slot + 1); 0: empty
    var keyMask = (1 << 17) - 1
    var keyCount = 0
    var rows: UnsafeMutablePointer<Row>
    var rowsCap = 1 << 16

    // window logs
    var pool: UnsafeMutablePointer<Entry>
    var mpool: UnsafeMutablePointer<UInt32>
    var poolCap = 1 << 20
    var poolUsed = 0
    var poolFree: [[UInt32]] = Array(repeating: [], count: 33)

    // distinct (key, merchant) counts of the 1d windows
    var dTable: UnsafeMutablePointer<DEntry>
    var dBits = 20
    var dCount = 0

    // merchants
    var mIndex: UnsafeMutablePointer<UInt32>  // id + 1; 0: empty
    var mMask = (1 << 14) - 1
    var mLo: [UInt64] = []
    var mHi: [UInt64] = []

    // output
    let outCap = 1 << 20
    var out: UnsafeMutablePointer<UInt8>
    var outLen = 0

    // counters
    var read: Int64 = 0
    var late: Int64 = 0
    var rejected: Int64 = 0
    var emitted: Int64 = 0

    // member names
    let cardIdWord: UInt64
    let merchantWord: UInt64
    let amountWord: UInt64
    let tsWord: UInt64

    init() {
        events = UnsafeMutablePointer<Event>.allocate(capacity: eventsCap)
        freeList = UnsafeMutablePointer<Int32>.allocate(capacity: eventsCap)
        bucketHead = UnsafeMutablePointer<Int32>.allocate(capacity: bucketCount)
        bucketHead.initialize(repeating: -1, count: bucketCount)
        bucketTail = UnsafeMutablePointer<Int32>.allocate(capacity: bucketCount)
        bucketTail.initialize(repeating: -1, count: bucketCount)
        batch = UnsafeMutablePointer<Int32>.allocate(capacity: batchCap)
        keyIndex = alignedAlloc(8 * (keyMask + 1)).bindMemory(to: UInt64.self, capacity: keyMask + 1)
        keyIndex.initialize(repeating: 0, count: keyMask + 1)
        rows = alignedAlloc(MemoryLayout<Row>.stride * rowsCap).bindMemory(to: Row.self, capacity: rowsCap)
        pool = alignedAlloc(MemoryLayout<Entry>.stride * poolCap).bindMemory(to: Entry.self, capacity: poolCap)
        mpool = alignedAlloc(4 * poolCap).bindMemory(to: UInt32.self, capacity: poolCap)
        dTable = alignedAlloc(16 << dBits).bindMemory(to: DEntry.self, capacity: 1 << dBits)
        dTable.initialize(repeating: DEntry(key: emptyD, count: 0), count: 1 << dBits)
        mIndex = UnsafeMutablePointer<UInt32>.allocate(capacity: mMask + 1)
        mIndex.initialize(repeating: 0, count: mMask + 1)
        out = UnsafeMutablePointer<UInt8>.allocate(capacity: outCap + 65536)
        func word(_ s: String) -> UInt64 {
            var w: UInt64 = 0
            for (i, b) in s.utf8.enumerated() { w |= UInt64(b) << (8 * UInt64(i)) }
            return w
        }
        cardIdWord = word("card_id")
        merchantWord = word("merchant")
        amountWord = word("amount")
        tsWord = word("ts")
    }

    // MARK: parsing

    /// Index of the closing quote of a string whose contents start at `i`; nil when malformed.
    /// `escaped` tells whether it held a backslash escape.
    @inline(__always)
    func scanString(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int, _ escaped: inout Bool) -> Int? {
        var i = start
        while i < n {
            // Eight bytes at a time: the first quote, backslash or control byte.
            let w = load64(p + i)
            let q = w ^ 0x2222_2222_2222_2222
            let b = w ^ 0x5C5C_5C5C_5C5C_5C5C
            let stops = (((q &- 0x0101_0101_0101_0101) & ~q) | ((b &- 0x0101_0101_0101_0101) & ~b)
                | ((w &- 0x2020_2020_2020_2020) & ~w)) & 0x8080_8080_8080_8080
            if stops == 0 {
                i &+= 8
                continue
            }
            let k = i &+ (stops.trailingZeroBitCount &>> 3)
            if k >= n { return nil }
            let c = p[k]
            if c == 0x22 { return k }
            if c != 0x5C { return nil }  // a control byte
            escaped = true
            guard k + 1 < n else { return nil }
            switch p[k + 1] {
            case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: i = k + 2
            case 0x75:
                guard k + 5 < n else { return nil }
                for j in 2...5 {
                    let h = p[k + j]
                    let isHex = (h &- 0x30 < 10) || ((h | 0x20) &- 0x61 < 6)
                    if !isHex { return nil }
                }
                i = k + 6
            default: return nil
            }
        }
        return nil
    }

    /// End of a JSON number starting at `i` (grammar checked), nil when malformed.
    func skipNumber(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int) -> Int? {
        var i = start
        if i < n && p[i] == 0x2D { i += 1 }
        guard i < n else { return nil }
        if p[i] == 0x30 { i += 1 } else if p[i] &- 0x31 < 9 {
            while i < n && p[i] &- 0x30 < 10 { i += 1 }
        } else { return nil }
        if i < n && p[i] == 0x2E {
            i += 1
            let s = i
            while i < n && p[i] &- 0x30 < 10 { i += 1 }
            guard i > s else { return nil }
        }
        if i < n && (p[i] | 0x20) == 0x65 {
            i += 1
            if i < n && (p[i] == 0x2B || p[i] == 0x2D) { i += 1 }
            let s = i
            while i < n && p[i] &- 0x30 < 10 { i += 1 }
            guard i > s else { return nil }
        }
        return i
    }

    @inline(__always) func skipWS(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int) -> Int {
        var i = start
        while i < n && p[i] <= 0x20 && isWS(p[i]) { i += 1 }
        return i
    }

    /// End of any JSON value starting at `i`, validated; nil when malformed.
    func skipValue(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int, depth: Int = 0) -> Int? {
        guard start < n, depth < 512 else { return nil }
        var i = start
        switch p[i] {
        case 0x22:
            var esc = false
            guard let e = scanString(p, i + 1, n, &esc) else { return nil }
            return e + 1
        case 0x7B, 0x5B:
            let isObject = p[i] == 0x7B
            let close: UInt8 = isObject ? 0x7D : 0x5D
            i = skipWS(p, i + 1, n)
            if i < n && p[i] == close { return i + 1 }
            while true {
                if isObject {
                    guard i < n, p[i] == 0x22 else { return nil }
                    var esc = false
                    guard let e = scanString(p, i + 1, n, &esc) else { return nil }
                    i = skipWS(p, e + 1, n)
                    guard i < n, p[i] == 0x3A else { return nil }
                    i = skipWS(p, i + 1, n)
                }
                guard let e = skipValue(p, i, n, depth: depth + 1) else { return nil }
                i = skipWS(p, e, n)
                guard i < n else { return nil }
                if p[i] == 0x2C { i = skipWS(p, i + 1, n); continue }
                if p[i] == close { return i + 1 }
                return nil
            }
        case 0x74:  // true
            guard i + 4 <= n, load64(p + i) & 0xFFFF_FFFF == 0x6575_7274 else { return nil }
            return i + 4
        case 0x66:  // false
            guard i + 5 <= n, load64(p + i) & 0xFF_FFFF_FFFF == 0x65_736C_6166 else { return nil }
            return i + 5
        case 0x6E:  // null
            guard i + 4 <= n, load64(p + i) & 0xFFFF_FFFF == 0x6C6C_756E else { return nil }
            return i + 4
        default:
            return skipNumber(p, i, n)
        }
    }

    /// Parses `amount`: the value as a Double, whether it is an integer, and its canonical
    /// text packed (eddy's NumberText.value). Returns the end index, nil when malformed.
    @inline(__always)
    func parseAmount(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int, _ e: UnsafeMutablePointer<Event>) -> Int? {
        var i = start
        var m: UInt64 = 0
        let negative = i < n && p[i] == 0x2D
        if negative { i += 1 }
        let intStart = i
        guard i < n else { return nil }
        let first = p[i] &- 0x30
        if first == 0 {
            i += 1
        } else if first < 10 {
            m = UInt64(first)
            i += 1
            while i < n {
                let d = p[i] &- 0x30
                guard d < 10 else { break }
                m = m &* 10 &+ UInt64(d)
                i += 1
            }
        } else { return nil }
        let intEnd = i
        var fracStart = i
        var fracEnd = i
        if i < n && p[i] == 0x2E {
            i += 1
            fracStart = i
            while i < n {
                let d = p[i] &- 0x30
                guard d < 10 else { break }
                m = m &* 10 &+ UInt64(d)
                i += 1
            }
            guard i > fracStart else { return nil }
            fracEnd = i
        }
        var hasExponent = false
        if i < n && (p[i] | 0x20) == 0x65 {
            hasExponent = true
            i += 1
            if i < n && (p[i] == 0x2B || p[i] == 0x2D) { i += 1 }
            let s = i
            while i < n && p[i] &- 0x30 < 10 { i += 1 }
            guard i > s else { return nil }
        }
        let end = i
        let intDigits = intEnd - intStart
        if fracStart == fracEnd && !hasExponent {
            // An integer.
            guard intDigits <= 18 else { return slowAmount(p, start, end, e) }
            let v = negative ? -Int64(m) : Int64(m)
            e.pointee.amount = Double(v)
            e.pointee.isInt = 1
            // Valid grammar has no leading zeros: the input is canonical, except `-0`.
            e.pointee.packed = v == 0 ? 0x30 : packAmountText(p + start, end - start)
            return end
        }
        if !hasExponent {
            var firstSig = intStart
            var fracLeadingZeros = 0
            if p[intStart] == 0x30 {
                firstSig = fracStart
                while firstSig < fracEnd && p[firstSig] == 0x30 { firstSig += 1 }
                fracLeadingZeros = firstSig - fracStart
            }
            let fracDigits = fracEnd - fracStart
            let sigDigits = intDigits + fracDigits - (firstSig <= intStart ? 0 : (firstSig - intStart - 1))
            if firstSig < fracEnd && sigDigits <= 15 && fracDigits <= 22
                && (p[intStart] != 0x30 || fracLeadingZeros <= 3) {
                var d = Double(m) / exactPowersOfTen[fracDigits]
                if negative { d = -d }
                // The canonical text: the input without the fraction's trailing zeros.
                var canonicalEnd = fracEnd
                while canonicalEnd > fracStart + 1 && p[canonicalEnd - 1] == 0x30 { canonicalEnd -= 1 }
                e.pointee.amount = d
                e.pointee.isInt = 0
                e.pointee.packed = packAmountText(p + start, canonicalEnd - start)
                return end
            }
        }
        return slowAmount(p, start, end, e)
    }

    @inline(never)
    func slowAmount(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ e: UnsafeMutablePointer<Event>) -> Int? {
        let text = String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { return nil }
        e.pointee.amount = d
        e.pointee.isInt = 0
        e.pointee.packed = fallbackPacked(Array(d.description.utf8))
        return end
    }

    @inline(__always)
    func internMerchant(_ lo: UInt64, _ hi: UInt64) -> UInt32 {
        var pos = Int(truncatingIfNeeded: hashKey(lo, hi)) & mMask
        while true {
            let v = mIndex[pos]
            if v == 0 {
                let id = UInt32(mLo.count)
                mLo.append(lo)
                mHi.append(hi)
                mIndex[pos] = id + 1
                if mLo.count * 2 > mMask + 1 { growMerchants() }
                return id
            }
            let id = Int(v - 1)
            if mLo[id] == lo && mHi[id] == hi { return UInt32(id) }
            pos = (pos + 1) & mMask
        }
    }

    func growMerchants() {
        let newMask = mMask * 2 + 1
        let idx = UnsafeMutablePointer<UInt32>.allocate(capacity: newMask + 1)
        idx.initialize(repeating: 0, count: newMask + 1)
        for id in 0..<mLo.count {
            var pos = Int(truncatingIfNeeded: hashKey(mLo[id], mHi[id])) & newMask
            while idx[pos] != 0 { pos = (pos + 1) & newMask }
            idx[pos] = UInt32(id + 1)
        }
        mIndex.deallocate()
        mIndex = idx
        mMask = newMask
    }

    /// Scans one JSON object line into `e`; false when malformed or missing a needed member.
    @inline(__always)
    func parse(_ p: UnsafePointer<UInt8>, _ n: Int, _ e: UnsafeMutablePointer<Event>) -> Bool {
        var i = skipWS(p, 0, n)
        guard i < n, p[i] == 0x7B else { return false }
        i = skipWS(p, i + 1, n)
        var seen = 0
        guard i < n, p[i] != 0x7D else { return false }
        while true {
            guard i < n, p[i] == 0x22 else { return false }
            let ns = i + 1
            var nameEscaped = false
            guard let ne = scanString(p, ns, n, &nameEscaped) else { return false }
            i = skipWS(p, ne + 1, n)
            guard i < n, p[i] == 0x3A else { return false }
            i = skipWS(p, i + 1, n)
            guard i < n else { return false }
            let nameLen = ne - ns
            let w = load64(p + ns)
            var field = 0
            if nameLen == 7 {
                if w & 0x00FF_FFFF_FFFF_FFFF == cardIdWord { field = 1 }
            } else if nameLen == 8 {
                if w == merchantWord { field = 2 }
            } else if nameLen == 6 {
                if w & 0xFFFF_FFFF_FFFF == amountWord { field = 3 }
            } else if nameLen == 2 {
                if w & 0xFFFF == tsWord { field = 4 }
            }
            switch field {
            case 1, 2:
                guard p[i] == 0x22 else { return false }  // prototype: string keys and merchants
                var esc = false
                guard let se = scanString(p, i + 1, n, &esc) else { return false }
                let len = se - i - 1
                guard !esc, len <= 15 else { return false }  // prototype: short, unescaped
                let (lo, hi) = packText(p + i + 1, len)
                if field == 1 {
                    e.pointee.keyLo = lo
                    e.pointee.keyHi = hi
                } else {
                    e.pointee.merchant = internMerchant(lo, hi)
                }
                i = se + 1
            case 3:
                guard let end = parseAmount(p, i, n, e) else { return false }
                i = end
            case 4:
                var j = i
                let negative = p[j] == 0x2D
                if negative { j += 1 }
                let s = j
                var v: UInt64 = 0
                // Eight digits at a time (SWAR).
                while true {
                    let w = load64(p + j)
                    let nd = ((w & 0xF0F0_F0F0_F0F0_F0F0) ^ 0x3030_3030_3030_3030)
                        | (((w &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) ^ 0x3030_3030_3030_3030)
                    let nonzero = (((nd & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | nd) & 0x8080_8080_8080_8080
                    let count = nonzero == 0 ? 8 : nonzero.trailingZeroBitCount &>> 3
                    if count == 0 { break }
                    var d = w &- 0x3030_3030_3030_3030
                    if count < 8 { d = d &<< UInt64((8 &- count) &* 8) }
                    d = ((d &* 10) &+ (d &>> 8)) & 0x00FF_00FF_00FF_00FF
                    d = ((d &* 100) &+ (d &>> 16)) & 0x0000_FFFF_0000_FFFF
                    d = ((d &* 10000) &+ (d &>> 32)) & 0xFFFF_FFFF
                    v = v &* powersOfTen[count] &+ d
                    j &+= count
                    if count < 8 || j - s > 18 { break }
                }
                if j > n { j = n }  // digits read past the line end cannot happen: the line ends with '}'
                let digits = j - s
                guard digits > 0, digits <= 18, p[s] != 0x30 || digits == 1 else { return false }
                guard j >= n || (p[j] != 0x2E && (p[j] | 0x20) != 0x65) else { return false }  // prototype: integer times
                e.pointee.time = negative ? -Int64(v) : Int64(v)
                i = j
            default:
                guard let end = skipValue(p, i, n) else { return false }
                i = end
            }
            seen |= 1 << field
            i = skipWS(p, i, n)
            guard i < n else { return false }
            if p[i] == 0x2C {
                i = skipWS(p, i + 1, n)
                continue
            }
            guard p[i] == 0x7D else { return false }
            i = skipWS(p, i + 1, n)
            break
        }
        return i == n && seen & 0b11110 == 0b11110
    }

    // MARK: input

    @inline(__always)
    func handleLine(_ p: UnsafePointer<UInt8>, _ n: Int) {
        if n == 0 { return }
        read &+= 1
        let k: Int32
        if freeCount > 0 {
            freeCount &-= 1
            k = freeList[freeCount]
        } else {
            if eventsUsed == eventsCap { growEvents() }
            k = Int32(eventsUsed)
            eventsUsed &+= 1
        }
        let e = events + Int(k)
        guard parse(p, n, e) else {
            rejected &+= 1
            freeList[freeCount] = k
            freeCount &+= 1
            return
        }
        let t = e.pointee.time
        if mode == 1 {
            freeList[freeCount] = k
            freeCount &+= 1
            return
        }
        if t <= watermark {
            late &+= 1
            freeList[freeCount] = k
            freeCount &+= 1
            return
        }
        e.pointee.seq = read
        e.pointee.hash = hashKey(e.pointee.keyLo, e.pointee.keyHi)
        insertPending(k, t)
        if t > maxTime {
            maxTime = t
            let (w, o) = t.subtractingReportingOverflow(watermarkDelay + 1)
            let next = o ? Int64.min : w
            if next > watermark { watermark = next }
        }
        sinceRelease &+= 1
        if sinceRelease >= releaseEvery {
            sinceRelease = 0
            release(upTo: watermark)
        }
    }

    func growEvents() {
        let newCap = eventsCap * 2
        let ne = UnsafeMutablePointer<Event>.allocate(capacity: newCap)
        ne.moveInitialize(from: events, count: eventsCap)
        events.deallocate()
        events = ne
        let nf = UnsafeMutablePointer<Int32>.allocate(capacity: newCap)
        nf.moveInitialize(from: freeList, count: freeCount)
        freeList.deallocate()
        freeList = nf
        eventsCap = newCap
    }

    // MARK: pending: a bucket per millisecond

    @inline(__always)
    func insertPending(_ k: Int32, _ t: Int64) {
        let e = events + Int(k)
        e.pointee.next = -1
        if overflow.isEmpty, t > lo, UInt64(bitPattern: t &- lo) <= UInt64(bucketCount) {
            let b = Int(t & bucketMask)
            let tail = bucketTail[b]
            if tail < 0 { bucketHead[b] = k } else { events[Int(tail)].next = k }
            bucketTail[b] = k
            ringCount &+= 1
        } else {
            overflow.append(k)
        }
    }

    @inline(__always)
    func addToBatch(_ k: Int32) {
        if batchN == batchCap {
            let nb = UnsafeMutablePointer<Int32>.allocate(capacity: batchCap * 2)
            nb.moveInitialize(from: batch, count: batchN)
            batch.deallocate()
            batch = nb
            batchCap *= 2
        }
        batch[batchN] = k
        batchN &+= 1
    }

    func release(upTo w: Int64) {
        guard overflow.isEmpty else { return generalRelease(upTo: w) }
        while lo < w && ringCount > 0 {
            lo &+= 1
            let b = Int(lo & bucketMask)
            var k = bucketHead[b]
            if k < 0 { continue }
            bucketHead[b] = -1
            bucketTail[b] = -1
            while k >= 0 {
                addToBatch(k)
                ringCount &-= 1
                k = events[Int(k)].next
            }
            if batchN >= releaseEvery { processBatch() }
        }
        if ringCount == 0 && lo < w { lo = w }
        if batchN > 0 { processBatch() }
    }

    /// The rare path (the first release, or times far apart): sort everything waiting.
    @inline(never)
    func generalRelease(upTo w: Int64) {
        var all: [Int32] = overflow
        overflow.removeAll()
        if ringCount > 0 {
            for b in 0..<bucketCount {
                var k = bucketHead[b]
                while k >= 0 {
                    all.append(k)
                    k = events[Int(k)].next
                }
                bucketHead[b] = -1
                bucketTail[b] = -1
            }
            ringCount = 0
        }
        let ev = events
        all.sort { a, b in
            let x = ev[Int(a)], y = ev[Int(b)]
            return x.time < y.time || (x.time == y.time && x.seq < y.seq)
        }
        var i = 0
        while i < all.count && events[Int(all[i])].time <= w {
            let t = events[Int(all[i])].time
            if batchN >= releaseEvery { processBatch() }
            while i < all.count && events[Int(all[i])].time == t {
                addToBatch(all[i])
                i += 1
            }
        }
        if batchN > 0 { processBatch() }
        if w > lo { lo = w }
        while i < all.count {
            insertPending(all[i], events[Int(all[i])].time)
            i += 1
        }
    }

    // MARK: keys

    @inline(__always)
    func resolve(_ e: UnsafeMutablePointer<Event>) -> Int {
        let h = e.pointee.hash
        let tag = h &>> 32
        var pos = Int(truncatingIfNeeded: h) & keyMask
        while true {
            let v = keyIndex[pos]
            if v == 0 { return insertKey(e, pos, tag) }
            if v &>> 32 == tag {
                let s = Int(truncatingIfNeeded: v & 0xFFFF_FFFF) &- 1
                if rows[s].keyLo == e.pointee.keyLo && rows[s].keyHi == e.pointee.keyHi { return s }
            }
            pos = (pos &+ 1) & keyMask
        }
    }

    func insertKey(_ e: UnsafeMutablePointer<Event>, _ pos: Int, _ tag: UInt64) -> Int {
        let slot = keyCount
        if slot == rowsCap {
            let newCap = rowsCap * 2
            let nr = alignedAlloc(MemoryLayout<Row>.stride * newCap).bindMemory(to: Row.self, capacity: newCap)
            nr.moveInitialize(from: rows, count: rowsCap)
            free(rows)
            rows = nr
            rowsCap = newCap
        }
        (rows + slot).initialize(to: Row())
        rows[slot].keyLo = e.pointee.keyLo
        rows[slot].keyHi = e.pointee.keyHi
        keyIndex[pos] = (tag &<< 32) | UInt64(slot + 1)
        keyCount += 1
        if keyCount * 2 > keyMask + 1 { growKeys() }
        return slot
    }

    func growKeys() {
        let newMask = keyMask * 2 + 1
        let idx = alignedAlloc(8 * (newMask + 1)).bindMemory(to: UInt64.self, capacity: newMask + 1)
        idx.initialize(repeating: 0, count: newMask + 1)
        for s in 0..<keyCount {
            let h = hashKey(rows[s].keyLo, rows[s].keyHi)
            var pos = Int(truncatingIfNeeded: h) & newMask
            while idx[pos] != 0 { pos = (pos + 1) & newMask }
            idx[pos] = ((h &>> 32) &<< 32) | UInt64(s + 1)
        }
        free(keyIndex)
        keyIndex = idx
        keyMask = newMask
    }

    // MARK: distinct table

    @inline(__always) func dHome(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) &>> UInt64(64 - dBits)) }

    /// Adds one occurrence; true when the pair is new.
    @inline(__always)
    func distinctAdd(_ key: UInt64) -> Bool {
        let mask = (1 << dBits) - 1
        var pos = dHome(key)
        while true {
            let k = dTable[pos].key
            if k == key {
                dTable[pos].count &+= 1
                return false
            }
            if k == emptyD {
                dTable[pos] = DEntry(key: key, count: 1)
                dCount += 1
                if dCount * 2 > mask + 1 { growDistinct() }
                return true
            }
            pos = (pos &+ 1) & mask
        }
    }

    /// Removes one occurrence; true when the pair is gone.
    @inline(__always)
    func distinctRemove(_ key: UInt64) -> Bool {
        let mask = (1 << dBits) - 1
        var pos = dHome(key)
        while dTable[pos].key != key { pos = (pos &+ 1) & mask }
        dTable[pos].count &-= 1
        if dTable[pos].count > 0 { return false }
        // Backward-shift deletion.
        var i = pos
        var j = pos
        while true {
            j = (j &+ 1) & mask
            let kj = dTable[j].key
            if kj == emptyD { break }
            let h = dHome(kj)
            let stays = i <= j ? (i < h && h <= j) : (i < h || h <= j)
            if !stays {
                dTable[i] = dTable[j]
                i = j
            }
        }
        dTable[i].key = emptyD
        dCount -= 1
        return true
    }

    func growDistinct() {
        let oldCount = 1 << dBits
        let old = dTable
        dBits += 1
        let mask = (1 << dBits) - 1
        dTable = alignedAlloc(16 << dBits).bindMemory(to: DEntry.self, capacity: 1 << dBits)
        dTable.initialize(repeating: DEntry(key: emptyD, count: 0), count: 1 << dBits)
        for i in 0..<oldCount where old[i].key != emptyD {
            var pos = dHome(old[i].key)
            while dTable[pos].key != emptyD { pos = (pos + 1) & mask }
            dTable[pos] = old[i]
        }
        free(old)
    }

    // MARK: window log pool

    func poolAllocate(_ cap: Int) -> UInt32 {
        let c = cap.trailingZeroBitCount
        if let off = poolFree[c].popLast() { return off }
        while poolUsed + cap + 16 > poolCap {
            let newCap = poolCap * 2
            let np = alignedAlloc(MemoryLayout<Entry>.stride * newCap).bindMemory(to: Entry.self, capacity: newCap)
            np.moveInitialize(from: pool, count: poolUsed)
            free(pool)
            pool = np
            let nm = alignedAlloc(4 * newCap).bindMemory(to: UInt32.self, capacity: newCap)
            nm.moveInitialize(from: mpool, count: poolUsed)
            free(mpool)
            mpool = nm
            poolCap = newCap
        }
        // Blocks of up to 16 entries start at a multiple of their size: their merchant ids
        // then sit in one cache line.
        let align = min(cap, 16)
        poolUsed = (poolUsed + align - 1) & ~(align - 1)
        let off = poolUsed
        poolUsed += cap
        return UInt32(off)
    }

    @inline(never)
    func growRing(_ r: UnsafeMutablePointer<Row>) {
        let oldMask = Int(r.pointee.ringMask)
        let oldCap = oldMask == 0 ? 0 : oldMask + 1
        let newCap = oldCap == 0 ? 4 : oldCap * 2
        let base = poolAllocate(newCap)
        let newMask = newCap - 1
        if oldCap > 0 {
            let oldBase = Int(r.pointee.ringBase)
            var i = r.pointee.head1d
            while i != r.pointee.tail {
                pool[Int(base) + (Int(i) & newMask)] = pool[oldBase + (Int(i) & oldMask)]
                mpool[Int(base) + (Int(i) & newMask)] = mpool[oldBase + (Int(i) & oldMask)]
                i &+= 1
            }
            poolFree[oldCap.trailingZeroBitCount].append(UInt32(oldBase))
        }
        r.pointee.ringBase = base
        r.pointee.ringMask = UInt32(newMask)
    }

    /// The window outgrew the scan: its (key, merchant) counts move to the global table.
    @inline(never)
    func outgrowSmallWindow(_ r: UnsafeMutablePointer<Row>, _ slot: Int) {
        let base = Int(r.pointee.ringBase)
        let mask = r.pointee.ringMask
        var i = r.pointee.head1d
        while i != r.pointee.tail {
            _ = distinctAdd(UInt64(slot) << 32 | UInt64(mpool[base + Int(i & mask)] & ~intFlag))
            i &+= 1
        }
        r.pointee.usesTable = 1
    }

    @inline(never)
    func evict1h(_ r: UnsafeMutablePointer<Row>, _ cut: Int64) {
        let base = Int(r.pointee.ringBase)
        let mask = r.pointee.ringMask
        let tail = r.pointee.tail
        var h = r.pointee.head1h
        while h != tail {
            let en = pool[base + Int(h & mask)]
            if en.time >= cut { break }
            r.pointee.sumCount -= 1
            if mpool[base + Int(h & mask)] & intFlag != 0 {
                r.pointee.sumInt &-= Int64(en.amount)
            } else {
                r.pointee.sumDoubleCount -= 1
                neumaier(&r.pointee.sumD, &r.pointee.sumComp, -en.amount)
                if r.pointee.sumCount == 0 || r.pointee.sumDoubleCount == 0 {
                    r.pointee.sumD = 0
                    r.pointee.sumComp = 0
                    if r.pointee.sumCount == 0 { r.pointee.sumInt = 0 }
                }
            }
            h &+= 1
        }
        r.pointee.head1h = h
        r.pointee.exp1h = h == tail ? .max : pool[base + Int(h & mask)].time
    }

    @inline(never)
    func evict1d(_ r: UnsafeMutablePointer<Row>, _ slot: Int, _ cut: Int64) {
        let base = Int(r.pointee.ringBase)
        let mask = r.pointee.ringMask
        let tail = r.pointee.tail
        var h = r.pointee.head1d
        while h != tail {
            let en = pool[base + Int(h & mask)]
            if en.time >= cut { break }
            let merchant = mpool[base + Int(h & mask)] & ~intFlag
            h &+= 1
            if r.pointee.usesTable != 0 {
                if distinctRemove(UInt64(slot) << 32 | UInt64(merchant)) { r.pointee.distinct -= 1 }
            } else {
                // Gone from the window unless a newer entry holds it too.
                var found = false
                var i = h
                while i != tail {
                    if mpool[base + Int(i & mask)] & ~intFlag == merchant {
                        found = true
                        break
                    }
                    i &+= 1
                }
                if !found { r.pointee.distinct -= 1 }
            }
        }
        r.pointee.head1d = h
        if h == tail {
            r.pointee.usesTable = 0
            // The window emptied: give its log back.
            r.pointee.exp1d = .max
            poolFree[Int(mask + 1).trailingZeroBitCount].append(UInt32(base))
            r.pointee.ringMask = 0
            r.pointee.ringBase = 0
        } else {
            r.pointee.exp1d = pool[base + Int(h & mask)].time
        }
    }

    // MARK: release batches

    func processBatch() {
        let n = batchN
        let b = batch
        if mode == 2 {
            for x in 0..<n {
                freeList[freeCount] = b[x]
                freeCount &+= 1
            }
            batchN = 0
            return
        }
        // Phase 1: the key index entries.
        for j in 0..<n {
            let e = events + Int(b[j])
            cs_prefetch(keyIndex + (Int(truncatingIfNeeded: e.pointee.hash) & keyMask))
        }
        // Phase 2: the rows the index points to (first tag match).
        for j in 0..<n {
            let e = events + Int(b[j])
            let h = e.pointee.hash
            let v = keyIndex[Int(truncatingIfNeeded: h) & keyMask]
            if v != 0 && v &>> 32 == h &>> 32 {
                let r = UnsafeRawPointer(rows + (Int(truncatingIfNeeded: v & 0xFFFF_FFFF) &- 1))
                cs_prefetch(r)
                cs_prefetch(r + 64)
                cs_prefetch(r + 128)
            }
        }
        // Phase 3: resolve; then the window log's tail and the distinct table's entry.
        for j in 0..<n {
            let e = events + Int(b[j])
            let slot = resolve(e)
            e.pointee.slot = UInt32(slot)
            let r = rows + slot
            if r.pointee.ringMask != 0 {
                cs_prefetch(pool + (Int(r.pointee.ringBase) + Int(r.pointee.tail & r.pointee.ringMask)))
                cs_prefetch(mpool + (Int(r.pointee.ringBase) + Int(r.pointee.tail & r.pointee.ringMask)))
            }
            if r.pointee.usesTable != 0 {
                cs_prefetch(dTable + dHome(UInt64(slot) << 32 | UInt64(e.pointee.merchant)))
            }
        }
        // Phase 4: apply and emit, peers (equal times) applied before any is emitted.
        var j = 0
        while j < n {
            let t = events[Int(b[j])].time
            var g = j + 1
            while g < n && events[Int(b[g])].time == t { g += 1 }
            for x in j..<g { apply(events + Int(b[x])) }
            if mode != 3 { for x in j..<g { emit(events + Int(b[x])) } }
            j = g
        }
        for x in 0..<n {
            freeList[freeCount] = b[x]
            freeCount &+= 1
        }
        batchN = 0
    }

    @inline(__always)
    func apply(_ e: UnsafeMutablePointer<Event>) {
        let slot = Int(e.pointee.slot)
        let r = rows + slot
        let t = e.pointee.time
        let cut1h = t &- window1h
        if r.pointee.exp1h < cut1h { evict1h(r, cut1h) }
        let cut1d = t &- window1d
        if r.pointee.exp1d < cut1d { evict1d(r, slot, cut1d) }
        let amount = e.pointee.amount
        let isInt = e.pointee.isInt != 0
        let c = r.pointee.count
        // recent_amounts
        UnsafeMutableRawPointer(r).storeBytes(of: e.pointee.packed, toByteOffset: recentOffset &+ 8 &* Int(c % 5), as: UInt64.self)
        r.pointee.count = c &+ 1
        // amount_avg (unwindowed) and amount_sum_1h
        r.pointee.sumCount &+= 1
        if isInt {
            let v = Int64(amount)
            r.pointee.avgInt &+= v
            r.pointee.sumInt &+= v
        } else {
            neumaier(&r.pointee.avgSum, &r.pointee.avgComp, amount)
            r.pointee.sumDoubleCount &+= 1
            neumaier(&r.pointee.sumD, &r.pointee.sumComp, amount)
        }
        // amount_max
        if c == 0 || amount > r.pointee.maxValue {
            r.pointee.maxValue = amount
            r.pointee.maxPacked = e.pointee.packed
        }
        // last_merchant, merchants_1d
        let merchant = e.pointee.merchant
        r.pointee.lastMerchant = merchant
        let tail = r.pointee.tail
        if r.pointee.usesTable != 0 {
            if distinctAdd(UInt64(slot) << 32 | UInt64(merchant)) { r.pointee.distinct &+= 1 }
        } else {
            let head = r.pointee.head1d
            if tail &- head < smallWindow {
                let base = Int(r.pointee.ringBase)
                let mask = r.pointee.ringMask
                var found = false
                var i = head
                while i != tail {
                    if mpool[base + Int(i & mask)] & ~intFlag == merchant {
                        found = true
                        break
                    }
                    i &+= 1
                }
                if !found { r.pointee.distinct &+= 1 }
            } else {
                outgrowSmallWindow(r, slot)
                if distinctAdd(UInt64(slot) << 32 | UInt64(merchant)) { r.pointee.distinct &+= 1 }
            }
        }
        // the window log
        if r.pointee.ringMask == 0 || tail &- r.pointee.head1d > r.pointee.ringMask { growRing(r) }
        let at = Int(r.pointee.ringBase) + Int(tail & r.pointee.ringMask)
        pool[at] = Entry(time: t, amount: amount)
        mpool[at] = merchant | (isInt ? intFlag : 0)
        if r.pointee.head1h == tail { r.pointee.exp1h = t }
        if r.pointee.head1d == tail { r.pointee.exp1d = t }
        r.pointee.tail = tail &+ 1
    }

    @inline(__always)
    func fragment(_ o: inout UnsafeMutablePointer<UInt8>, _ i: Int) {
        copy32(o, fragmentStore + 64 * i)
        o += fragmentLengths[i]
    }

    @inline(__always)
    func emit(_ e: UnsafeMutablePointer<Event>) {
        let r = rows + Int(e.pointee.slot)
        var o = out + outLen
        fragment(&o, 0)
        o += writeText(o, r.pointee.keyLo, r.pointee.keyHi)
        fragment(&o, 1)
        o += writeInt(e.pointee.time, o)
        fragment(&o, 2)
        let count = r.pointee.count
        o += writeUInt(UInt64(count), o)
        fragment(&o, 3)
        if r.pointee.sumDoubleCount == 0 {
            o += writeInt(r.pointee.sumInt, o)
        } else {
            o += writeDouble(Double(r.pointee.sumInt) + (r.pointee.sumD + r.pointee.sumComp), o)
        }
        fragment(&o, 4)
        o += writePacked(r.pointee.maxPacked, o)
        fragment(&o, 5)
        o += writeDouble((Double(r.pointee.avgInt) + (r.pointee.avgSum + r.pointee.avgComp)) / Double(count), o)
        fragment(&o, 6)
        let m = Int(r.pointee.lastMerchant)
        o += writeText(o, mLo[m], mHi[m])
        fragment(&o, 7)
        o += writeUInt(UInt64(r.pointee.distinct), o)
        fragment(&o, 8)
        let shown = count < 5 ? count : 5
        var i = count - shown
        let recent = UnsafeRawPointer(r) + recentOffset
        while i < count {
            o += writePacked(recent.load(fromByteOffset: 8 &* Int(i % 5), as: UInt64.self), o)
            o[0] = 0x2C
            o += 1
            i &+= 1
        }
        o -= 1  // the last comma
        fragment(&o, 9)
        outLen = o - out
        emitted &+= 1
        if outLen >= outCap { flush() }
    }

    func flush() {
        var p = UnsafeRawPointer(out)
        var left = outLen
        while left > 0 {
            let w = write(1, p, left)
            if w < 0 {
                if errno == EINTR { continue }
                perror("write")
                exit(1)
            }
            p += w
            left -= w
        }
        outLen = 0
    }

    // MARK: run

    func run(fd: Int32) {
        let chunk = 1 << 20
        var cap = 2 * chunk
        var buf = UnsafeMutablePointer<UInt8>.allocate(capacity: cap + 64)
        (buf + cap).initialize(repeating: 0, count: 64)
        var have = 0
        while true {
            if cap - have < chunk {
                let nb = UnsafeMutablePointer<UInt8>.allocate(capacity: cap * 2 + 64)
                nb.moveInitialize(from: buf, count: have)
                buf.deallocate()
                buf = nb
                cap *= 2
                (buf + cap).initialize(repeating: 0, count: 64)
            }
            let got = Glibc.read(fd, buf + have, chunk)
            if got < 0 {
                if errno == EINTR { continue }
                perror("read")
                exit(1)
            }
            if got == 0 { break }
            have += got
            var p = buf
            let end = buf + have
            while p < end {
                guard let nl = memchr(p, 0x0A, end - p) else { break }
                let q = nl.assumingMemoryBound(to: UInt8.self)
                handleLine(p, q - p)
                p = q + 1
            }
            let rest = end - p
            if rest > 0 && p != buf { memmove(buf, p, rest) }
            have = rest
        }
        if have > 0 {
            (buf + have).initialize(repeating: 0, count: 16)
            handleLine(buf, have)
        }
        release(upTo: .max)
        flush()
    }
}

// Check the runtime formatter against `description` before trusting it (as eddy does).
do {
    let samples: [Double] = [0.0, -0.0, 1.0, -2.5, 0.1, 0.25, 1.0 / 3, -2.0 / 3, 0.000123, 37.305, 123456.789,
                             1e15, 1e16, 1e22, .leastNonzeroMagnitude, 15.166666666666666, 28.333333333333332]
    let o = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
    for d in samples {
        let n = writeShortest(d, o)
        let s = String(decoding: UnsafeBufferPointer(start: o, count: n), as: UTF8.self)
        if s != d.description {
            fputs("runtime formatter differs on \(d.description): \(s)\n", stderr)
            exit(2)
        }
        let m = writeDouble(d, o)
        let s2 = String(decoding: UnsafeBufferPointer(start: o, count: m), as: UTF8.self)
        if s2 != d.description {
            fputs("writeDouble differs on \(d.description): \(s2)\n", stderr)
            exit(2)
        }
    }
}
precondition(MemoryLayout<Row>.stride == 192, "row is \(MemoryLayout<Row>.stride) bytes")

var fd: Int32 = 0
if CommandLine.arguments.count > 1 {
    fd = open(CommandLine.arguments[1], O_RDONLY)
    if fd < 0 {
        perror("open")
        exit(1)
    }
}
let engine = Engine()
engine.run(fd: fd)
if getenv("CEILING_STATS") != nil {
    fputs("read \(engine.read) emitted \(engine.emitted) late \(engine.late) rejected \(engine.rejected) keys \(engine.keyCount) distinct pairs \(engine.dCount) pool \(engine.poolUsed)\n", stderr)
}
