/// A Bloom filter over keys' stable 64-bit hashes: "has this key ever been written to the
/// store?". A no is certain, so a key seen for the first time costs no RocksDB read; a yes
/// is wrong about 1% of the time at the planned load, which costs one read that finds
/// nothing.
///
/// Four probes by double hashing (the hash's two 32-bit halves), over a bit array sized for
/// ten bits per key. Past its planned load the filter is rebuilt twice as large from every
/// hash the owner still knows (`rebuild`), so the false-positive rate stays put.
struct KeyHashFilter {
    private var words: [UInt64]
    private(set) var count = 0

    init(plannedKeys: Int) {
        words = Array(repeating: 0, count: Self.wordCount(forKeys: plannedKeys))
    }

    private static func wordCount(forKeys keys: Int) -> Int {
        var words = 16
        while words * 64 < keys * 10 { words *= 2 }
        return words
    }

    /// More keys than planned: the false-positive rate would climb.
    var isOverloaded: Bool { count * 10 > words.count * 64 }

    @inline(__always)
    private func positions(_ hash: UInt64) -> (UInt64, UInt64, UInt64) {
        (hash & 0xFFFF_FFFF, (hash >> 32) | 1, UInt64(words.count * 64))
    }

    mutating func insert(_ hash: UInt64) {
        let (first, step, bits) = positions(hash)
        for probe in 0..<UInt64(4) {
            let bit = (first &+ probe &* step) % bits
            words[Int(bit >> 6)] |= 1 << (bit & 63)
        }
        count += 1
    }

    func mayContain(_ hash: UInt64) -> Bool {
        let (first, step, bits) = positions(hash)
        for probe in 0..<UInt64(4) {
            let bit = (first &+ probe &* step) % bits
            if words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
        }
        return true
    }

    /// A filter planned for twice the current keys, holding `hashes`.
    static func rebuilt(from hashes: some Sequence<UInt64>, keys: Int) -> KeyHashFilter {
        var filter = KeyHashFilter(plannedKeys: keys * 2)
        for hash in hashes { filter.insert(hash) }
        return filter
    }
}
