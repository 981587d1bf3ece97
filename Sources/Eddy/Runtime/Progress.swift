import Glibc

/// Monotonic elapsed time.
struct Stopwatch {
    private let start = Stopwatch.now()

    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    var elapsedSeconds: Double { Stopwatch.now() - start }
}

/// The progress line on a terminal's stderr: events, rate, and how much of the input
/// files is read, redrawn a few times a second in place.
struct ProgressLine {
    /// Size of all inputs when known (regular files), for the percentage.
    let totalBytes: Int64?
    private var lastDrawn: Double = 0

    init(totalBytes: Int64?) { self.totalBytes = totalBytes }

    mutating func update(events: Int64, bytes: Int64, clock: Stopwatch) {
        let elapsed = clock.elapsedSeconds
        guard elapsed - lastDrawn >= 0.25 else { return }
        lastDrawn = elapsed
        var line = "\r\u{1B}[Keddy: \(formatCount(events)) events, \(formatRate(Double(events) / max(elapsed, 1e-9))) events/s"
        if let totalBytes, totalBytes > 0 {
            line += ", \(min(100, bytes * 100 / totalBytes))% read"
        }
        writeToStandardError(line)
    }

    func clear() {
        if lastDrawn > 0 { writeToStandardError("\r\u{1B}[K") }
    }
}

/// Writes straight to file descriptor 2: the `stderr` global is off limits under strict concurrency.
public func writeToStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var start = 0
        while start < bytes.count {
            let written = write(2, bytes.baseAddress! + start, bytes.count - start)
            if written <= 0 { return }
            start += written
        }
    }
}

func formatCount(_ count: Int64) -> String {
    if count >= 1_000_000 { return String(format1: Double(count) / 1e6) + "M" }
    if count >= 10_000 { return String(format1: Double(count) / 1e3) + "k" }
    return String(count)
}

func formatRate(_ rate: Double) -> String {
    if rate >= 1e6 { return String(format2: rate / 1e6) + "M" }
    if rate >= 1e3 { return String(format1: rate / 1e3) + "k" }
    return String(Int(rate))
}

func formatSeconds(_ seconds: Double) -> String {
    seconds < 10 ? String(format2: seconds) + " s" : String(format1: seconds) + " s"
}

extension String {
    /// Fixed decimals without Foundation's `String(format:)`.
    init(format1 value: Double) { self = fixedDecimals(value, places: 1) }
    init(format2 value: Double) { self = fixedDecimals(value, places: 2) }
}

private func fixedDecimals(_ value: Double, places: Int) -> String {
    let scale = places == 1 ? 10.0 : 100.0
    let scaled = Int64((value * scale).rounded())
    let whole = scaled / Int64(scale)
    var fraction = String(scaled % Int64(scale))
    while fraction.count < places { fraction = "0" + fraction }
    return "\(whole).\(fraction)"
}
