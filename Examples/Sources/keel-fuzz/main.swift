// keel-fuzz: fuzzing targets for Keel's input parsers (FuzzTarget).
//
// Built by scripts/fuzz.sh with `-sanitize=fuzzer -DKEEL_FUZZ`, it is a libFuzzer driver:
//     keel-fuzz <target> [libFuzzer options] <corpus folder>...
// Built as usual (CI's build of the Examples package), it replays inputs instead, each file once,
// checking the same properties: `keel-fuzz <target> <file or folder>...`.
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    FileHandle.standardError.write(Data("usage: keel-fuzz <target> [options] <corpus>...   targets: \(names)\n".utf8))
    exit(2)
}
nonisolated(unsafe) var selected = target

#if KEEL_FUZZ
/// libFuzzer's entry for one input (its driver below is handed the same function).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

// libFuzzer reads its own options and corpus folders: the target's name is taken out.
var driverArguments = [arguments[0]] + arguments.dropFirst(2)
var cStrings: [UnsafeMutablePointer<CChar>?] = driverArguments.map { strdup($0) } + [nil]
var count = CInt(driverArguments.count)
let status = cStrings.withUnsafeMutableBufferPointer { buffer -> CInt in
    var pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return runFuzzerDriver(&count, &pointer, fuzzOneInput)
}
exit(status)
#else
var replayed = 0
for path in arguments.dropFirst(2) {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { continue }
    let files = isFolder.boolValue
        ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { "\(path)/\($0)" } : [path]
    for file in files {
        selected.run(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        replayed += 1
    }
}
print("keel-fuzz \(target.rawValue): \(replayed) inputs replayed, every property held")
#endif
