using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using RagFunctions.Core.Generation.Bedrock;

namespace RagFunctions.TestHost;

public sealed record ReceivedRequest(
    int Attempt,
    string Method,
    string RawTarget,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body,
    string? SignatureProblem)
{
    public bool SignatureValid => SignatureProblem is null;

    public string BodyText => Encoding.UTF8.GetString(Body);
}

/// <summary>A scripted answer: sent after <paramref name="Delay"/>, and not before <paramref name="HeldUntil"/> completes.</summary>
public sealed record CannedResponse(int Status, string Body, IReadOnlyDictionary<string, string>? Headers = null, TimeSpan Delay = default, Task? HeldUntil = null);

/// <summary>
/// A real HTTP server on 127.0.0.1 standing in for bedrock-runtime. It checks each request's SigV4 signature by
/// recomputing it from what arrived on the wire (method, raw target, signed headers, body) with the known test
/// secret, answers a bad signature with 403 InvalidSignatureException as AWS does, and otherwise returns the
/// scripted response for that attempt.
/// </summary>
public sealed class BedrockStandIn : IAsyncDisposable
{
    public static readonly AwsSigningCredentials Credentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

    private readonly WebApplication _app;
    private readonly Func<ReceivedRequest, CannedResponse> _respond;
    private readonly AwsSigningCredentials _credentials;
    private readonly bool _keepReceived;
    private readonly TimeProvider _clock;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private int _attempts;
    private int _pending;

    private BedrockStandIn(WebApplication app, Func<ReceivedRequest, CannedResponse> respond, AwsSigningCredentials credentials, bool keepReceived, TimeProvider clock)
    {
        _app = app;
        _respond = respond;
        _credentials = credentials;
        _keepReceived = keepReceived;
        _clock = clock;
    }

    public Uri BaseUri { get; private set; } = null!;

    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    /// <summary>Requests received and not yet answered (a caller that went away is no longer waiting).</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>On a free loopback port, with the test credentials (<see cref="Credentials"/>), answering by attempt number.</summary>
    /// <param name="clock">What "now" is when a signature's date is checked: the system clock, or the clock a test gives the app.</param>
    public static Task<BedrockStandIn> StartAsync(Func<int, CannedResponse> respond, TimeProvider? clock = null) =>
        StartAsync(request => respond(request.Attempt), new IPEndPoint(IPAddress.Loopback, 0), Credentials, keepReceived: true, clock);

    /// <summary>
    /// On <paramref name="listen"/>, accepting only requests signed with <paramref name="credentials"/>, answering from what
    /// arrived. <paramref name="keepReceived"/> false keeps no history (<see cref="Received"/> stays empty), for long runs.
    /// </summary>
    public static async Task<BedrockStandIn> StartAsync(
        Func<ReceivedRequest, CannedResponse> respond, IPEndPoint listen, AwsSigningCredentials credentials, bool keepReceived, TimeProvider? clock = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(listen));
        var app = builder.Build();
        var standIn = new BedrockStandIn(app, respond, credentials, keepReceived, clock ?? TimeProvider.System);
        app.Run(standIn.HandleAsync);
        await app.StartAsync();
        standIn.BaseUri = new Uri(app.Urls.Single());
        return standIn;
    }

    /// <summary>
    /// Points app settings at this stand-in (Bedrock provider, fast retries) and puts its static credentials where the
    /// SDK's default chain looks first, the process environment.
    /// </summary>
    public void Configure(IDictionary<string, string?> settings, string modelId = "amazon.nova-lite-v1:0", int maxRetries = 1, int retryBaseDelayMilliseconds = 1)
    {
        settings["Rag:Generation:Provider"] = "Bedrock";
        settings["Rag:Generation:Bedrock:Region"] = "us-east-1";
        settings["Rag:Generation:Bedrock:ModelId"] = modelId;
        settings["Rag:Generation:Bedrock:Endpoint"] = BaseUri.ToString();
        settings["Rag:Generation:Bedrock:MaxRetries"] = maxRetries.ToString(CultureInfo.InvariantCulture);
        settings["Rag:Generation:Bedrock:RetryBaseDelayMilliseconds"] = retryBaseDelayMilliseconds.ToString(CultureInfo.InvariantCulture);
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", Credentials.AccessKeyId);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", Credentials.SecretAccessKey);
    }

    public static string ConverseJson(string text = "Restart the pod.", string stopReason = "end_turn") =>
        $$$"""{"output":{"message":{"role":"assistant","content":[{"text":"{{{text}}}"}]}},"stopReason":"{{{stopReason}}}","usage":{"inputTokens":12,"outputTokens":5,"totalTokens":17},"metrics":{"latencyMs":40}}""";

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _pending);
        try
        {
            await AnswerAsync(context);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var attempt = Interlocked.Increment(ref _attempts);
        var rawTarget = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);

        var problem = VerifySignature(context.Request.Method, rawTarget, headers, body);
        var received = new ReceivedRequest(attempt, context.Request.Method, rawTarget, headers, body, problem);
        if (_keepReceived)
        {
            _received.Enqueue(received);
        }

        var canned = problem is null
            ? _respond(received)
            : new CannedResponse(403, $$"""{"message":"{{problem}}"}""", new Dictionary<string, string> { ["x-amzn-ErrorType"] = "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/" });
        if (canned.Delay > TimeSpan.Zero)
        {
            await Task.Delay(canned.Delay, context.RequestAborted);
        }

        if (canned.HeldUntil is { } held)
        {
            await held.WaitAsync(context.RequestAborted);
        }

        context.Response.StatusCode = canned.Status;
        context.Response.ContentType = "application/json";
        foreach (var (name, value) in canned.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        await context.Response.WriteAsync(canned.Body, context.RequestAborted);
    }

    private string? VerifySignature(string method, string rawTarget, Dictionary<string, string> headers, byte[] body)
    {
        if (!headers.TryGetValue("authorization", out var authorization) || !headers.TryGetValue("x-amz-date", out var amzDate))
        {
            return "missing Authorization or X-Amz-Date";
        }

        var parts = authorization[(authorization.IndexOf(' ', StringComparison.Ordinal) + 1)..]
            .Split(", ")
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        var scope = parts["Credential"].Split('/');
        if (scope is not [var accessKey, _, var region, "bedrock", "aws4_request"] || accessKey != _credentials.AccessKeyId)
        {
            return $"unexpected credential scope {parts["Credential"]}";
        }

        var signedAt = DateTimeOffset.ParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        if ((_clock.GetUtcNow() - signedAt).Duration() > TimeSpan.FromMinutes(5))
        {
            return $"X-Amz-Date {amzDate} is not current";
        }

        var signedNames = parts["SignedHeaders"].Split(';');
        headers.TryGetValue("x-amz-security-token", out var token);
        if (token is not null && !signedNames.Contains("x-amz-security-token"))
        {
            return "X-Amz-Security-Token sent but not signed";
        }

        var question = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var request = new SigV4Request(
            method,
            question < 0 ? rawTarget : rawTarget[..question],
            SigV4Signer.ParseQuery(question < 0 ? string.Empty : rawTarget[question..]),
            [.. signedNames
                .Where(n => n is not "x-amz-date" and not "x-amz-security-token")
                .Select(n => new KeyValuePair<string, string>(n, headers.GetValueOrDefault(n, string.Empty)))],
            Convert.ToHexStringLower(SHA256.HashData(body)));
        var expected = SigV4Signer.Sign(request, _credentials with { SessionToken = token }, region, "bedrock", signedAt);
        return expected.Authorization == authorization ? null : "The request signature we calculated does not match the signature you provided.";
    }
}
