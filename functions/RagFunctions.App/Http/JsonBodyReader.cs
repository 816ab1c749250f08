using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Input;
using RagFunctions.Core.Options;

namespace RagFunctions.App.Http;

/// <summary>
/// Reads a JSON request body strictly: a JSON media type in UTF-8 (another charset is 415), the size limit (413), then
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

        // Content-Length may be absent (chunked): read at most one byte past the limit.
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > _maxBytes)
            {
                throw TooLarge();
            }

            buffer.Write(chunk, 0, read);
        }

        using var document = StrictJson.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), "request body");
        var errors = new InputErrors();
        var body = JsonObjectReader.Open(document.RootElement, "request body", errors, members);
        var value = body is null ? default : bind(body);
        errors.ThrowIfAny();
        return value!;
    }

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
