using Microsoft.Extensions.Options;

namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>
/// Signs each outgoing attempt with SigV4 (service "bedrock"). It sits inside the resilience handler, so every
/// retry gets a fresh date, signature and (for refreshing credentials) session token.
/// </summary>
internal sealed class SigV4SigningHandler(
    IBedrockCredentialsSource credentialsSource,
    IOptions<BedrockOptions> options,
    TimeProvider timeProvider) : DelegatingHandler
{
    public const string SigningName = "bedrock";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("A Bedrock request needs an absolute RequestUri.");
        var region = options.Value.Region ?? throw new InvalidOperationException($"{BedrockOptions.SectionName}:Region is not configured.");
        var credentials = await credentialsSource.GetCredentialsAsync(cancellationToken);

        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var host = uri.IsDefaultPort ? uri.IdnHost : $"{uri.IdnHost}:{uri.Port}";
        var headers = new List<KeyValuePair<string, string>> { new("host", host) };
        if (request.Content?.Headers.ContentType is { } contentType)
        {
            headers.Add(new("content-type", contentType.ToString()));
        }

        var signature = SigV4Signer.Sign(
            new SigV4Request(request.Method.Method, uri.AbsolutePath, SigV4Signer.ParseQuery(uri.Query), headers, SigV4Signer.HashHex(body)),
            credentials,
            region,
            SigningName,
            timeProvider.GetUtcNow());

        // The same message object is re-sent on retry: replace, never append.
        request.Headers.Host = host;
        SetHeader(request, "X-Amz-Date", signature.AmzDate);
        SetHeader(request, "X-Amz-Security-Token", credentials.SessionToken);
        SetHeader(request, "Authorization", signature.Authorization);
        return await base.SendAsync(request, cancellationToken);
    }

    private static void SetHeader(HttpRequestMessage request, string name, string? value)
    {
        request.Headers.Remove(name);
        if (value is not null)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
    }
}
