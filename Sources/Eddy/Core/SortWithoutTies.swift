/// A strict order in which no two distinct entries tie, for `sortWithoutTies(by:)`: any sort
/// then gives the one order a stable sort would, so the sort need not be stable.
protocol OrderWithoutTies {
    associatedtype Element
    func precedes(_ a: Element, _ b: Element) -> Bool
}

extension UnsafeMutableBufferPointer {
    /// Sorts the entries by `order`, comparing inline: the standard library's sort called its
    /// comparison closure out of line, once per comparison (pending events' release, window
    /// records). A quicksort (median of three, Hoare partition, insertion sort below 16),
    /// whose depth past 2 log2(n) (a bad pivot run) hands that part to the standard
    /// library's sort rather than going quadratic.
    @inline(__always)
    func sortWithoutTies<Order: OrderWithoutTies>(by order: Order) where Order.Element == Element {
        guard count > 1 else { return }
        quicksort(by: order, 0, count - 1, depthLeft: 2 * (Int.bitWidth - count.leadingZeroBitCount))
    }

    /// Sorts `self[low...high]`.
    private func quicksort<Order: OrderWithoutTies>(by order: Order, _ low: Int, _ high: Int, depthLeft: Int) where Order.Element == Element {
        var low = low
        var high = high
        var depthLeft = depthLeft
        while high - low >= 16 {
            if depthLeft == 0 {
                var part = UnsafeMutableBufferPointer(rebasing: self[low...high])
                part.sort(by: order.precedes)
                return
            }
            depthLeft -= 1
            // Median of three as pivot, moved to `low`.
            let middle = low + (high - low) / 2
            if order.precedes(self[middle], self[low]) { swapAt(middle, low) }
            if order.precedes(self[high], self[low]) { swapAt(high, low) }
            if order.precedes(self[high], self[middle]) { swapAt(high, middle) }
            swapAt(low, middle)
            let pivot = self[low]
            // Hoare partition: stops on entries equal to the pivot (only the pivot itself).
            var i = low
            var j = high + 1
            while true {
                repeat { i += 1 } while i < high && order.precedes(self[i], pivot)
                repeat { j -= 1 } while order.precedes(pivot, self[j])
                if i >= j { break }
                swapAt(i, j)
            }
            swapAt(low, j)
            // Recurse into the smaller side, loop on the larger: stack depth stays log n.
            if j - low < high - j {
                quicksort(by: order, low, j - 1, depthLeft: depthLeft)
                low = j + 1
            } else {
                quicksort(by: order, j + 1, high, depthLeft: depthLeft)
                high = j - 1
            }
        }
        // Insertion sort for short ranges.
        var index = low + 1
        while index <= high {
            let entry = self[index]
            var hole = index
            while hole > low, order.precedes(entry, self[hole - 1]) {
                self[hole] = self[hole - 1]
                hole -= 1
            }
            self[hole] = entry
            index += 1
        }
    }
}
