using System.IO.Compression;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Input;
using RagFunctions.Core.Options;

namespace RagFunctions.App.Http;

/// <summary>
/// Reads a JSON request body strictly: a JSON media type in UTF-8 (another charset is 415), a Content-Encoding of gzip, br
/// or none (another is 415), the size limit before and after decoding (413), then
/// <see cref="StrictJson"/> and <see cref="JsonObjectReader"/>, the same parser the queue messages go through.
/// </summary>
public sealed class JsonBodyReader(IOptions<RagOptions> options)
{
    private readonly int _maxBytes = options.Value.MaxBodyBytes;

    /// <summary>Reads the body as an object with <paramref name="members"/> and binds it; every problem found is in one 400.</summary>
    public async Task<T> ReadAsync<T>(HttpRequest request, string[] members, Func<JsonObjectReader, T> bind, CancellationToken cancellationToken)
    {
        CheckMediaType(request.ContentType);
        if (request.ContentLength > _maxBytes)
        {
            throw TooLarge();
        }

        var coding = ContentCodingOf(request.Headers.ContentEncoding.ToString());
        using var buffer = new MemoryStream();
        if (coding is null)
        {
            await ReadBoundedAsync(request.Body, buffer, cancellationToken);
        }
        else
        {
            // The limit holds for the encoded bytes and, again, for the decoded ones, which are never read past it: a
            // small body that inflates without end (a "gzip bomb") costs at most the limit, not memory.
            using var encoded = new MemoryStream();
            await ReadBoundedAsync(request.Body, encoded, cancellationToken);
            encoded.Position = 0;
            await using var decoder = coding == "gzip"
                ? (Stream)new GZipStream(encoded, CompressionMode.Decompress)
                : new BrotliStream(encoded, CompressionMode.Decompress);
            try
            {
                await ReadBoundedAsync(decoder, buffer, cancellationToken);
            }
            catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException)
            {
                // GZipStream reports bad data as InvalidDataException, BrotliStream as InvalidOperationException.
                throw InvalidRequestException.For("$", $"The request body is not {coding} data, yet Content-Encoding says it is; send it {coding}-encoded, or without Content-Encoding.");
            }
        }

        using var document = StrictJson.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), "request body");
        var errors = new InputErrors();
        var body = JsonObjectReader.Open(document.RootElement, "request body", errors, members);
        var value = body is null ? default : bind(body);
        errors.ThrowIfAny();
        return value!;
    }

    /// <summary>Copies <paramref name="source"/> into <paramref name="target"/>, reading at most one chunk past the limit (Content-Length may be absent: chunked).</summary>
    private async Task ReadBoundedAsync(Stream source, MemoryStream target, CancellationToken cancellationToken)
    {
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await source.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (target.Length + read > _maxBytes)
            {
                throw TooLarge();
            }

            target.Write(chunk, 0, read);
        }
    }

    /// <summary>
    /// null for an unencoded body (no Content-Encoding, or identity), "gzip" or "br" for the codings decoded here; any
    /// other coding, or several stacked, is a 415 whose Accept-Encoding names what is read (RFC 9110 §15.5.16).
    /// </summary>
    private static string? ContentCodingOf(string header)
    {
        var coding = header.Trim();
        if (coding.Length == 0 || coding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (coding.Equals("gzip", StringComparison.OrdinalIgnoreCase) || coding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
        {
            return "gzip";
        }

        if (coding.Equals("br", StringComparison.OrdinalIgnoreCase))
        {
            return "br";
        }

        throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType, "Unsupported content encoding",
            $"Content-Encoding {UserText.Quote(coding)} is not supported; send the body as gzip, br or unencoded.")
        {
            AcceptEncoding = AcceptedEncodings,
        };
    }

    /// <summary>The codings a 415 names in Accept-Encoding.</summary>
    public const string AcceptedEncodings = "gzip, br, identity";

    private RequestRejectedException TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The request body exceeds {_maxBytes} bytes.");

    /// <summary>application/json or application/*+json, with parameters; a type that merely starts with "application/json" is not JSON.</summary>
    private static void CheckMediaType(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed)
            || parsed.MediaType is not { } media
            || !(media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                 || (media.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && media.EndsWith("+json", StringComparison.OrdinalIgnoreCase))))
        {
            throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"Send the body as application/json (got {UserText.Quote(contentType ?? "none")}).");
        }

        if (parsed.CharSet is { } charset && !charset.Trim('"').Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType, "Unsupported charset",
                $"Send the body as UTF-8 (application/json; charset=utf-8); charset {UserText.Quote(charset)} is not supported.");
        }
    }
}
