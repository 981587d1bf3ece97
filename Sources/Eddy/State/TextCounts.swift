import CEddySupport

/// Occurrences per distinct text (a value's canonical JSON text): the map behind
/// `count_distinct` and `histogram`, one per key.
///
/// Open addressing on a stable hash of the texts' bytes (`hash(ofTextAt:)`) instead of a
/// `Dictionary`, whose seeded SipHash and rehash-on-growth made up most of a distinct
/// count's cost per event. An entry keeps its full hash, so a
/// probe compares texts only on a hash match, and removal shifts later entries back
/// instead of leaving tombstones, so a sliding window's churn never clogs the table.
struct TextCounts {
    private struct Entry {
        var hash: UInt64
        /// 0 marks an empty entry.
        var occurrences: Int64
        var text: String
    }

    /// Empty, or a power of two at most three quarters full.
    private var entries: [Entry] = []
    /// Distinct texts held. 32 bits, as `mask`: a table of 16 bytes rather than 24 leaves
    /// room in a windowed distinct count's state for a wider presence filter
    /// (`WindowedDistinctState`), within one line of the row.
    private var storedCount: Int32 = 0
    var count: Int { Int(storedCount) }
    /// `entries.count - 1` (-1 while empty), kept beside the table so that the slot of a text
    /// can be prefetched from the state alone, before the table's header is in cache.
    private var mask: Int32 = -1

    var isEmpty: Bool { count == 0 }

    init() {}

    /// An empty table with room for `distinct` texts without growing: a table built from a
    /// window of known size grew three times on the way (a fifth of building it).
    init(roomFor distinct: Int) {
        var size = 8
        while distinct * 4 > size * 3 { size *= 2 }
        mask = Int32(size - 1)
        entries = Array(initialisedInPlace: size, with: Entry(hash: 0, occurrences: 0, text: ""))
    }

    /// The table's hash of the text stored at `text`. Tables are never persisted (a state
    /// writes its texts), so this need not be the key hash: a text of at most 15 bytes, as
    /// nearly all are, is hashed as its bytes' two words and its count, a few multiplications
    /// where FNV-1a took two per byte (~40 instructions for a 10-byte text, per probe and per
    /// prefetch). It hashes alike whether stored inline or out of line; a longer text, never
    /// inline, takes the key hash.
    @inline(__always)
    static func hash(ofTextAt text: UnsafePointer<String>) -> UInt64 {
        guard let inline = InlineText.inlineWords(at: text) else { return outOfLineHash(text) }
        // Bytes 8-14; the tag in the top byte is left out, as a copy out of line has none.
        return shortHash(inline.words.0, inline.words.1 & 0x00FF_FFFF_FFFF_FFFF, count: inline.count)
    }

    /// `hash(ofTextAt:)` for a text not stored inline.
    @inline(never)
    private static func outOfLineHash(_ text: UnsafePointer<String>) -> UInt64 {
        var copy = text.pointee
        return copy.withUTF8 { bytes in
            guard bytes.count <= 15 else { return KeyGroups.stableHash(bytes) }
            // Laid out as an inline text's bytes: zeros past the count, none in the tag's place.
            var words: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
            return shortHash(words.0, words.1, count: bytes.count)
        }
    }

    /// A hash of up to 15 bytes held as two words (bytes 0-7, bytes 8-14 with a zero top
    /// byte) and their count, which tells texts ending in zero bytes apart; mixed so that
    /// its low bits, a table position, depend on every byte.
    @inline(__always)
    private static func shortHash(_ low: UInt64, _ high: UInt64, count: Int) -> UInt64 {
        var hash = low &* 0x9E37_79B9_7F4A_7C15 ^ (high | UInt64(truncatingIfNeeded: count) &<< 56) &* 0xC2B2_AE3D_27D4_EB4F
        hash ^= hash &>> 29
        hash &*= 0xBF58_476D_1CE4_E5B9
        hash ^= hash &>> 32
        return hash
    }

    /// Counts one more occurrence of the text stored at `text`, read in place: it is copied
    /// only when new to the table (a copy retains and releases it, even when inline).
    @inline(__always)
    mutating func add(textAt text: UnsafePointer<String>, occurrences: Int64 = 1) {
        let hash = Self.hash(ofTextAt: text)
        if (count + 1) * 4 > entries.count * 3 { grow() }
        let isNew = entries.withUnsafeMutableBufferPointer { entries in
            let entry = entries.baseAddress! + Self.position(in: UnsafeBufferPointer(entries), of: text, hash: hash)
            if entry.pointee.occurrences != 0 {
                entry.pointee.occurrences += occurrences
                return false
            }
            entry.pointee.hash = hash
            entry.pointee.occurrences = occurrences
            InlineText.assign(Self.textAddress(entry), from: text)
            return true
        }
        if isNew { storedCount += 1 }
    }

    /// Counts `occurrences` more of `text`.
    mutating func add(_ text: String, occurrences: Int64 = 1) {
        withUnsafePointer(to: text) { add(textAt: $0, occurrences: occurrences) }
    }

    /// Where an entry's text is stored.
    @inline(__always)
    private static func textAddress(_ entry: UnsafeMutablePointer<Entry>) -> UnsafeMutablePointer<String> {
        (UnsafeMutableRawPointer(entry) + MemoryLayout<Entry>.offset(of: \.text)!).assumingMemoryBound(to: String.self)
    }

    /// The entry holding the text at `text`, or the empty entry where it would go, in a
    /// table that is not empty; texts are compared in place.
    @inline(__always)
    private static func position(in entries: UnsafeBufferPointer<Entry>, of text: UnsafePointer<String>, hash: UInt64) -> Int {
        let mask = entries.count - 1
        var position = Int(truncatingIfNeeded: hash) & mask
        while entries[position].occurrences != 0 {
            if entries[position].hash == hash,
               InlineText.same(at: textAddress(UnsafeMutablePointer(mutating: entries.baseAddress! + position)), text) {
                return position
            }
            position = (position + 1) & mask
        }
        return position
    }

    /// Counts one occurrence of `text` less, forgetting it at zero; nothing if it is not held.
    @inline(__always)
    mutating func remove(_ text: String) {
        guard !entries.isEmpty else { return }
        var hole = entries.withUnsafeBufferPointer { entries in
            withUnsafePointer(to: text) { Self.position(in: entries, of: $0, hash: Self.hash(ofTextAt: $0)) }
        }
        guard entries[hole].occurrences != 0 else { return }
        let mask = entries.count - 1
        entries.withUnsafeMutableBufferPointer { entries in
            entries[hole].occurrences -= 1
            guard entries[hole].occurrences == 0 else { return }
            storedCount -= 1
            entries[hole].text = ""
            // Shift later entries of the probe run back over the hole, where their probe
            // path allows, so that lookups never stop early.
            var next = (hole + 1) & mask
            while entries[next].occurrences != 0 {
                let home = Int(truncatingIfNeeded: entries[next].hash) & mask
                if (next &- hole) & mask <= (next &- home) & mask {
                    entries.swapAt(hole, next)
                    hole = next
                }
                next = (next + 1) & mask
            }
        }
    }

    /// Every distinct text with its occurrences, in no particular order.
    var all: [(text: String, occurrences: Int64)] {
        entries.compactMap { $0.occurrences == 0 ? nil : ($0.text, $0.occurrences) }
    }

    /// Calls `body` with every distinct text (read in place) and its count, sorted by the
    /// texts' UTF-8 bytes. Inline texts, nearly all of them, sort as pairs of big-endian
    /// words; copying the texts out and comparing them as strings cost ~40,000 instructions a
    /// table, most of writing a key's row with a distinct count.
    func forEachInByteOrder(_ body: (UnsafePointer<String>, Int64) -> Void) {
        typealias SortKey = (high: UInt64, low: UInt64, count: Int, entry: Int)
        entries.withUnsafeBufferPointer { entries in
            guard let base = entries.baseAddress, count > 0 else { return }
            func text(_ entry: Int) -> UnsafePointer<String> { UnsafePointer(Self.textAddress(UnsafeMutablePointer(mutating: base + entry))) }
            withUnsafeTemporaryAllocation(of: SortKey.self, capacity: count) { keys in
                var held = 0
                var allInline = true
                for entry in entries.indices where entries[entry].occurrences != 0 {
                    if let inline = InlineText.inlineWords(at: text(entry)) {
                        let sortable = InlineText.sortableWords(inline)
                        keys.initializeElement(at: held, to: (sortable.high, sortable.low, inline.count, entry))
                    } else {
                        allInline = false
                        keys.initializeElement(at: held, to: (0, 0, 0, entry))
                    }
                    held += 1
                }
                var sorted = UnsafeMutableBufferPointer(rebasing: keys[0..<held])
                if allInline {
                    sorted.sort { ($0.high, $0.low, $0.count) < ($1.high, $1.low, $1.count) }
                } else {
                    sorted.sort { InlineText.precedes(at: text($0.entry), text($1.entry)) }
                }
                for key in sorted { body(text(key.entry), entries[key.entry].occurrences) }
                _ = keys.deinitialize()
            }
        }
    }

    /// Where the table's reference to its storage sits in a `TextCounts`.
    static var storageOffset: Int { MemoryLayout<TextCounts>.offset(of: \.entries)! }

    /// Whether the table at `table` has storage (read in place, as `prefetchSlot` reads it).
    @inline(__always)
    static func holdsTable(at table: UnsafeRawPointer) -> Bool {
        table.load(fromByteOffset: MemoryLayout<TextCounts>.offset(of: \.mask)!, as: Int32.self) >= 0
    }

    /// Starts loading the table's header (its count and reference count, which `add` reads)
    /// and the entry where a lookup of the text stored at `text` starts, in the table at
    /// `table` (which must be in cache). The entry's address comes from the
    /// table's storage reference, read as raw bits, and the layout of an array's storage
    /// (elements after a 32-byte header, checked by a test); a prefetch never faults, so a
    /// different layout would only stop it helping.
    @inline(__always)
    static func prefetchSlot(in table: UnsafeRawPointer, textAt text: UnsafePointer<String>) {
        let mask = Int(table.load(fromByteOffset: MemoryLayout<TextCounts>.offset(of: \.mask)!, as: Int32.self))
        // No table, nothing to load (and no hash to compute).
        guard mask >= 0 else { return }
        let storage = table.load(fromByteOffset: storageOffset, as: UInt.self)
        let position = Int(truncatingIfNeeded: hash(ofTextAt: text)) & mask
        eddy_prefetch(UnsafeRawPointer(bitPattern: storage))
        eddy_prefetch(UnsafeRawPointer(bitPattern: storage &+ UInt(arrayElementsOffset &+ position &* MemoryLayout<Entry>.stride)))
    }

    /// Bytes the table takes, for memory budgets (strings' own storage not counted).
    var heapBytes: Int { entries.count * MemoryLayout<Entry>.stride }

    private mutating func grow() {
        let size = Swift.max(8, entries.count * 2)
        precondition(size - 1 <= Int(Int32.max), "a table of more than \(Int32.max) distinct values")
        mask = Int32(size - 1)
        var larger = Array(initialisedInPlace: size, with: Entry(hash: 0, occurrences: 0, text: ""))
        let mask = size - 1
        larger.withUnsafeMutableBufferPointer { larger in
            entries.withUnsafeMutableBufferPointer { old in
                for index in old.indices where old[index].occurrences != 0 {
                    var position = Int(truncatingIfNeeded: old[index].hash) & mask
                    while larger[position].occurrences != 0 { position = (position + 1) & mask }
                    // Moved, not copied (a copy retained every text): the old slot gets the
                    // new slot's empty text, which owns nothing, in exchange.
                    swap(&larger[position], &old[index])
                }
            }
        }
        entries = larger
    }
}
