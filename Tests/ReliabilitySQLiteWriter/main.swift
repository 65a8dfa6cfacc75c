// One writer process of reliability scenario 6 (SQLite contention): TASKS tasks write to the
// database at PATH for SECONDS seconds through Keel's SQLiteDatabase, each write a transaction that
// inserts a row naming this process and increments a counter shared by every process. Prints one
// line: `acknowledged=N busy=B failed=F` (writes committed, BUSY errors surfaced, other errors).
//
// Usage: ReliabilitySQLiteWriter PATH PROCESS-ID TASKS SECONDS

import Foundation
import SQLCore
import SQLitePool

let arguments = CommandLine.arguments
guard arguments.count == 5, let processID = Int(arguments[2]), let taskCount = Int(arguments[3]),
    let seconds = Int(arguments[4])
else {
    FileHandle.standardError.write(Data("usage: ReliabilitySQLiteWriter PATH PROCESS-ID TASKS SECONDS\n".utf8))
    exit(2)
}

let database = try await SQLiteDatabase(path: arguments[1])
let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
let counts = await withTaskGroup(of: (acknowledged: Int, busy: Int, failed: Int).self) { group in
    for task in 0..<taskCount {
        group.addTask {
            var acknowledged = 0
            var busy = 0
            var failed = 0
            var sequence = 0
            while ContinuousClock.now < deadline {
                sequence += 1
                let current = sequence
                do {
                    try await database.transaction { db in
                        try await db.execute("""
                            INSERT INTO writes (process, task, sequence, payload)
                            VALUES (\(processID), \(task), \(current), \(String(repeating: "x", count: 64)))
                            """)
                        try await db.execute("UPDATE counter SET total = total + 1 WHERE id = 1")
                    }
                    acknowledged += 1
                } catch let error as SQLiteError where error.isBusy {
                    busy += 1
                } catch {
                    failed += 1
                    FileHandle.standardError.write(Data("writer \(processID): \(error)\n".utf8))
                }
            }
            return (acknowledged, busy, failed)
        }
    }
    var total = (acknowledged: 0, busy: 0, failed: 0)
    for await count in group {
        total.acknowledged += count.acknowledged
        total.busy += count.busy
        total.failed += count.failed
    }
    return total
}
await database.close()
print("acknowledged=\(counts.acknowledged) busy=\(counts.busy) failed=\(counts.failed)")
