import CEddySupport
import Testing
@testable import Eddy

/// Golden values: checkpoints written today must find their keys in the same key groups
/// tomorrow, so these numbers may never change. They were cross-checked with an
/// independent Python implementation of FNV-1a 64 + fmix64.
@Test(arguments: [
    ("\"c000001\"", 0x3d04_9aed_1b22_eb72 as UInt64, 114),
    ("\"c012345\"", 0xddab_6ccf_dbe6_c050, 80),
    ("42", 0x810b_196a_56ee_3cec, 108),
    ("\"u-7\"\u{1F}\"ios\"", 0x57ce_4fab_5a64_a193, 19),
    ("", 0xefd0_1f60_ba99_2926, 38),
])
func stableHashIsPinned(key: String, hash: UInt64, keyGroup: Int) {
    #expect(KeyGroups.stableHash(key.utf8) == hash)
    #expect(KeyGroups.stableHash(ofKey: key) == hash)
    #expect(KeyGroups.keyGroup(ofKey: key, maxParallelism: 128) == keyGroup)
}

/// A key's hash is the same whether its text is stored inline (up to 15 bytes) or not.
@Test func keyHashesDoNotDependOnHowTheTextIsStored() {
    for unit in ["k", "é", "€"] {
        var key = ""
        while key.utf8.count <= 24 {
            #expect(KeyGroups.stableHash(ofKey: key) == KeyGroups.stableHash(Array(key.utf8)), "\(key)")
            key += unit
        }
    }
}

@Test func keyGroupRangesFollowFlinksFormula() {
    // Flink's KeyGroupRangeAssignment for maxParallelism 128, parallelism 3.
    #expect(KeyGroups.keyGroupRange(operatorIndex: 0, maxParallelism: 128, parallelism: 3) == 0...42)
    #expect(KeyGroups.keyGroupRange(operatorIndex: 1, maxParallelism: 128, parallelism: 3) == 43...85)
    #expect(KeyGroups.keyGroupRange(operatorIndex: 2, maxParallelism: 128, parallelism: 3) == 86...127)
    #expect(KeyGroups.keyGroupRange(operatorIndex: 0, maxParallelism: 128, parallelism: 1) == 0...127)
}

@Test(arguments: [1, 2, 3, 4, 7, 128])
func everyKeyGroupBelongsToTheOperatorWhoseRangeHoldsIt(parallelism: Int) {
    for group in 0..<128 {
        let index = KeyGroups.operatorIndex(forKeyGroup: group, maxParallelism: 128, parallelism: parallelism)
        #expect(KeyGroups.keyGroupRange(operatorIndex: index, maxParallelism: 128, parallelism: parallelism).contains(group))
    }
}

/// The short-key hash (runs of 8, 4, 2 and 1 bytes, `eddy_stable_hash_short`) is the stable
/// hash byte for byte, for every count an inline text has and bytes of every high bit.
@Test func shortKeyHashesAreTheStableHash() {
    var bytes: [UInt8] = []
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    for _ in 0..<200 {
        for count in 0...15 {
            bytes = (0..<count).map { _ in
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: seed >> 56)
            }
            let short = bytes.withUnsafeBufferPointer { eddy_stable_hash_short($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, count) }
            #expect(short == KeyGroups.stableHash(bytes), "\(bytes)")
        }
    }
}
