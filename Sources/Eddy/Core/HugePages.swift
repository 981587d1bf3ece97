#if canImport(Glibc)
import Glibc
#endif

/// Transparent huge pages for the large tables indexed at random by key (feature state rows,
/// the key table): one 2 MiB page maps what took 512 small ones, so an event's lookups miss
/// the TLB far less often, and the memory is faulted in 512 times less often as the tables
/// grow. Linux maps huge pages into a range only on request when
/// `/sys/kernel/mm/transparent_hugepage/enabled` is `madvise` (a common default); elsewhere
/// this does nothing.
enum HugePages {
    static let size = 1 << 21

    /// Asks for huge pages in the whole 2 MiB-aligned pages within `bytes` bytes at `start`
    /// (nothing for a range holding none); a hint, so its result is ignored.
    static func advise(_ start: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        let first = (Int(bitPattern: start) + size - 1) & ~(size - 1)
        let end = (Int(bitPattern: start) + bytes) & ~(size - 1)
        guard end > first, let aligned = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(aligned, end - first, MADV_HUGEPAGE)
        #endif
    }
}
