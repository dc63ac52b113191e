import Foundation
import RNNKernels
import Yams
import ZIPFoundation

/// Reads one member of an `.npz` archive, refusing zip bombs: the member's declared
/// uncompressed size and the bytes actually inflated are both held to `maxBytes`.
public enum NpzReader {
    /// The bytes of member `key` (without `.npy`) of the archive in `data`, at most `maxBytes` of them.
    public static func member(_ data: Data, key: String, maxBytes: Int) throws -> Data {
        let archive: Archive
        do { archive = try Archive(data: data, accessMode: .read) } catch {
            throw NpyError("not a zip archive (.npz), or a corrupt one")
        }
        let names = archive.map(\.path)
        guard let entry = archive[key + ".npy"] ?? archive[key] else {
            let keys = names.map { $0.hasSuffix(".npy") ? String($0.dropLast(4)) : $0 }
            var message = "the archive has no array '\(key)'"
            message += didYouMean(key, in: keys)
            message +=
                keys.isEmpty
                ? " (it is empty)"
                : " (its arrays: \(keys.prefix(20).joined(separator: ", "))\(keys.count > 20 ? ", ..." : ""))"
            throw NpyError(message)
        }
        guard entry.type == .file else { throw NpyError("'\(entry.path)' in the archive is not a file") }
        guard entry.uncompressedSize <= UInt64(maxBytes) else {
            throw NpyError(
                "'\(entry.path)' declares \(entry.uncompressedSize) bytes uncompressed, over the limit of \(maxBytes) (--max-elements)"
            )
        }
        var out = Data()
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                guard out.count + chunk.count <= maxBytes else {
                    throw NpyError(
                        "'\(entry.path)' inflates to more than \(maxBytes) bytes (--max-elements): refused as a zip bomb"
                    )
                }
                out.append(chunk)
            }
        } catch let e as NpyError { throw e } catch {
            throw NpyError("'\(entry.path)' cannot be extracted: \(error)")
        }
        return out
    }
}

extension NodeReader {
    /// Whether a node is `{npy: ...}` or `{npz: ..., key: ...}`.
    func isFileInput(_ node: Node) -> Bool {
        guard case .mapping(let m) = node else { return false }
        return hasKey(m) { isKey($0, "npy") || isKey($0, "npz") }
    }

    /// Decodes a file input; `read` reads a path relative to the cases root (nil: not found).
    mutating func fileInput(
        _ node: Node, kind: ValueKind, shapes: [Shape] = [], kernel: String = "the kernel", caseID: String,
        read: ((String, Int) throws -> Data?)?, _ what: @autoclosure () -> String
    ) throws -> Value {
        let entries = try mapping(node, what())
        let isNpz = entries.contains { $0.key == "npz" }
        try checkKeys(
            entries, allowed: isNpz ? ["npz", "key"] : ["npy"], in: "\(what()) \(isNpz ? "npz" : "npy") file")
        let pathNode = entries.first { $0.key == (isNpz ? "npz" : "npy") }!.value
        let path = try string(pathNode, "\(what()): \(isNpz ? "npz" : "npy")")
        let key = try entries.first { $0.key == "key" }.map { try string($0.value, "\(what()): key") }
        if isNpz && key == nil {
            throw error("\(what()): an npz input names its array: {npz: FILE, key: NAME}", at: node)
        }
        guard let read else {
            throw error("\(what()): file inputs are read relative to a case file under a cases root", at: pathNode)
        }
        // The path is relative to the case file's directory and may not leave the cases root.
        var parts = caseID.split(separator: "/").dropLast().map(String.init)
        guard !path.hasPrefix("/") else {
            throw error("\(what()): '\(path)' is absolute; write the path relative to the case file", at: pathNode)
        }
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." {
                guard !parts.isEmpty else { throw error("\(what()): '\(path)' leaves the cases root", at: pathNode) }
                parts.removeLast()
            } else {
                parts.append(String(c))
            }
        }
        let relative = parts.joined(separator: "/")
        let maxElements = limits.maxElements - elements
        let maxBytes = maxElements > (Int.max - 1 << 20) / 8 ? Int.max : maxElements * 8 + (1 << 20)
        let shown = "'\(path)'"
        do {
            // An archive may hold other arrays besides the one named: it may be up to 4 times the limit.
            let archiveBytes = maxBytes.multipliedReportingOverflow(by: 4)
            guard
                var data = try read(
                    relative, isNpz ? (archiveBytes.overflow ? Int.max : archiveBytes.partialValue) : maxBytes)
            else {
                throw NpyError("the file does not exist")
            }
            if isNpz { data = try NpzReader.member(data, key: key!, maxBytes: maxBytes) }
            var counted = 0
            // The header's rank and constant extents against the kernel's declared shapes, before the data.
            let checkShape: ([Int]) throws -> Void = { shape in
                guard !shapes.isEmpty, kind != .realList else { return }
                let fits = shapes.contains { declared in
                    declared.count == shape.count
                        && zip(declared, shape).allSatisfy { d, n in (try? d.evaluate([:]))?.map { $0 == n } ?? true }
                }
                if !fits {
                    let declared = shapes.map { "[" + $0.map { "\($0)" }.joined(separator: ", ") + "]" }
                    throw NpyError(
                        "its shape \(shape.shapeText) does not fit: \(kernel) expects \(listPhrase(declared))")
                }
            }
            let array = try NpyReader.read(data, checkShape: checkShape) { count in
                guard count <= maxElements else {
                    throw NpyError(
                        "its shape holds \(count) elements, over the limit of \(limits.maxElements) per case (raise it with --max-elements)"
                    )
                }
                counted = count
            }
            try reserve(counted, at: pathNode, what())
            switch (kind, array.values) {
            case (.real, .reals(let v)), (.realList, .reals(let v)):
                let t = Value.real(RealTensor(Tensor(shape: array.shape, scalars: v)))
                return kind == .realList ? .list([t]) : t
            case (.real, .integers(let v)):
                return .real(RealTensor(Tensor(shape: array.shape, scalars: v.map(Double.init))))
            case (.integer, .integers(let v)): return .integer(Tensor(shape: array.shape, scalars: v))
            case (.boolean, .booleans(let v)): return .boolean(Tensor(shape: array.shape, scalars: v))
            default: throw NpyError("it holds \(array.dtype) values, which \(what()) (\(kind.rawValue)) cannot take")
            }
        } catch let e as NpyError {
            throw error("\(what()): \(isNpz ? "array '\(key!)' of " : "")\(shown): \(e.description)", at: pathNode)
        } catch let e as SpecError {
            throw e
        } catch {
            throw self.error("\(what()): \(shown): cannot read it: \(error)", at: pathNode)
        }
    }
}
