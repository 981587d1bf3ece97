import Dispatch

/// Runs `body(0)`, ..., `body(count - 1)` at once, on the calling thread and pool threads,
/// and returns when every call has; then throws the first error (by index), if any.
///
/// The rocksdb workers write their state back side by side this way at a checkpoint: each
/// call touches only its own worker's state (and reads what the caller shares read-only
/// until the join), which is what makes handing non-`Sendable` state to the pool sound.
func forkJoin(_ count: Int, _ body: (Int) throws -> Void) throws {
    if count == 1 { return try body(0) }
    let failures = UnsafeMutableBufferPointer<(any Error)?>.allocate(capacity: count)
    failures.initialize(repeating: nil)
    defer {
        failures.deinitialize()
        failures.deallocate()
    }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable((body, failures))
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let (body, failures) = shared.value
            do { try body(index) } catch { failures[index] = error }
        }
    }
    if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }
}

/// A value handed across threads whose safety the code around it argues (see `forkJoin`).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// `events` split by owner: part i holds the events whose key group is in `ranges[i]`, in
/// their original order.
func partition(_ events: [BufferedEvent], over ranges: [ClosedRange<Int>]) -> [[BufferedEvent]] {
    if ranges.count == 1 { return [events] }
    var parts = Array(repeating: [BufferedEvent](), count: ranges.count)
    for event in events {
        if let owner = ranges.firstIndex(where: { $0.contains(event.keyGroup) }) { parts[owner].append(event) }
    }
    return parts
}
