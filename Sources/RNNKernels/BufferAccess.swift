// Several arrays' storage at once, for loops over raw pointers: one call per group of arrays instead of one
// nested closure per array (and no list of arrays, which would allocate at every step).

/// Runs `body` with the contiguous storage of two, three or four arrays, read only.
@inlinable
func withBuffers<T, R>(_ a: [T], _ b: [T], _ body: (UnsafeBufferPointer<T>, UnsafeBufferPointer<T>) -> R) -> R {
    a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in body(a, b) } }
}

@inlinable
func withBuffers<T, R>(
    _ a: [T], _ b: [T], _ c: [T],
    _ body: (UnsafeBufferPointer<T>, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>) -> R
) -> R {
    withBuffers(a, b) { a, b in c.withUnsafeBufferPointer { c in body(a, b, c) } }
}

@inlinable
func withBuffers<T, R>(
    _ a: [T], _ b: [T], _ c: [T], _ d: [T],
    _ body: (UnsafeBufferPointer<T>, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>) -> R
) -> R {
    withBuffers(a, b, c) { a, b, c in d.withUnsafeBufferPointer { d in body(a, b, c, d) } }
}

/// Runs `body` with the first elements of three or four arrays, for writing (none may be empty).
@inlinable
func withMutableBases<T, R>(
    _ a: inout [T], _ b: inout [T], _ c: inout [T],
    _ body: (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>) -> R
) -> R {
    a.withUnsafeMutableBufferPointer { a in
        b.withUnsafeMutableBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in body(a.baseAddress!, b.baseAddress!, c.baseAddress!) }
        }
    }
}

@inlinable
func withMutableBases<T, R>(
    _ a: inout [T], _ b: inout [T], _ c: inout [T], _ d: inout [T],
    _ body: (
        UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>,
        UnsafeMutablePointer<T>
    ) -> R
) -> R {
    withMutableBases(&a, &b, &c) { a, b, c in d.withUnsafeMutableBufferPointer { d in body(a, b, c, d.baseAddress!) } }
}

/// Runs `body` with the contiguous storage of two or four arrays, for writing (any may be empty).
@inlinable
func withMutableBuffers<T, R>(
    _ a: inout [T], _ b: inout [T], _ body: (UnsafeMutableBufferPointer<T>, UnsafeMutableBufferPointer<T>) -> R
) -> R {
    a.withUnsafeMutableBufferPointer { a in b.withUnsafeMutableBufferPointer { b in body(a, b) } }
}

@inlinable
func withMutableBuffers<T, R>(
    _ a: inout [T], _ b: inout [T], _ c: inout [T], _ d: inout [T],
    _ body: (
        UnsafeMutableBufferPointer<T>, UnsafeMutableBufferPointer<T>, UnsafeMutableBufferPointer<T>,
        UnsafeMutableBufferPointer<T>
    ) -> R
) -> R {
    withMutableBuffers(&a, &b) { a, b in withMutableBuffers(&c, &d) { c, d in body(a, b, c, d) } }
}
