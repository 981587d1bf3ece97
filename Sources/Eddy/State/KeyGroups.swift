import CEddySupport

/// Key groups: the unit in which keyed state is stored, snapshotted and redistributed,
/// following Flink's `KeyGroupRangeAssignment`.
///
/// A key's group comes from a stable hash of its canonical bytes. Swift's `hashValue` is
/// seeded per process, so it would put a key in another group after a restart; the hash
/// here is fixed forever (golden-value tests pin it), because checkpoints depend on it.
public enum KeyGroups {
    /// Flink's upper bound on the number of key groups.
    public static let maxSupportedParallelism = 32_768

    /// 64-bit FNV-1a over the bytes, finished with MurmurHash3's fmix64 so that the low
    /// bits (which `mod maxParallelism` keeps) depend on every input byte.
    @inlinable
    public static func stableHash<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash &*= 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return hash
    }

    /// The stable hash of a key's canonical text (its UTF-8 bytes), hashed in place. Inlined:
    /// called on a text read from a buffer, the call made the caller retain and release it.
    @inline(__always)
    public static func stableHash(ofKey canonicalKey: String) -> UInt64 {
        InlineText.withBytes(of: canonicalKey) { stableHash($0) }
    }

    /// `stableHash(ofKey:)` of the string stored at `text`, hashed where it lies: passing the
    /// string itself copies it (a retain and a release, even for an inline text).
    @inline(__always)
    static func stableHash(ofTextAt text: UnsafePointer<String>) -> UInt64 {
        guard let inline = InlineText.inlineWords(at: text) else { return stableHash(ofKey: text.pointee) }
        // At most 15 bytes (`eddy_stable_hash_short`).
        return eddy_stable_hash_short(UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self), inline.count)
    }

    /// The key group of a key given its canonical text.
    @inlinable
    public static func keyGroup(ofKey canonicalKey: String, maxParallelism: Int) -> Int {
        Int(stableHash(ofKey: canonicalKey) % UInt64(maxParallelism))
    }

    /// The operator (worker) index that owns `keyGroup` when `parallelism` workers share
    /// `maxParallelism` key groups (Flink: `computeOperatorIndexForKeyGroup`).
    public static func operatorIndex(forKeyGroup keyGroup: Int, maxParallelism: Int, parallelism: Int) -> Int {
        keyGroup * parallelism / maxParallelism
    }

    /// The inclusive range of key groups that operator `index` owns
    /// (Flink: `computeKeyGroupRangeForOperatorIndex`).
    public static func keyGroupRange(operatorIndex index: Int, maxParallelism: Int, parallelism: Int) -> ClosedRange<Int> {
        let start = (index * maxParallelism + parallelism - 1) / parallelism
        let end = ((index + 1) * maxParallelism - 1) / parallelism
        return start...end
    }
}
