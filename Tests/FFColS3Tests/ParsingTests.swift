import FFCol
@testable import FFColS3
import XCTest

/// The YAML subset, the XML scanner and settings precedence (no server needed).
final class ParsingTests: XCTestCase {
    // MARK: YAML

    func testYAMLNestedMapsCommentsAndQuotes() throws {
        let text = """
            # comment
            root: /data/ff   # trailing comment
            max_concurrent: 8
            polygon:
              s3:
                access_key_id: "AK#1"
                secret_access_key: 'it''s: secret'
                endpoint_url: https://files.massive.com
              other: x
            empty:
            last: "a\\"b"
            """
        let y = try SimpleYAML.parse(text, file: "t.yaml")
        XCTAssertEqual(y.at("root")?.string, "/data/ff")
        XCTAssertEqual(try SimpleYAML.int(y, "max_concurrent", file: "t.yaml"), 8)
        XCTAssertEqual(y.at("polygon.s3.access_key_id")?.string, "AK#1")
        XCTAssertEqual(y.at("polygon.s3.secret_access_key")?.string, "it's: secret")
        XCTAssertEqual(y.at("polygon.s3.endpoint_url")?.string, "https://files.massive.com")
        XCTAssertEqual(y.at("polygon.other")?.string, "x")
        XCTAssertEqual(y.at("empty")?.string, "")
        XCTAssertEqual(y.at("last")?.string, "a\"b")
        XCTAssertEqual(SimpleYAML.line(of: "polygon.s3.endpoint_url", in: y), 8)
    }

    func testYAMLErrorsNameFileAndLine() {
        let cases: [(String, Int, String)] = [
            ("a: 1\n  b: 2\n", 2, "indentation"),
            ("a:\n  - x\n", 2, "lists"),
            ("a: 1\na: 2\n", 2, "duplicate"),
            ("a: \"open\n", 1, "unterminated"),
            ("a:\n\tb: 1\n", 2, "tab"),
            ("just text\n", 1, "key: value"),
            ("a: {b: 1}\n", 1, "flow"),
        ]
        for (text, line, word) in cases {
            XCTAssertThrowsError(try SimpleYAML.parse(text, file: "config/x.yaml"), text) { e in
                let err = e as! SimpleYAML.ParseError
                XCTAssertEqual(err.line, line, text)
                XCTAssertTrue(err.description.hasPrefix("config/x.yaml:\(line): "), err.description)
                XCTAssertTrue(err.description.contains(word), err.description)
            }
        }
        XCTAssertThrowsError(try SimpleYAML.int(try! SimpleYAML.parse("n: x\n"), "n", file: "f")) { e in
            XCTAssertEqual((e as! SimpleYAML.ParseError).line, 1)
        }
    }

    // MARK: XML

    func testListingParse() throws {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>flatfiles</Name>
            <IsTruncated>true</IsTruncated><NextContinuationToken>tok&amp;1</NextContinuationToken>
            <Contents><Key>a/b&amp;c.csv.gz</Key><LastModified>2024-01-03T16:00:00.000Z</LastModified>
            <ETag>&quot;abc-2&quot;</ETag><Size>1234</Size></Contents>
            <Contents><Key>a/d.csv.gz</Key><ETag>"def"</ETag><Size>0</Size></Contents>
            </ListBucketResult>
            """
        let page = try S3XML.parseList(Array(body.utf8), key: "k")
        XCTAssertEqual(page.objects.count, 2)
        XCTAssertEqual(page.objects[0], S3Object(key: "a/b&c.csv.gz", etag: "abc-2", size: 1234, lastModified: "2024-01-03T16:00:00.000Z"))
        XCTAssertEqual(page.objects[1].etag, "def")
        XCTAssertTrue(page.isTruncated)
        XCTAssertEqual(page.nextContinuationToken, "tok&1")
        XCTAssertThrowsError(try S3XML.parseList(Array("<Error/>".utf8), key: "k"))
    }

    func testErrorParse() {
        let e = S3XML.parseError(Array("<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>a &lt; b</Message></Error>".utf8))
        XCTAssertEqual(e.code, "SlowDown")
        XCTAssertEqual(e.message, "a < b")
        XCTAssertNil(S3XML.parseError([]).code)
        XCTAssertTrue(S3Error(.http(status: 503, code: "SlowDown", message: nil), key: "k").isRetryable)
        XCTAssertTrue(S3Error(.http(status: 400, code: "RequestTimeout", message: nil), key: "k").isRetryable)
        XCTAssertFalse(S3Error(.http(status: 403, code: "AccessDenied", message: nil), key: "k").isRetryable)
        XCTAssertFalse(S3Error(.http(status: 404, code: "NoSuchKey", message: nil), key: "k").isRetryable)
    }

    func testQueryIsSortedAndEncoded() {
        XCTAssertEqual(S3Client.canonicalQuery([("prefix", "a/b c"), ("list-type", "2"), ("continuation-token", "x+y=")]),
                       "continuation-token=x%2By%3D&list-type=2&prefix=a%2Fb%20c")
        XCTAssertEqual(S3Client.percentEncode("a/b~c_d.e-f", keepSlash: true), "a/b~c_d.e-f")
        let c = S3Client(S3Configuration(endpoint: "http://h:1/", bucket: "b", credentials: .init(accessKeyID: "a", secretAccessKey: "s")))
        XCTAssertEqual(c.url(key: "x/y z.csv.gz"), "http://h:1/b/x/y%20z.csv.gz")
    }

    // MARK: Settings

    func testSettingsPrecedence() throws {
        let dir = try makeTempDir()
        try "root: fromfile\nmax_concurrent: 3\ns3:\n  bucket: filebucket\n  region: eu-x\n".write(toFile: dir + "/ffcol.yaml", atomically: true, encoding: .utf8)
        try "polygon:\n  s3:\n    access_key_id: FILEKEY\n    secret_access_key: FILESECRET\n    endpoint_url: http://file:1\n"
            .write(toFile: dir + "/credentials.yaml", atomically: true, encoding: .utf8)
        chmod(dir + "/credentials.yaml", 0o600)

        var s = try S3Settings.resolve(environment: [:], configDirectory: dir)
        XCTAssertEqual(s.root, "fromfile")
        XCTAssertEqual(s.maxConcurrent, 3)
        XCTAssertEqual(s.bucket, "filebucket")
        XCTAssertEqual(s.region, "eu-x")
        XCTAssertEqual(s.endpoint, "http://file:1")
        XCTAssertEqual(s.credentials?.accessKeyID, "FILEKEY")
        XCTAssertEqual(s.warnings, [])

        let env = ["POLYGON_S3_ACCESS_KEY_ID": "ENVKEY", "POLYGON_S3_SECRET_ACCESS_KEY": "ENVSECRET",
                   "AWS_ACCESS_KEY_ID": "AWSKEY", "AWS_SECRET_ACCESS_KEY": "AWSSECRET",
                   "POLYGON_S3_BUCKET": "envbucket", "FFCOL_ROOT": "envroot"]
        s = try S3Settings.resolve(environment: env, configDirectory: dir)
        XCTAssertEqual(s.credentials?.accessKeyID, "ENVKEY")
        XCTAssertEqual(s.bucket, "envbucket")
        XCTAssertEqual(s.root, "envroot")

        s = try S3Settings.resolve(environment: ["AWS_ACCESS_KEY_ID": "AWSKEY", "AWS_SECRET_ACCESS_KEY": "AWSSECRET",
                                                 "MASSIVE_S3_ACCESS_KEY_ID": "MKEY"], configDirectory: dir)
        XCTAssertEqual(s.credentials?.accessKeyID, "AWSKEY", "a lone MASSIVE_ id without its secret is ignored")

        s = try S3Settings.resolve(overrides: S3Overrides(endpoint: "http://flag:2", bucket: "flagbucket", root: "flagroot", maxConcurrent: 7),
                                   environment: env, configDirectory: dir)
        XCTAssertEqual(s.endpoint, "http://flag:2")
        XCTAssertEqual(s.bucket, "flagbucket")
        XCTAssertEqual(s.root, "flagroot")
        XCTAssertEqual(s.maxConcurrent, 7)
        XCTAssertEqual(s.origin["bucket"], "flag --bucket")
        for v in s.origin.values { XCTAssertFalse(v.contains("SECRET")) }
        XCTAssertFalse("\(s.credentials!)".contains("ENVSECRET"))
        XCTAssertFalse(String(reflecting: s.credentials!).contains("ENVSECRET"))
    }

    func testCredentialsFileReadableByOthersWarns() throws {
        let dir = try makeTempDir()
        try "polygon:\n  s3:\n    access_key_id: K\n    secret_access_key: TOPSECRET\n".write(toFile: dir + "/credentials.yaml", atomically: true, encoding: .utf8)
        chmod(dir + "/credentials.yaml", 0o644)
        let s = try S3Settings.resolve(environment: [:], configDirectory: dir)
        XCTAssertEqual(s.warnings.count, 1)
        XCTAssertTrue(s.warnings[0].contains("chmod 600"))
        XCTAssertFalse(s.warnings[0].contains("TOPSECRET"))
    }

    func testBadConfigNamesFileAndLine() throws {
        let dir = try makeTempDir()
        try "root: x\nmax_concurrent: many\n".write(toFile: dir + "/ffcol.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try S3Settings.resolve(environment: [:], configDirectory: dir)) { e in
            XCTAssertEqual("\(e)", "\(dir)/ffcol.yaml:2: 'max_concurrent' must be an integer")
        }
        XCTAssertThrowsError(try S3Settings.resolve(environment: [:], configDirectory: try makeTempDir()).configuration()) { e in
            XCTAssertTrue("\(e)".contains("POLYGON_S3_ACCESS_KEY_ID"))
        }
    }
}
