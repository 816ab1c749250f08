using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>
/// A request to sign. <paramref name="Path"/> is the resource path as the client holds it; for Bedrock that
/// is the wire path with the model id already percent-encoded (<c>/model/amazon.nova-lite-v1%3A0/converse</c>).
/// Query pairs are decoded. Headers are the ones to sign (at least host); the signer adds x-amz-date and,
/// for session credentials, x-amz-security-token.
/// </summary>
internal sealed record SigV4Request(
    string Method,
    string Path,
    IReadOnlyList<KeyValuePair<string, string>> Query,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    string PayloadHash);

internal sealed record SigV4Signature(
    string AmzDate,
    string CanonicalRequest,
    string StringToSign,
    string SignedHeaders,
    string Signature,
    string Authorization);

/// <summary>
/// AWS Signature Version 4 (header form), as used by every non-S3 service: the canonical URI is the
/// URI-encoding of the path it is given, so an already-encoded wire path is encoded a second time
/// (<c>%3A</c> becomes <c>%253A</c>). Proven against the published aws-sig-v4-test-suite vectors.
/// </summary>
internal static class SigV4Signer
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static SigV4Signature Sign(
        SigV4Request request,
        AwsSigningCredentials credentials,
        string region,
        string service,
        DateTimeOffset timestamp)
    {
        var utc = timestamp.UtcDateTime;
        var amzDate = utc.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = amzDate[..8];
        var scope = $"{date}/{region}/{service}/aws4_request";

        var headers = new List<KeyValuePair<string, string>>(request.Headers.Count + 2);
        headers.AddRange(request.Headers);
        headers.Add(new("x-amz-date", amzDate));
        if (!string.IsNullOrEmpty(credentials.SessionToken))
        {
            headers.Add(new("x-amz-security-token", credentials.SessionToken));
        }

        var (canonicalHeaders, signedHeaders) = CanonicalizeHeaders(headers);
        var canonicalRequest = string.Join(
            '\n',
            request.Method.ToUpperInvariant(),
            CanonicalUri(request.Path),
            CanonicalQuery(request.Query),
            canonicalHeaders,
            signedHeaders,
            request.PayloadHash);

        var stringToSign = string.Join('\n', Algorithm, amzDate, scope, HashHex(Encoding.UTF8.GetBytes(canonicalRequest)));

        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + credentials.SecretAccessKey), date);
        key = Hmac(key, region);
        key = Hmac(key, service);
        key = Hmac(key, "aws4_request");
        var signature = Convert.ToHexStringLower(Hmac(key, stringToSign));

        var authorization = $"{Algorithm} Credential={credentials.AccessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
        return new SigV4Signature(amzDate, canonicalRequest, stringToSign, signedHeaders, signature, authorization);
    }

    public static string HashHex(ReadOnlySpan<byte> payload) => Convert.ToHexStringLower(SHA256.HashData(payload));

    /// <summary>Splits a raw query string (with or without '?') into decoded name/value pairs.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseQuery(string query)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var part in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? string.Empty : part[(eq + 1)..];
            pairs.Add(new(Uri.UnescapeDataString(name), Uri.UnescapeDataString(value)));
        }

        return pairs;
    }

    /// <summary>RFC 3986 encoding as SigV4 defines it: everything but A-Z a-z 0-9 - _ . ~ becomes %XX of its UTF-8 bytes.</summary>
    public static string UriEncode(string value, bool encodeSlash)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' || (c == '/' && !encodeSlash))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static string CanonicalUri(string path) => path.Length == 0 ? "/" : UriEncode(path, encodeSlash: false);

    private static string CanonicalQuery(IReadOnlyList<KeyValuePair<string, string>> query)
    {
        var encoded = query
            .Select(p => (Name: UriEncode(p.Key, encodeSlash: true), Value: UriEncode(p.Value, encodeSlash: true)))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal);
        return string.Join('&', encoded.Select(p => p.Name + "=" + p.Value));
    }

    private static (string Canonical, string Signed) CanonicalizeHeaders(IEnumerable<KeyValuePair<string, string>> headers)
    {
        // Repeated names join their values with ',' in the order given; names sort by ordinal.
        var groups = headers
            .GroupBy(h => h.Key.Trim().ToLowerInvariant(), StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        var canonical = new StringBuilder();
        foreach (var group in groups)
        {
            canonical.Append(group.Key).Append(':').AppendJoin(',', group.Select(h => TrimAll(h.Value))).Append('\n');
        }

        return (canonical.ToString(), string.Join(';', groups.Select(g => g.Key)));
    }

    private static string TrimAll(string value)
    {
        var builder = new StringBuilder(value.Length);
        var pendingSpace = false;
        foreach (var c in value.AsSpan().Trim())
        {
            if (c == ' ' || c == '\t')
            {
                pendingSpace = true;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
}
