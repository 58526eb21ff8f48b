import FFCol
import XCTest

/// The `ffcol` executable: a full run, exit codes, and a secret that never appears in any
/// output (stdout, stderr with --verbose, records), even on errors.
final class CLITests: XCTestCase {
    func testDownloadStatusAndSecretNeverPrinted() throws {
        let srv = try TestServer.require()
        let bucket = try srv.freshBucket("cli")
        let ds = Dataset.optionsDay
        for date in ["2023-06-16", "2023-06-20"] {
            try srv.client(bucket: bucket).put(key: ds.key(for: TradingDate(date)!), body: testBytes(50_000, seed: 1))
        }
        let root = try makeTempDir()
        let cfg = try makeTempDir()
        let env = ["POLYGON_S3_ACCESS_KEY_ID": srv.accessKeyID, "POLYGON_S3_SECRET_ACCESS_KEY": srv.secret]
        let args = ["download", "--dataset", "options_day", "--from", "2023-06-15", "--to", "2023-06-20",
                    "--endpoint-url", srv.proxy, "--bucket", bucket, "--root", root, "--config-dir", cfg, "--verbose"]
        var r = try runFFCol(args, env: env)
        XCTAssertEqual(r.status, 0, r.err)
        // 06-15, 06-16, 06-20 listed or sessions; 06-19 (Juneteenth 2023) is a holiday.
        XCTAssertTrue(r.out.contains("3 dates, 2 downloaded, 0 up to date, 1 missing, 0 failed"), r.out)
        XCTAssertTrue(r.err.contains("Signature=<redacted>"))
        var all = r.out + r.err

        r = try runFFCol(args + ["--json"], env: env)
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.out.contains("\"upToDate\" : 2"), r.out)
        all += r.out + r.err

        r = try runFFCol(["status", "--dataset", "options_day", "--root", root, "--config-dir", cfg], env: [:])
        XCTAssertTrue(r.out.contains("3 dates: 2 done, 1 skipped, 0 failed"), r.out)
        all += r.out + r.err

        // A wrong secret: exit 1, a clear message, and still no secret.
        let wrong = srv.wrongSecret
        r = try runFFCol(args + ["--no-incremental", "--retries", "0"],
                         env: ["POLYGON_S3_ACCESS_KEY_ID": srv.accessKeyID, "POLYGON_S3_SECRET_ACCESS_KEY": wrong])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("SignatureDoesNotMatch"), r.err)
        all += r.out + r.err

        // A credentials file readable by others: a warning, no secret.
        try "polygon:\n  s3:\n    access_key_id: \(srv.accessKeyID)\n    secret_access_key: \(srv.secret)\n"
            .write(toFile: cfg + "/credentials.yaml", atomically: true, encoding: .utf8)
        chmod(cfg + "/credentials.yaml", 0o644)
        r = try runFFCol(args, env: [:])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("readable by group or others"), r.err)
        all += r.out + r.err

        XCTAssertFalse(all.contains(srv.secret), "the secret appeared in the output")
        XCTAssertFalse(all.contains(wrong), "the wrong secret appeared in the output")
        for f in FileManager.default.enumerator(atPath: root + "/.ffcol")!.compactMap({ $0 as? String }) {
            let text = (try? String(contentsOfFile: root + "/.ffcol/" + f, encoding: .utf8)) ?? ""
            XCTAssertFalse(text.contains(srv.secret) || text.contains(wrong), f)
        }
    }

    func testMissingCredentialsExitTwo() throws {
        let r = try runFFCol(["download", "--dataset", "stocks_day", "--from", "2024-01-02", "--root", try makeTempDir(),
                         "--config-dir", try makeTempDir()], env: [:])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.contains("no S3 credentials"), r.err)
    }

    func testCalendarCommand() throws {
        var r = try runFFCol(["calendar", "--from", "2022-12-22", "--to", "2022-12-27", "--all"], env: [:])
        XCTAssertEqual(r.out, "2022-12-22\n2022-12-23\n2022-12-26  closed: Christmas Day\n2022-12-27\n")
        r = try runFFCol(["calendar", "--from", "2024-11-29", "--json"], env: [:])
        XCTAssertTrue(r.out.contains("\"early_close\" : true"), r.out)
        XCTAssertTrue(r.out.contains("\"close\" : \"13:00\""), r.out)
    }

    func testHelpExplainsOptions() throws {
        let r = try runFFCol(["download", "--help"], env: [:])
        for opt in ["--dataset", "--from", "--to", "--root", "--max-concurrent", "--endpoint-url", "--bucket", "--region",
                    "--no-incremental", "--no-list", "--retries", "--json", "--verbose", "POLYGON_S3_ACCESS_KEY_ID"] {
            XCTAssertTrue(r.out.contains(opt), "help lacks \(opt)")
        }
    }
}
