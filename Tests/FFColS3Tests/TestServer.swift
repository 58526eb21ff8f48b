import FFCol
@testable import FFColS3
import Foundation
import XCTest

/// The loopback S3 server started by `scripts/test-s3-env.sh` (moto checking SigV4, and a
/// fault-injecting proxy in front of it), found through `FFCOL_TEST_S3_*` variables.
///
/// Without them the tests that need it are skipped, except under `CI=true` where they fail.
struct TestServer {
    let endpoint: String
    let proxy: String
    let accessKeyID: String
    let secret: String
    /// A secret that differs from `secret` in its first character (a fixed "X" in its place
    /// was the real secret whenever that began with "X").
    var wrongSecret: String { (secret.first == "X" ? "Y" : "X") + String(secret.dropFirst()) }
    let noAccessKeyID: String
    let noAccessSecret: String

    static func require(file: StaticString = #filePath, line: UInt = #line) throws -> TestServer {
        let env = ProcessInfo.processInfo.environment
        guard let e = env["FFCOL_TEST_S3_ENDPOINT"], let p = env["FFCOL_TEST_S3_PROXY"],
              let k = env["FFCOL_TEST_S3_ACCESS_KEY_ID"], let s = env["FFCOL_TEST_S3_SECRET_ACCESS_KEY"] else {
            let msg = "no S3 test server: run the tests through scripts/test-s3-env.sh (it starts moto and the fault proxy on 127.0.0.1)"
            if env["CI"] == "true" {
                XCTFail(msg, file: file, line: line)
                throw XCTSkip("failed: " + msg)
            }
            throw XCTSkip(msg)
        }
        return TestServer(endpoint: e, proxy: p, accessKeyID: k, secret: s,
                          noAccessKeyID: env["FFCOL_TEST_S3_NOACCESS_KEY_ID"] ?? "",
                          noAccessSecret: env["FFCOL_TEST_S3_NOACCESS_SECRET"] ?? "")
    }

    /// A client on a fresh bucket (created), direct or through the proxy.
    func client(bucket: String, viaProxy: Bool = false, secret: String? = nil, keyID: String? = nil,
                trace: (@Sendable (String) -> Void)? = nil) -> S3Client {
        var c = S3Configuration(endpoint: viaProxy ? proxy : endpoint, bucket: bucket,
                                credentials: S3Credentials(accessKeyID: keyID ?? accessKeyID, secretAccessKey: secret ?? self.secret))
        c.lowSpeedTime = 2
        c.trace = trace
        return S3Client(c)
    }

    /// A new bucket with a unique name.
    func freshBucket(_ name: String) throws -> String {
        let b = "t-\(name.lowercased())-\(UInt32.random(in: 0...UInt32.max))"
        try client(bucket: b).createBucket()
        return b
    }

    /// Sets the proxy's fault plan: lines `MODE COUNT [MATCH]`.
    func setFaults(_ plan: String) throws {
        let c = client(bucket: "x")
        _ = try c.perform(method: "PUT", url: proxy + "/__fault__", key: "fault-plan", upload: Array(plan.utf8))
    }

    /// Faults injected so far by the proxy.
    func faultsInjected() throws -> Int {
        let c = client(bucket: "x")
        let body = try c.perform(method: "GET", url: proxy + "/__stats__", key: "stats").body
        let obj = try JSONSerialization.jsonObject(with: Data(body)) as! [String: Any]
        return obj["injected"] as! Int
    }
}

/// Deterministic pseudo-random bytes (SplitMix64).
func testBytes(_ n: Int, seed: UInt64) -> [UInt8] {
    var s = seed
    var out = [UInt8]()
    out.reserveCapacity(n)
    while out.count < n {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        withUnsafeBytes(of: z) { out.append(contentsOf: $0.prefix(n - out.count)) }
    }
    return out
}

/// Thread-safe line collector for traces.
final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
