/// A growable buffer of trivial elements whose appends compile to a capacity check and a
/// store: the output path's results and record pieces, and the per-event columns of a
/// release batch, go through here.
///
/// `Array.append` costs ~20-40 ns a call (uniqueness and capacity checks through non-inlined
/// generic code), and the output path makes dozens of appends per event; this buffer is a
/// class, so passing it down costs nothing and it is never copied.
///
/// The allocation always holds `slack` elements past `capacity`, so that a reader may load a
/// fixed 16 bytes from any position below `count` (`copyPadded`), and a writer may store 16
/// bytes at any position up to `capacity` (an inline text's raw words, `appendUTF8`).
final class AppendBuffer<Element: BitwiseCopyable> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private(set) var capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = Swift.max(capacity, 16)
        base = .allocate(capacity: self.capacity + Self.slack)
    }

    deinit { base.deallocate() }

    /// Elements allocated past `capacity`: 16 bytes' worth, at least one element.
    static var slack: Int { Swift.max(1, 16 / Swift.max(1, MemoryLayout<Element>.stride)) }

    var isEmpty: Bool { count == 0 }

    /// The elements appended so far; valid until the next append or `removeAll()` (which may
    /// move them). Reads through it are unchecked in release builds, like any unsafe buffer's.
    var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    @inline(__always)
    func removeAll() { count = 0 }

    /// Removes the first `prefix` elements, moving the rest to the front.
    func removeFirst(_ prefix: Int) {
        precondition(prefix >= 0 && prefix <= count, "removeFirst(\(prefix)) of \(count) elements")
        // The regions overlap when more than half remains; `update` copies front to back
        // when the target comes first, which is right for that.
        base.update(from: base + prefix, count: count - prefix)
        count -= prefix
    }

    /// The element at `index`, which must be below `count` (checked, as an array's index is).
    @inline(__always)
    subscript(index: Int) -> Element {
        get {
            precondition(UInt(bitPattern: index) < UInt(bitPattern: count), "index \(index) of \(count) elements")
            return base[index]
        }
        set {
            precondition(UInt(bitPattern: index) < UInt(bitPattern: count), "index \(index) of \(count) elements")
            base[index] = newValue
        }
    }

    /// Removes the last `suffix` elements.
    @inline(__always)
    func removeLast(_ suffix: Int) {
        precondition(suffix >= 0 && suffix <= count, "removeLast(\(suffix)) of \(count) elements")
        count -= suffix
    }

    /// Removes and returns the last element; the buffer must not be empty.
    @inline(__always)
    func removeLast() -> Element {
        precondition(count > 0, "removeLast on an empty buffer")
        count -= 1
        return base[count]
    }

    @inline(__always)
    func append(_ element: Element) {
        if count == capacity { grow(toAtLeast: count + 1) }
        base[count] = element
        count += 1
    }

    @inline(__always)
    func append(_ elements: UnsafeBufferPointer<Element>) {
        guard let source = elements.baseAddress else { return }
        let end = count + elements.count
        if end > capacity { grow(toAtLeast: end) }
        (base + count).update(from: source, count: elements.count)
        count = end
    }

    @inline(__always)
    func append(contentsOf elements: [Element]) {
        elements.withUnsafeBufferPointer { append($0) }
    }

    /// Room for `length` more elements, written by `body` from the returned pointer; `body`
    /// returns how many it wrote (at most `length`).
    @inline(__always)
    func append(reserving length: Int, _ body: (UnsafeMutablePointer<Element>) -> Int) {
        let written = body(reserve(length))
        precondition(written <= length, "wrote past the reserved room")
        // Wrapping: a count within an allocation is far from overflowing.
        count &+= written
    }

    /// Room for `length` more elements at the returned pointer, which the caller writes
    /// in any order and then appends with `commit`: a store's results per batch, one per
    /// event, where an `append` each cost a capacity check and an overflow check (and the
    /// reloads of the count around the store), about 8 instructions per feature per event.
    @inline(__always)
    func reserve(_ length: Int) -> UnsafeMutablePointer<Element> {
        if count &+ length > capacity { grow(toAtLeast: count &+ length) }
        return base + count
    }

    /// Appends the first `written` elements written through `reserve`'s pointer.
    @inline(__always)
    func commit(_ written: Int) {
        precondition(count + written <= capacity, "committed past the reserved room")
        count += written
    }

    @inline(never)
    private func grow(toAtLeast minimum: Int) {
        var newCapacity = capacity * 2
        while newCapacity < minimum { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity + Self.slack)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}

typealias ByteBuffer = AppendBuffer<UInt8>

extension AppendBuffer where Element == UInt8 {
    /// Appends a string's UTF-8 bytes with one copy.
    @inline(__always)
    func appendUTF8(_ text: String) {
        // An inline text decoded once, for its count and its bytes: `byteCount` and `write`
        // each checked the layout flag and decoded the tag again.
        guard let inline = InlineText.inlineWords(text) else { return appendUTF8Slowly(text) }
        // `write` stores 16 bytes; the slack past `capacity` holds those beyond it.
        if count &+ inline.count > capacity { grow(toAtLeast: count &+ inline.count) }
        count &+= InlineText.write(inline, to: base + count)
    }

    /// `appendUTF8` for a text stored out of line.
    @inline(never)
    private func appendUTF8Slowly(_ text: String) {
        let length = InlineText.byteCount(text)
        if count + length > capacity { grow(toAtLeast: count + length) }
        count += InlineText.write(text, to: base + count)
    }

    /// `appendUTF8` for the string stored at `text`, read in place (see `InlineText.inlineWords(at:)`).
    @inline(__always)
    func appendUTF8(textAt text: UnsafePointer<String>) {
        guard let inline = InlineText.inlineWords(at: text) else { return appendUTF8(text.pointee) }
        // `write` stores 16 bytes; the slack past `capacity` holds those beyond it.
        if count + inline.count > capacity { grow(toAtLeast: count + inline.count) }
        count += InlineText.write(inline, to: base + count)
    }

    @inline(__always)
    func append(_ bytes: UnsafeRawBufferPointer) { append(bytes.assumingMemoryBound(to: UInt8.self)) }

    /// The bytes as an array (for callers outside the output path).
    var array: [UInt8] { Array(elements) }
}

/// Copies `count` bytes with two 8-byte moves when `count` is at most 16 (two 16-byte ones up
/// to 32, no call to memmove below that): for a count of 16 or less, the source must
/// have 16 readable bytes and the target 16 writable ones (an append buffer's slack, a
/// padded prefix table), whatever `count` is. Column prefixes and results are that short.
@inline(__always)
func copyPadded(to target: UnsafeMutablePointer<UInt8>, from source: UnsafePointer<UInt8>, count: Int) {
    if count <= 16 {
        let low = UnsafeRawPointer(source).loadUnaligned(as: UInt64.self)
        let high = UnsafeRawPointer(source + 8).loadUnaligned(as: UInt64.self)
        UnsafeMutableRawPointer(target).storeBytes(of: low, as: UInt64.self)
        UnsafeMutableRawPointer(target + 8).storeBytes(of: high, as: UInt64.self)
    } else if count <= 32 {
        // The first 16 bytes and the last 16 (overlapping): column names are often this long.
        let low = UnsafeRawPointer(source).loadUnaligned(as: (UInt64, UInt64).self)
        let high = UnsafeRawPointer(source + count - 16).loadUnaligned(as: (UInt64, UInt64).self)
        UnsafeMutableRawPointer(target).storeBytes(of: low, as: (UInt64, UInt64).self)
        UnsafeMutableRawPointer(target + count - 16).storeBytes(of: high, as: (UInt64, UInt64).self)
    } else {
        target.update(from: source, count: count)
    }
}

@available(*, unavailable, message: "an append buffer belongs to one worker")
extension AppendBuffer: Sendable {}

extension Array {
    /// `count` copies of `element`, initialised in place: `Array(repeating:count:)` retained
    /// an element holding a text once per copy, even an empty text, which owns nothing.
    /// A table of 2 MiB or more (the key table, a very large distinct count) is put in huge
    /// pages (`HugePages`).
    init(initialisedInPlace count: Int, with element: Element) {
        self.init(unsafeUninitializedCapacity: count) { slots, initialized in
            // Before the first touch, which maps each page.
            if let base = slots.baseAddress { HugePages.advise(base, bytes: count * MemoryLayout<Element>.stride) }
            for index in 0..<count { (slots.baseAddress! + index).initialize(to: element) }
            initialized = count
        }
    }
}
