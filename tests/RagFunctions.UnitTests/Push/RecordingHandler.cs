using System.Net;

namespace RagFunctions.UnitTests.Push;

/// <summary>
/// A fake Pushgateway: records each request and answers with the given status (503 to the first
/// <paramref name="failFirst"/> requests), not before <paramref name="release"/> completes, or hangs.
/// </summary>
internal sealed class RecordingHandler(HttpStatusCode status = HttpStatusCode.OK, bool hang = false, Task? release = null, int failFirst = 0)
    : HttpMessageHandler
{
    public List<(HttpMethod Method, Uri Uri, string? ContentType, string? Authorization, string Body)> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
        int count;
        lock (Requests)
        {
            Requests.Add((request.Method, request.RequestUri!, request.Content?.Headers.ContentType?.ToString(),
                request.Headers.Authorization?.ToString(), body));
            count = Requests.Count;
        }

        if (hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (release is not null)
        {
            await release.WaitAsync(cancellationToken);
        }

        return new HttpResponseMessage(count <= failFirst ? HttpStatusCode.ServiceUnavailable : status);
    }
}
