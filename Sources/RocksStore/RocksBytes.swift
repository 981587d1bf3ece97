/// Bytes that can be handed to RocksDB as a key, value or bound without copying.
///
/// Conformers lend a contiguous view of their bytes for the duration of `body`. Arrays,
/// slices and raw buffers conform; the wrapper never keeps the pointer after `body` returns
/// (iterator bounds, which RocksDB keeps, are copied).
public protocol RocksBytes {
    func withRocksBytes<Result>(
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result
}

extension Array: RocksBytes where Element == UInt8 {
    @inlinable
    public func withRocksBytes<Result>(
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        try withUnsafeBytes(body)
    }
}

extension ArraySlice: RocksBytes where Element == UInt8 {
    @inlinable
    public func withRocksBytes<Result>(
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        try withUnsafeBytes(body)
    }
}

extension ContiguousArray: RocksBytes where Element == UInt8 {
    @inlinable
    public func withRocksBytes<Result>(
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        try withUnsafeBytes(body)
    }
}

extension UnsafeRawBufferPointer: RocksBytes {
    @inlinable
    public func withRocksBytes<Result>(
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        try body(self)
    }
}

extension UnsafeMutableRawBufferPointer: RocksBytes {
    @inlinable
    public func withRocksBytes<Result>(
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        try body(UnsafeRawBufferPointer(self))
    }
}

extension UnsafeBufferPointer: RocksBytes where Element == UInt8 {
    @inlinable
    public func withRocksBytes<Result>(
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        try body(UnsafeRawBufferPointer(self))
    }
}

/// A valid, never-freed address to pass for empty byte strings.
///
/// An empty Swift buffer may have a nil base address, but RocksDB reads a nil key pointer
/// as "no key" in places (a nil iterator bound clears the bound), and memcpy from nil is
/// undefined even for zero bytes.
nonisolated(unsafe) private let emptyBytesAddress: UnsafeMutablePointer<CChar> = {
    let address = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    address.initialize(to: 0)
    return address
}()

extension UnsafeRawBufferPointer {
    /// The bytes as RocksDB's `const char*`, never nil.
    var rocksPointer: UnsafePointer<CChar> {
        guard let baseAddress else { return UnsafePointer(emptyBytesAddress) }
        return baseAddress.assumingMemoryBound(to: CChar.self)
    }
}
