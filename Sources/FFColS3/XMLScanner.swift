// MARK: - A minimal XML scanner for S3 responses

/// Reads the few XML documents S3 returns (ListBucketResult, Error) without a full parser.
///
/// S3 bodies are flat: elements with text content, nested one or two levels, no mixed content
/// that matters, no CDATA in practice. The scanner finds `<tag>...</tag>` spans (ignoring
/// attributes on the opening tag) and decodes the five predefined entities and numeric
/// character references. It does not validate the document.
struct XMLScanner {
    let text: Substring

    init(_ text: Substring) { self.text = text }
    init(_ text: String) { self.text = Substring(text) }
    init(bytes: [UInt8]) { self.text = Substring(String(decoding: bytes, as: UTF8.self)) }

    /// The raw inner text of every top-level-or-nested `<tag>` element in document order
    /// (not descending into a match).
    func elements(_ tag: String) -> [Substring] {
        var out: [Substring] = []
        var rest = text[...]
        while let r = Self.nextElement(tag, in: rest) {
            out.append(r.inner)
            rest = rest[r.end...]
        }
        return out
    }

    /// The decoded text of the first `<tag>` element, nil if absent.
    func first(_ tag: String) -> String? {
        guard let r = Self.nextElement(tag, in: text) else { return nil }
        return Self.decodeEntities(r.inner)
    }

    private static func nextElement(_ tag: String, in s: Substring) -> (inner: Substring, end: Substring.Index)? {
        var search = s[...]
        while let open = search.firstRange(of: "<" + tag) {
            // The character after the name must end it: '>', '/', or whitespace.
            guard open.upperBound < search.endIndex else { return nil }
            let c = search[open.upperBound]
            if c == ">" || c == " " || c == "\t" || c == "\n" || c == "\r" || c == "/" {
                guard let gt = search[open.upperBound...].firstIndex(of: ">") else { return nil }
                if search[search.index(before: gt)] == "/" {
                    // <tag/>: empty element.
                    return (search[gt..<gt], search.index(after: gt))
                }
                let innerStart = search.index(after: gt)
                guard let close = search[innerStart...].firstRange(of: "</" + tag + ">") else { return nil }
                return (search[innerStart..<close.lowerBound], close.upperBound)
            }
            search = search[open.upperBound...]
        }
        return nil
    }

    /// Decodes `&amp; &lt; &gt; &quot; &apos; &#NN; &#xNN;`; unknown entities stay as written.
    static func decodeEntities(_ s: Substring) -> String {
        guard s.contains("&") else { return String(s) }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "&", let semi = s[i...].firstIndex(of: ";"), s.distance(from: i, to: semi) <= 10 {
                let name = s[s.index(after: i)..<semi]
                var rep: String?
                switch name {
                case "amp": rep = "&"
                case "lt": rep = "<"
                case "gt": rep = ">"
                case "quot": rep = "\""
                case "apos": rep = "'"
                default:
                    if name.hasPrefix("#x") || name.hasPrefix("#X"), let v = UInt32(name.dropFirst(2), radix: 16),
                       let u = Unicode.Scalar(v) { rep = String(Character(u)) }
                    else if name.hasPrefix("#"), let v = UInt32(name.dropFirst()), let u = Unicode.Scalar(v) {
                        rep = String(Character(u))
                    }
                }
                if let rep { out += rep; i = s.index(after: semi); continue }
            }
            out.append(c)
            i = s.index(after: i)
        }
        return out
    }
}

// MARK: - S3 documents

/// An object in a listing.
public struct S3Object: Sendable, Equatable {
    public let key: String
    /// The ETag without quotes (an opaque version token, not necessarily an MD5).
    public let etag: String
    public let size: Int64
    public let lastModified: String
}

/// One page of ListObjectsV2.
public struct S3ListPage: Sendable {
    public var objects: [S3Object]
    public var isTruncated: Bool
    public var nextContinuationToken: String?
}

enum S3XML {
    /// Parses a ListBucketResult (ListObjectsV2).
    static func parseList(_ body: [UInt8], key: String) throws -> S3ListPage {
        let x = XMLScanner(bytes: body)
        guard x.text.contains("<ListBucketResult") else {
            throw S3Error(.protocolError("not a ListBucketResult document"), key: key)
        }
        var objects: [S3Object] = []
        for c in x.elements("Contents") {
            let e = XMLScanner(c)
            guard let k = e.first("Key") else { throw S3Error(.protocolError("a <Contents> without <Key>"), key: key) }
            guard let sizeText = e.first("Size"), let size = Int64(sizeText) else {
                throw S3Error(.protocolError("no valid <Size> for \(k)"), key: key)
            }
            objects.append(S3Object(key: k, etag: normalizeETag(e.first("ETag") ?? ""), size: size,
                                    lastModified: e.first("LastModified") ?? ""))
        }
        let truncated = x.first("IsTruncated") == "true"
        let token = x.first("NextContinuationToken")
        if truncated && (token ?? "").isEmpty {
            throw S3Error(.protocolError("IsTruncated without NextContinuationToken"), key: key)
        }
        return S3ListPage(objects: objects, isTruncated: truncated, nextContinuationToken: truncated ? token : nil)
    }

    /// `<Error><Code>..</Code><Message>..</Message></Error>`, if the body is one.
    static func parseError(_ body: [UInt8]) -> (code: String?, message: String?) {
        guard !body.isEmpty else { return (nil, nil) }
        let x = XMLScanner(bytes: body)
        guard x.text.contains("<Error") else { return (nil, nil) }
        return (x.first("Code"), x.first("Message"))
    }
}

/// Strips the quotes around an ETag (`"abc"` and `W/"abc"` -> `abc`).
public func normalizeETag(_ s: String) -> String {
    var t = Substring(s)
    if t.hasPrefix("W/") { t = t.dropFirst(2) }
    if t.hasPrefix("\"") && t.hasSuffix("\"") && t.count >= 2 { t = t.dropFirst().dropLast() }
    return String(t)
}
