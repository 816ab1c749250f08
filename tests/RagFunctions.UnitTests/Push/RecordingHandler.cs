using System.Net;

namespace RagFunctions.UnitTests.Push;

/// <summary>A fake Pushgateway: records each request and answers with the given status, or hangs.</summary>
internal sealed class RecordingHandler(HttpStatusCode status = HttpStatusCode.OK, bool hang = false) : HttpMessageHandler
{
    public List<(HttpMethod Method, Uri Uri, string? ContentType, string? Authorization, string Body)> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
        lock (Requests)
        {
            Requests.Add((request.Method, request.RequestUri!, request.Content?.Headers.ContentType?.ToString(),
                request.Headers.Authorization?.ToString(), body));
        }

        if (hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        return new HttpResponseMessage(status);
    }
}
