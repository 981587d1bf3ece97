#if os(Linux)
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
        guard let pages = wholePages(start: Int(bitPattern: start), bytes: bytes),
              let first = UnsafeMutableRawPointer(bitPattern: pages.lowerBound) else { return }
        _ = madvise(first, pages.count, MADV_HUGEPAGE)
        #endif
    }

    /// Asks for huge pages over all of a mapping of `bytes` at `start` (page-aligned, as
    /// `eddy_map_memory` returns it). The request stays with the mapping as `mremap` grows
    /// it; advising only its aligned interior would split it in two, and `mremap` fails on a
    /// range that is not one mapping.
    static func adviseMapping(_ start: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        _ = madvise(start, bytes, MADV_HUGEPAGE)
        #endif
    }

    /// The addresses of the whole huge pages within `bytes` bytes at address `start`, or nil.
    static func wholePages(start: Int, bytes: Int) -> Range<Int>? {
        let first = (start + size - 1) & ~(size - 1)
        let end = (start + bytes) & ~(size - 1)
        return end > first ? first..<end : nil
    }
}
