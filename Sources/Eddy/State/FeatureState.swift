/// One feature's state for one key: the accumulator behind a `dict` entry.
///
/// Accumulators are values, stored side by side in one row per key (see `StateRows`), so
/// that an event's states are found at fixed offsets from the key's row, not by chasing one
/// object per key and feature.
///
/// Events reach a key in event-time order (the runtime releases them by watermark), so a
/// lookback window only ever drops entries from its oldest end: every windowed state below
/// is a deque evicted from the front, with amortised constant work per event.
protocol FeatureAccumulator {
    /// Forgets entries with time < `cutoff` (the event's time minus the window).
    /// Unwindowed states ignore it.
    mutating func evict(olderThan cutoff: Int64)
    /// Adds one event's value, read where it lies: a `FieldValue` passed by value is copied
    /// out of the batch, retaining and releasing its text, which numeric features never read.
    /// Absent values (missing or null) are skipped, as SQL does.
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64)
    /// Appends the current result as JSON text.
    func appendResult(to out: ByteBuffer)
    /// `appendResult` on the state where it lies (see `FeatureStore.swift`).
    mutating func appendResultInPlace(to out: ByteBuffer)
    /// Writes the state in the persisted format (`StateFormat`), without the feature's
    /// configuration (window, limit, flags), which comes from the job's plan.
    func encodeState(to writer: inout StateWriter)
    /// Replaces the state with one written by `encodeState`; `self` carries the configuration.
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError)
    /// Heap bytes held beyond the accumulator's own size (window entries, map entries),
    /// approximate, for the memory budget of a backend that evicts cold keys.
    var heapBytes: Int { get }
    /// Byte offsets, within the accumulator, of the references to heap storage `add` will
    /// touch (window deques, maps), which are prefetched once the accumulator is in cache.
    static var heapReferenceOffsets: [Int] { get }
    /// The `heapReferenceOffsets` whose objects' first lines are prefetched before values are
    /// added, when `prefetchStorage` sees to the rest.
    static var heapReferenceOffsetsForAdding: [Int] { get }
    /// Starts loading what adding `value` will touch in the heap storage of the state at
    /// `state` beyond the first lines of its objects (a map's entry for the value), once the
    /// state is in cache.
    static func prefetchStorage(of state: UnsafeRawPointer, adding value: UnsafePointer<FieldValue>)
}

extension FeatureAccumulator {
    mutating func evict(olderThan cutoff: Int64) {}
    var heapBytes: Int { 0 }
    static var heapReferenceOffsets: [Int] { [] }
    static var heapReferenceOffsetsForAdding: [Int] { heapReferenceOffsets }
    static func prefetchStorage(of state: UnsafeRawPointer, adding value: UnsafePointer<FieldValue>) {}
}

/// What a field-less `count` receives for every event: present, so every event counts.
let countedEvent = FieldValue(kind: .bool, text: "true")

let nullText: [UInt8] = Array("null".utf8)

extension AppendBuffer where Element == UInt8 {
    /// A value's JSON text, or `null` when there is none.
    @inline(__always)
    func appendTextOrNull(_ text: String?) {
        if let text { appendUTF8(text) } else { append(contentsOf: nullText) }
    }
}

// MARK: - count

struct CountState: FeatureAccumulator {
    private var count: Int64 = 0
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) {
        if !event.isAbsent { count += 1 }
    }
    @inline(__always)
    func appendResult(to out: ByteBuffer) { NumberText.append(count, to: out) }
}

struct WindowedCountState: FeatureAccumulator {
    private var times = Lookback<Occurrence>()
    mutating func evict(olderThan cutoff: Int64) { times.evict(olderThan: cutoff) }
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) {
        if !event.isAbsent { times.append(Occurrence(), at: time) }
    }
    func appendResult(to out: ByteBuffer) { NumberText.append(Int64(times.count), to: out) }
}

// MARK: - sum, avg

/// A sum that stays an exact integer while every value is an integer, and otherwise adds
/// doubles with Neumaier's compensation, so that adding then retracting values (lookback
/// windows) does not drift visibly.
///
/// Integers add up in 128 bits, which no stream of Int64 values overflows: a value always
/// goes to the part it is retracted from, where an Int64 sum that overflowed into the
/// double part was later retracted from the integer part, and a window's sum came out wrong.
struct NumericTotal {
    // The 16-byte integer first: after an 8-byte field it left 8 bytes of padding (a sum and
    // an average are 8 bytes smaller, which keeps the card job's row within five cache lines).
    private var integerSum: Int128 = 0
    private(set) var count: Int64 = 0
    private var doubleSum: Double = 0
    private var compensation: Double = 0
    /// Values in the total that are not exact integers.
    private var doubleCount: Int64 = 0

    /// Without `remove`'s reset test, which an addition never meets (it leaves both counts
    /// at least 1): 4 instructions per event and sum.
    @inline(__always)
    mutating func add(_ value: NumericValue) {
        count += 1
        if let integer = value.integer {
            integerSum += Int128(integer)
            return
        }
        doubleCount += 1
        addDouble(value.number)
    }

    mutating func remove(_ value: NumericValue) {
        count -= 1
        if let integer = value.integer {
            integerSum -= Int128(integer)
            return
        }
        doubleCount -= 1
        addDouble(-value.number)
        if count == 0 || doubleCount == 0 {
            // Nothing fractional is left in the total: restart the compensated part from an
            // exact zero instead of carrying rounding residue forward.
            doubleSum = 0
            compensation = 0
            if count == 0 { integerSum = 0 }
        }
    }

    private mutating func addDouble(_ x: Double) {
        let t = doubleSum + x
        if abs(doubleSum) >= abs(x) {
            compensation += (doubleSum - t) + x
        } else {
            compensation += (x - t) + doubleSum
        }
        doubleSum = t
    }

    var isExactInteger: Bool { doubleCount == 0 }
    @inline(__always)
    var asDouble: Double {
        (smallIntegerSum.map(Double.init) ?? Self.wideDouble(integerSum)) + (doubleSum + compensation)
    }

    /// An integer sum beyond Int64 as a Double, out of line: the standard library's generic
    /// conversion kept the callers' registers busy around it.
    @inline(never)
    private static func wideDouble(_ sum: Int128) -> Double { Double(sum) }

    /// The integer part when it fits Int64, as it nearly always does. Checked by hand:
    /// `Double(_:)` and `Int64(exactly:)` on an Int128 run the standard library's generic,
    /// unspecialised conversions (~1,000 instructions a call, 7% of a job with an average).
    @inline(__always)
    private var smallIntegerSum: Int64? {
        let low = Int64(truncatingIfNeeded: integerSum)
        return Int128(low) == integerSum ? low : nil
    }

    /// The sum's text. Inlined into the batch loop with only the common cases (a sum with
    /// a fraction, an Int64 one): the rest is out of line, so that the inlined code needs
    /// no stack frame of its own.
    ///
    /// Static, reading the total at `total` in place: a method on the value copied all of
    /// it to the stack first, as the output's stores may alias it (-6 instructions an event
    /// and numeric feature).
    @inline(__always)
    static func appendSum(of total: UnsafePointer<NumericTotal>, to out: ByteBuffer) {
        if total.pointee.count != 0 {
            if !total.pointee.isExactInteger { return NumberText.append(total.pointee.asDouble, to: out) }
            if let sum = total.pointee.smallIntegerSum { return NumberText.append(sum, to: out) }
        }
        total.pointee.appendEmptyOrWideSum(to: out)
    }

    @inline(never)
    private func appendEmptyOrWideSum(to out: ByteBuffer) {
        if count == 0 {
            out.append(contentsOf: nullText)
        } else {
            // Beyond Int64: the exact digits, as SQL engines with 128-bit sums print them.
            out.appendUTF8(String(integerSum))
        }
    }

    /// The average's text, read in place as `appendSum(of:to:)` is.
    @inline(__always)
    static func appendAverage(of total: UnsafePointer<NumericTotal>, to out: ByteBuffer) {
        let count = total.pointee.count
        guard count != 0 else { return out.append(contentsOf: nullText) }
        NumberText.append(total.pointee.asDouble / Double(count), to: out)
    }
}

/// A number as sums keep it, without its text: exact when it is an integer that fits Int64.
struct NumericValue: StateCodable {
    var number: Double
    var integer: Int64?

    init(number: Double, integer: Int64?) {
        self.number = number
        self.integer = integer
    }

    /// The number of the value at `value`, read from its stored fields in place: `numeric`
    /// called on `pointee` would copy the whole value (and retain its text) first.
    init(at value: UnsafePointer<FieldValue>) {
        number = value.pointee.number
        integer = value.pointee.integer
    }
}

/// The state of an unwindowed `sum` (`SumState`) or `avg` (`AverageState`): the total alone.
/// Two types rather than one with a flag: the flag was read from the row per event, and made
/// the state 49 bytes, too many to share a line with the end of a windowed sum's state
/// (`StateRows.lineAwareLayout`).
protocol TotalState: FeatureAccumulator {
    var total: NumericTotal { get set }
}

extension TotalState {
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) {
        if !event.isAbsent { total.add(NumericValue(at: event)) }
    }
    func appendResult(to out: ByteBuffer) {
        var copy = self
        copy.appendResultInPlace(to: out)
    }
}

struct SumState: TotalState {
    var total = NumericTotal()
    /// The total read in place (see `NumericTotal.appendSum(of:to:)`).
    @inline(__always)
    mutating func appendResultInPlace(to out: ByteBuffer) { NumericTotal.appendSum(of: &total, to: out) }
}

struct AverageState: TotalState {
    var total = NumericTotal()
    /// The total read in place (see `NumericTotal.appendAverage(of:to:)`).
    @inline(__always)
    mutating func appendResultInPlace(to out: ByteBuffer) { NumericTotal.appendAverage(of: &total, to: out) }
}

// MARK: - stddev

/// Welford's running mean and sum of squared deviations, with the inverse step for removal,
/// instead of sums of squares, which lose precision on near-equal values.
struct Welford {
    private(set) var count: Int64 = 0
    private var mean: Double = 0
    private var m2: Double = 0

    mutating func add(_ x: Double) {
        count += 1
        let delta = x - mean
        mean += delta / Double(count)
        m2 += delta * (x - mean)
    }

    mutating func remove(_ x: Double) {
        if count <= 1 {
            self = Welford()
            return
        }
        count -= 1
        let delta = x - mean
        mean -= delta / Double(count)
        m2 = max(0, m2 - delta * (x - mean))
    }

    /// The sum of squared deviations from the mean.
    var spread: Double { m2 }

    /// Sample standard deviation (SQL's STDDEV), null below two values.
    func appendSampleStandardDeviation(to out: ByteBuffer) {
        if count < 2 {
            out.append(contentsOf: nullText)
        } else {
            NumberText.append((m2 / Double(count - 1)).squareRoot(), to: out)
        }
    }
}

struct StddevState: FeatureAccumulator {
    private var welford = Welford()
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) {
        if !event.isAbsent { welford.add(event.pointee.number) }
    }
    func appendResult(to out: ByteBuffer) { welford.appendSampleStandardDeviation(to: out) }
}

/// Windowed stddev: Welford's inverse step removes values cheaply but leaves rounding residue
/// behind, which matters once the removed values dwarf what stays (an outlier leaving, or a
/// wide spread giving way to near-equal values). So the accumulator is rebuilt exactly from
/// the window's contents when its spread has collapsed to under 1/1000 of its peak since the
/// last rebuild, or after as many removals as the window holds (amortised constant work).
struct WindowedStddevState: FeatureAccumulator {
    private var welford = Welford()
    private var numbers = Lookback<Double>()
    private var peakSpread: Double = 0
    private var removalsSinceRebuild = 0
    mutating func evict(olderThan cutoff: Int64) {
        var removed = false
        while let number = numbers.popOldest(before: cutoff) {
            welford.remove(number)
            removalsSinceRebuild += 1
            removed = true
        }
        guard removed else { return }
        if removalsSinceRebuild >= numbers.count || welford.spread < peakSpread * 1e-3 {
            welford = Welford()
            for entry in numbers.elements { welford.add(entry.element) }
            peakSpread = welford.spread
            removalsSinceRebuild = 0
        }
    }
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) {
        guard !event.isAbsent else { return }
        welford.add(event.pointee.number)
        peakSpread = max(peakSpread, welford.spread)
        numbers.append(event.pointee.number, at: time)
    }
    func appendResult(to out: ByteBuffer) { welford.appendSampleStandardDeviation(to: out) }
}

// MARK: - min, max

/// `a > b` for numbers, exactly: two Int64s as integers (doubles lose integers beyond 2^53),
/// else by their doubles, and where those are equal by exact values (integers beyond Int64,
/// kept digit for digit in their texts, can share a double with each other or with a double).
@inline(__always)
private func exceeds(_ a: NumericValue, _ b: NumericValue, texts: @autoclosure () -> (String, String)) -> Bool {
    if let x = a.integer, let y = b.integer { return x > y }
    if a.number != b.number { return a.number > b.number }
    return exceedsByText(texts(), sharedDouble: a.number)
}

/// The rare tie of `exceeds`, out of line.
@inline(never)
private func exceedsByText(_ texts: (String, String), sharedDouble: Double) -> Bool {
    texts.0 != texts.1 && ExactDecimal.exceeds(texts.0, texts.1, sharedDouble: sharedDouble)
}

extension FieldValue {
    /// The value as a number, for comparisons that must not copy the text.
    @inline(__always) var numeric: NumericValue { NumericValue(number: number, integer: integer) }
}

extension UnsafePointer where Pointee == FieldValue {
    /// `pointee.isAbsent` from the stored kind alone: calling a computed property on
    /// `pointee` copied the whole value, retaining and releasing its text.
    @inline(__always) var isAbsent: Bool { pointee.kind.isAbsent }
}

struct ExtremeState: FeatureAccumulator {
    /// `.missing` until a value arrives: a plain value rather than an optional, so that a
    /// new best replaces the old in place (`FieldValue.assign`).
    private var best = FieldValue.missing
    private let isMax: Bool
    init(isMax: Bool) { self.isMax = isMax }
    @inline(__always)
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) {
        guard !event.isAbsent else { return }
        if best.kind != .missing {
            let candidate = NumericValue(at: event)
            let current = best.numeric
            let better = isMax
                ? exceeds(candidate, current, texts: (event.pointee.text, best.text))
                : exceeds(current, candidate, texts: (best.text, event.pointee.text))
            if !better { return }
        }
        FieldValue.assign(&best, from: event)
    }
    @inline(__always)
    func appendResult(to out: ByteBuffer) {
        if best.kind != .missing { out.appendUTF8(best.text) } else { out.append(contentsOf: nullText) }
    }
}

/// Sliding-window min/max with a monotonic deque: each value is pushed and popped at most
/// once, so there is no rescan of the window per event.
struct WindowedExtremeState: FeatureAccumulator {
    private var candidates = Lookback<FieldValue>()
    private let isMax: Bool
    init(isMax: Bool) { self.isMax = isMax }
    mutating func evict(olderThan cutoff: Int64) { candidates.evict(olderThan: cutoff) }
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) {
        guard !event.isAbsent else { return }
        // A newer value at least as good makes older ones unreachable: they leave the window first.
        let isMax = isMax
        let candidate = NumericValue(at: event)
        candidates.removeLast {
            isMax
                ? !exceeds($0.numeric, candidate, texts: ($0.text, event.pointee.text))
                : !exceeds(candidate, $0.numeric, texts: (event.pointee.text, $0.text))
        }
        candidates.append(event.pointee, at: time)
    }
    func appendResult(to out: ByteBuffer) {
        out.appendTextOrNull(candidates.first?.text)
    }
}

// MARK: - first, last

struct FirstState: FeatureAccumulator {
    private var first: String?
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) {
        if first == nil, !event.isAbsent { first = event.pointee.text }
    }
    func appendResult(to out: ByteBuffer) {
        out.appendTextOrNull(first)
    }
}

struct WindowedFirstState: FeatureAccumulator {
    private var texts = Lookback<String>()
    mutating func evict(olderThan cutoff: Int64) { texts.evict(olderThan: cutoff) }
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) {
        if !event.isAbsent { texts.append(event.pointee.text, at: time) }
    }
    func appendResult(to out: ByteBuffer) {
        out.appendTextOrNull(texts.first)
    }
}

/// `last`: the newest non-null value; with a window, it expires once older than the window,
/// and then nothing newer exists in the window either.
struct LastState: FeatureAccumulator {
    private var time: Int64 = 0
    private var text = ""
    /// Whether a value is held; a flag beside a plain text rather than an optional pair, so
    /// that a new value replaces the old in place (`InlineText.assign`).
    private var holdsValue = false
    private let windowed: Bool
    init(windowed: Bool) { self.windowed = windowed }
    mutating func evict(olderThan cutoff: Int64) {
        if windowed, holdsValue, time < cutoff {
            holdsValue = false
            text = ""
        }
    }
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) {
        guard !event.isAbsent else { return }
        holdsValue = true
        self.time = time
        InlineText.assign(&text, from: FieldValue.textAddress(event))
    }
    @inline(__always)
    func appendResult(to out: ByteBuffer) {
        if holdsValue { out.appendUTF8(text) } else { out.append(contentsOf: nullText) }
    }
}

// MARK: - count_distinct, histogram

/// Occurrences per distinct value (by canonical JSON text); for a window, also the
/// values in arrival order so they can be retracted as they fall out.
///
/// A windowed distinct count whose window holds at most `smallWindow` values keeps no table:
/// a value is looked for among the window's own texts, and the count of distinct ones is
/// kept beside them. Most keys see a handful of events in a window, and for them the table
/// was a second heap object to allocate, grow (twice, on the way to 16 entries) and miss in
/// the cache, with every text stored twice. The table is built once the window outgrows
/// that, and dropped again when the window empties.
struct ValueCountsState: FeatureAccumulator {
    private var counts = TextCounts()
    private var texts = Lookback<String>()
    /// While there is no table: the union of the window's texts' `presenceBit`s. A text
    /// whose bit is clear is not in the window, which spares the scan of the window for
    /// nearly every new value (~80 instructions an event on the card job).
    private var presentBits: UInt64 = 0
    /// Distinct texts in the window while there is no table (`counts` is empty), so at most
    /// `smallWindow`. 32 bits, so that the state fits one cache line (63 bytes, from 67): its
    /// batch loop loads one line of each row, not two.
    private var distinctInWindow: Int32 = 0
    private let windowed: Bool
    private let histogram: Bool
    /// Whether the state keeps no table: a windowed distinct count (not a histogram, whose
    /// result lists the counts) whose table is empty. Stored, as one flag read per event,
    /// where computing it read three fields (one of them on another cache line of the state).
    private var withoutTable: Bool
    init(windowed: Bool, histogram: Bool) {
        self.windowed = windowed
        self.histogram = histogram
        withoutTable = windowed && !histogram
    }

    /// Window sizes up to which a distinct count goes without a table while its window only
    /// grows. 64 rather than 16: on the card job (windows of up to a few hundred values that
    /// never evict) building and growing the tables of the windows past 16 cost more than the
    /// longer scans, 3,459 -> 3,385 instructions an event on 1M events.
    static var smallWindow: Int { 64 }

    /// Window sizes up to which a distinct count that evicts goes without a table: each
    /// eviction without one rescans the window (`contains`, `unionOfBits`), so a window
    /// that slides keeps the table it had at 16 values.
    static var smallSlidingWindow: Int { 16 }

    /// The capacity of the window's first allocation: 12 rather than `Lookback`'s 8, which
    /// the card job's keys with 9 to 12 values (a fifth of them) outgrew, at ~450
    /// instructions a growth (the generic array growth, malloc and free): 3,370 -> 3,352
    /// instructions an event on 1M events, for 96 bytes more per key (RSS 171 -> 175 MB;
    /// 16 took 3,342 and 179 MB).
    static var initialWindowCapacity: Int { 12 }

    /// Whether a table is kept (for tests).
    var keepsTable: Bool { !withoutTable }

    /// Distinct texts held.
    private var distinctCount: Int { withoutTable ? Int(distinctInWindow) : counts.count }

    /// A bit that depends only on the text's bytes: for an inline text, one of 64 picked by
    /// its 16 bytes (the count and tag follow from the bytes); for a text stored out of line
    /// (long, as a rule), every bit, so that it is always looked for by a scan.
    @inline(__always)
    static func presenceBit(ofTextAt text: UnsafePointer<String>) -> UInt64 {
        guard let inline = InlineText.inlineWords(at: text) else { return .max }
        let mixed = (inline.words.0 ^ inline.words.1 &* 0xBF58_476D_1CE4_E5B9) &* 0x9E37_79B9_7F4A_7C15
        return 1 &<< (mixed &>> 58)
    }

    @inline(__always)
    mutating func evict(olderThan cutoff: Int64) {
        if texts.holdsEntry(before: cutoff), withoutTable, texts.count > Self.smallSlidingWindow { buildTable() }
        var evicted = false
        while let text = texts.popOldest(before: cutoff) {
            evicted = true
            if withoutTable {
                if !texts.contains(text) { distinctInWindow -= 1 }
            } else {
                counts.remove(text)
                // The window emptied (a table holds every text of it): drop the table's
                // storage too, as a restored state would not have it.
                if counts.isEmpty && windowed && !histogram {
                    counts = TextCounts()
                    withoutTable = true
                }
            }
        }
        // What left may have been the last holder of a bit.
        if evicted, withoutTable { presentBits = texts.unionOfBits(Self.presenceBit(ofTextAt:)) }
    }
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) {
        guard !event.isAbsent else { return }
        let text = FieldValue.textAddress(event)
        if withoutTable {
            if texts.count < Self.smallWindow {
                let bit = Self.presenceBit(ofTextAt: text)
                if presentBits & bit == 0 || !texts.contains(textAt: text) { distinctInWindow &+= 1 }
                presentBits |= bit
                texts.append(InlineText.copy(at: text), at: time, initialCapacity: Self.initialWindowCapacity)
                return
            }
            buildTable()
        }
        counts.add(textAt: text)
        if windowed { texts.append(InlineText.copy(at: text), at: time) }
    }

    /// The window outgrew `smallWindow`, or `smallSlidingWindow` as it slides: from now on, a
    /// table of its texts, sized for them and the one to come, and filled with the texts read
    /// in place. Out of line: its loop gave `add` a stack protector and spills on every event.
    @inline(never)
    private mutating func buildTable() {
        var table = TextCounts(roomFor: texts.count + 1)
        texts.forEachText { table.add(textAt: $0) }
        counts = table
        distinctInWindow = 0
        presentBits = 0
        withoutTable = false
    }

    @inline(__always)
    func appendResult(to out: ByteBuffer) {
        guard histogram else {
            NumberText.append(Int64(distinctCount), to: out)
            return
        }
        Self.appendHistogram(of: counts, to: out)
    }

    /// The histogram's result, out of line so that a distinct count's is inlined. Given the
    /// table alone, which fits in registers: a call with the whole state passed a copy of it
    /// (66 bytes, copied onto the stack before every distinct count's result too).
    @inline(never)
    private static func appendHistogram(of counts: borrowing TextCounts, to out: ByteBuffer) {
        guard !counts.isEmpty else {
            out.append(contentsOf: nullText)
            return
        }
        // A bucket is named by the value's string form (the number 5 and the string "5"
        // share one, as a JSON object's keys are strings), sorted by UTF-8 bytes, that is
        // by code point, so that equal states print equal objects whatever the arrival order.
        var buckets: [ExactText: Int64] = [:]
        for (text, count) in counts.all {
            let name = text.utf8.first == UInt8(ascii: "\"") ? (JSONText.unquote(text) ?? text) : text
            buckets[ExactText(name), default: 0] += count
        }
        out.append(UInt8(ascii: "{"))
        for (index, entry) in buckets.sorted(by: { $0.key.text.utf8Precedes($1.key.text) }).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.appendUTF8(JSONText.quote(entry.key.text))
            out.append(UInt8(ascii: ":"))
            NumberText.append(entry.value, to: out)
        }
        out.append(UInt8(ascii: "}"))
    }
}

// MARK: - collect

/// Values oldest to newest; `limit` keeps the newest N, and a window drops values that
/// fall out of the lookback.
struct CollectState: FeatureAccumulator {
    private var texts = Lookback<String>()
    /// `Int.max` for no limit: an optional took 9 bytes, and a 9th byte an 8-byte-aligned
    /// row slot of 8 more.
    private let limit: Int
    init(limit: Int?) { self.limit = limit ?? .max }
    mutating func evict(olderThan cutoff: Int64) { texts.evict(olderThan: cutoff) }
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) {
        guard !event.isAbsent else { return }
        texts.append(InlineText.copy(at: FieldValue.textAddress(event)), at: time)
        if texts.count > limit { texts.removeFirst() }
    }
    func appendResult(to out: ByteBuffer) {
        guard !texts.isEmpty else {
            out.append(contentsOf: nullText)
            return
        }
        texts.appendJSONArray(to: out)
    }
}

// MARK: - persisted form

extension NumericValue {
    func encode(to writer: inout StateWriter) {
        writer.write(number)
        writer.write(integer)
    }

    static func decode(from reader: inout StateReader) throws(StateFormatError) -> NumericValue {
        NumericValue(number: try reader.readDouble(), integer: try reader.readOptional(Int64.self))
    }
}

extension NumericTotal {
    func encode(to writer: inout StateWriter) {
        writer.write(count)
        // Version 2: the 128-bit integer sum, low word first.
        writer.write(Int64(truncatingIfNeeded: integerSum))
        writer.write(Int64(truncatingIfNeeded: integerSum >> 64))
        writer.write(doubleSum)
        writer.write(compensation)
        writer.write(doubleCount)
    }

    static func decode(from reader: inout StateReader) throws(StateFormatError) -> NumericTotal {
        var total = NumericTotal()
        total.count = try reader.readInt64()
        if reader.version >= 2 {
            let low = try reader.readInt64()
            let high = try reader.readInt64()
            total.integerSum = Int128(high) << 64 | Int128(UInt64(bitPattern: low))
        } else {
            total.integerSum = Int128(try reader.readInt64())
        }
        total.doubleSum = try reader.readDouble()
        total.compensation = try reader.readDouble()
        total.doubleCount = try reader.readInt64()
        return total
    }
}

extension Welford {
    func encode(to writer: inout StateWriter) {
        writer.write(count)
        writer.write(mean)
        writer.write(m2)
    }

    static func decode(from reader: inout StateReader) throws(StateFormatError) -> Welford {
        var welford = Welford()
        welford.count = try reader.readInt64()
        welford.mean = try reader.readDouble()
        welford.m2 = try reader.readDouble()
        return welford
    }
}

extension CountState {
    func encodeState(to writer: inout StateWriter) { writer.write(count) }
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) { count = try reader.readInt64() }
}

extension WindowedCountState {
    static var heapReferenceOffsets: [Int] { [MemoryLayout<Self>.offset(of: \.times)! + Lookback<Occurrence>.storageOffset] }

    func encodeState(to writer: inout StateWriter) { times.encode(to: &writer) }
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) {
        times = try .decode(from: &reader)
    }
    var heapBytes: Int { times.heapBytes }
}

extension TotalState {
    func encodeState(to writer: inout StateWriter) { total.encode(to: &writer) }
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) {
        total = try .decode(from: &reader)
    }
}

extension StddevState {
    func encodeState(to writer: inout StateWriter) { welford.encode(to: &writer) }
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) {
        welford = try .decode(from: &reader)
    }
}

extension WindowedStddevState {
    static var heapReferenceOffsets: [Int] { [MemoryLayout<Self>.offset(of: \.numbers)! + Lookback<Double>.storageOffset] }

    func encodeState(to writer: inout StateWriter) {
        welford.encode(to: &writer)
        numbers.encode(to: &writer)
        writer.write(peakSpread)
        writer.writeCount(removalsSinceRebuild)
    }
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) {
        welford = try .decode(from: &reader)
        numbers = try .decode(from: &reader)
        peakSpread = try reader.readDouble()
        removalsSinceRebuild = try reader.readVarint()
    }
    var heapBytes: Int { numbers.heapBytes }
}

extension ExtremeState {
    func encodeState(to writer: inout StateWriter) { writer.write(best.kind == .missing ? nil : best) }
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) {
        best = try reader.readOptional(FieldValue.self) ?? .missing
    }
}

extension WindowedExtremeState {
    static var heapReferenceOffsets: [Int] { [MemoryLayout<Self>.offset(of: \.candidates)! + Lookback<FieldValue>.storageOffset] }

    func encodeState(to writer: inout StateWriter) { candidates.encode(to: &writer) }
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) {
        candidates = try .decode(from: &reader)
    }
    var heapBytes: Int { candidates.heapBytes }
}

extension FirstState {
    func encodeState(to writer: inout StateWriter) { writer.write(first) }
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) {
        first = try reader.readOptional(String.self)
    }
}

extension WindowedFirstState {
    static var heapReferenceOffsets: [Int] { [MemoryLayout<Self>.offset(of: \.texts)! + Lookback<String>.storageOffset] }

    func encodeState(to writer: inout StateWriter) { texts.encode(to: &writer) }
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) {
        texts = try .decode(from: &reader)
    }
    var heapBytes: Int { texts.heapBytes }
}

extension LastState {
    func encodeState(to writer: inout StateWriter) {
        writer.write(holdsValue)
        if holdsValue {
            writer.write(time)
            writer.write(text)
        }
    }
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) {
        holdsValue = try reader.readBool()
        time = holdsValue ? try reader.readInt64() : 0
        text = holdsValue ? try reader.readString() : ""
    }
}

extension ValueCountsState {
    static var heapReferenceOffsets: [Int] {
        [MemoryLayout<Self>.offset(of: \.counts)! + TextCounts.storageOffset, MemoryLayout<Self>.offset(of: \.texts)! + Lookback<String>.storageOffset]
    }

    /// The window's: the table, which most states go without, is left to `prefetchStorage`,
    /// which loads its header and the value's entry only when there is one (four prefetches
    /// of the empty array's storage per event, otherwise).
    static var heapReferenceOffsetsForAdding: [Int] {
        [MemoryLayout<Self>.offset(of: \.texts)! + Lookback<String>.storageOffset]
    }

    /// The distinct-count table's entry for the value: a miss on it was the largest stall of
    /// a job with a windowed distinct count. The table is looked for before the value: most
    /// states have none, and then the value's line is not loaded (a simulated D1 miss per
    /// event on the card job).
    @inline(__always)
    static func prefetchStorage(of state: UnsafeRawPointer, adding value: UnsafePointer<FieldValue>) {
        let table = state + MemoryLayout<Self>.offset(of: \.counts)!
        guard TextCounts.holdsTable(at: table), !value.isAbsent else { return }
        TextCounts.prefetchSlot(in: table, textAt: FieldValue.textAddress(value))
    }

    /// Distinct values sorted by their bytes, so that equal states encode to equal bytes
    /// whatever the table's order (which depends on its history), or whether there is one.
    func encodeState(to writer: inout StateWriter) {
        if withoutTable {
            // What a table would hold, in the same order (`counts.forEachInByteOrder`), from the
            // window itself; the count kept beside it is what the window holds (checked in
            // debug builds: a wrong count would write a state that does not decode).
            assert({
                var distinct = 0
                texts.forEachDistinctTextInByteOrder { _, _ in distinct += 1 }
                return distinct == Int(distinctInWindow)
            }())
            writer.writeCount(Int(distinctInWindow))
            texts.forEachDistinctTextInByteOrder { text, occurrences in
                writer.write(textAt: text)
                writer.write(occurrences)
            }
        } else {
            writer.writeCount(counts.count)
            counts.forEachInByteOrder { text, occurrences in
                writer.write(textAt: text)
                writer.write(occurrences)
            }
        }
        texts.encode(to: &writer)
    }
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) {
        let distinct = try reader.readCount()
        counts = TextCounts()
        for _ in 0..<distinct {
            let text = try reader.readString()
            let occurrences = try reader.readInt64()
            guard occurrences > 0 else { throw StateFormatError("a distinct value counted \(occurrences) times") }
            counts.add(text, occurrences: occurrences)
        }
        texts = try .decode(from: &reader)
        distinctInWindow = 0
        if windowed, !histogram, texts.count <= Self.smallWindow {
            // A small window goes without a table, as it would have had it been built here;
            // its distinct texts are counted from the window itself.
            var distinct = 0
            texts.forEachDistinctTextInByteOrder { _, _ in distinct += 1 }
            guard distinct == counts.count else {
                throw StateFormatError("a window of \(distinct) distinct values counted as \(counts.count)")
            }
            distinctInWindow = Int32(distinct)
            counts = TextCounts()
        }
        withoutTable = windowed && !histogram && counts.isEmpty
        presentBits = withoutTable ? texts.unionOfBits(Self.presenceBit(ofTextAt:)) : 0
    }
    var heapBytes: Int { counts.heapBytes + texts.heapBytes }
}

extension CollectState {
    static var heapReferenceOffsets: [Int] { [MemoryLayout<Self>.offset(of: \.texts)! + Lookback<String>.storageOffset] }

    func encodeState(to writer: inout StateWriter) { texts.encode(to: &writer) }
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) {
        texts = try .decode(from: &reader)
    }
    var heapBytes: Int { texts.heapBytes }
}
