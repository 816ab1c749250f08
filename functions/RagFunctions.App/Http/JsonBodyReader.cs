using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Options;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.App.Http;

/// <summary>Reads a JSON request body strictly: content type, size limit, well-formed JSON, known properties only.</summary>
public sealed class JsonBodyReader(IOptions<RagOptions> options)
{
    private readonly int _maxBytes = options.Value.MaxBodyBytes;

    public async Task<T> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
        where T : class
    {
        if (!IsJson(request.ContentType))
        {
            throw new InvalidRequestException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"Send the body as application/json (got '{request.ContentType ?? "none"}').");
        }

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

        if (buffer.Length == 0)
        {
            throw InvalidRequestException.BadRequest("The request body is empty; send a JSON object.");
        }

        try
        {
            return JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), typeInfo)
                   ?? throw InvalidRequestException.BadRequest("The request body is JSON null; send a JSON object.");
        }
        catch (JsonException ex)
        {
            // JsonException messages name the path and position but never echo the payload.
            throw InvalidRequestException.BadRequest($"Malformed JSON: {ex.Message}");
        }
    }

    private InvalidRequestException TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The request body exceeds {_maxBytes} bytes.");

    /// <summary>application/json or application/*+json, with parameters; a type that merely starts with "application/json" is not JSON.</summary>
    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed)
        && parsed.MediaType is { } media
        && (media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (media.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && media.EndsWith("+json", StringComparison.OrdinalIgnoreCase)));
}
