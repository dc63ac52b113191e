import Foundation
import RNNKernels
import Yams
import ZIPFoundation

/// Writes `.npy` files (format 1.0, or 2.0 when the header does not fit 65,535 bytes), as
/// `numpy.save` does: little-endian, C order, the header padded with spaces to a multiple of
/// 64 bytes and ended by a newline.
public enum NpyWriter {
    /// The bytes `numpy.save` writes for the array.
    public static func data(_ a: NpyArray) -> Data {
        let descr: String
        switch a.dtype {
        case .bool: descr = "|b1"
        case .int(let s): descr = s == 1 ? "|i1" : "<i\(s)"
        case .uint(let s): descr = s == 1 ? "|u1" : "<u\(s)"
        case .float(let s): descr = "<f\(s)"
        }
        let shapeText =
            a.shape.count == 1 ? "(\(a.shape[0]),)" : "(" + a.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        var version: UInt8 = 1
        var pre = 10
        if (pre + header.utf8.count + 1) > 65_535 + 10 { version = 2; pre = 12 }
        let pad = (64 - (pre + header.utf8.count + 1) % 64) % 64
        header += String(repeating: " ", count: pad) + "\n"
        var out = Data(NpyReader.magic + [version, 0])
        let n = header.utf8.count
        if version == 1 {
            out += [UInt8(n & 0xff), UInt8(n >> 8)]
        } else {
            out += [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8(n >> 24)]
        }
        out += Data(header.utf8)
        func put(_ v: UInt64, _ size: Int) { for b in 0..<size { out.append(UInt8((v >> UInt64(8 * b)) & 0xff)) } }
        switch (a.values, a.dtype) {
        case (.booleans(let vs), _): for v in vs { out.append(v ? 1 : 0) }
        case (.integers(let vs), .int(let s)), (.integers(let vs), .uint(let s)):
            for v in vs { put(UInt64(bitPattern: Int64(v)), s) }
        case (.reals(let vs), .float(4)): for v in vs { put(UInt64(Float(v).bitPattern), 4) }
        case (.reals(let vs), _): for v in vs { put(v.bitPattern, 8) }
        default: preconditionFailure("NpyWriter: values do not match the dtype")
        }
        return out
    }

    /// An `.npz` archive (stored, like `numpy.savez`) of named arrays, each as `NAME.npy`.
    public static func npz(_ arrays: [(name: String, array: NpyArray)]) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for (name, array) in arrays {
            let bytes = data(array)
            try archive.addEntry(
                with: name + ".npy", type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .none
            ) { position, size in
                bytes.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
        return archive.data ?? Data()
    }
}
