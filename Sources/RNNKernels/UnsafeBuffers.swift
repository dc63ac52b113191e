// Pointers to the storage of several arrays at once, for flat loops over them in place of one nested
// `withUnsafe...BufferPointer` closure per array. The read-only and the mutable form are deliberate twins:
// one pins arrays it only reads (no copy of shared storage), the other arrays it writes.

/// Calls `body` with read-only pointers to the storage of `arrays`, in order; the pointers are valid only
/// during the call.
@inlinable
func withBuffers<T, R>(_ arrays: [[T]], _ body: ([UnsafeBufferPointer<T>]) -> R) -> R {
    var pointers = [UnsafeBufferPointer<T>]()
    pointers.reserveCapacity(arrays.count)
    func pin(_ i: Int) -> R {
        if i == arrays.count { return body(pointers) }
        return arrays[i].withUnsafeBufferPointer { p in
            pointers.append(p)
            return pin(i + 1)
        }
    }
    return pin(0)
}

/// Calls `body` with mutable pointers to the storage of `arrays`, in order; the pointers are valid only
/// during the call. An array that shares its storage is copied first, as any mutation would: build the
/// list from fresh arrays (or move them in) to write in place.
@inlinable
func withMutableBuffers<T, R>(_ arrays: inout [[T]], _ body: ([UnsafeMutableBufferPointer<T>]) -> R) -> R {
    arrays.withUnsafeMutableBufferPointer { outer in
        var pointers = [UnsafeMutableBufferPointer<T>]()
        pointers.reserveCapacity(outer.count)
        func pin(_ i: Int) -> R {
            if i == outer.count { return body(pointers) }
            return outer[i].withUnsafeMutableBufferPointer { p in
                pointers.append(p)
                return pin(i + 1)
            }
        }
        return pin(0)
    }
}

/// A zero-filled array of n elements.
@inlinable
func zeros<T: KernelScalar>(_ n: Int) -> [T] { [T](repeating: 0, count: n) }
