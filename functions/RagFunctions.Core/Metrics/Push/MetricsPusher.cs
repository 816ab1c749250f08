using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RagFunctions.Core.Metrics.Push;

/// <summary>
/// PUTs the whole app registry to <c>/metrics/job/&lt;job&gt;/instance/&lt;instance&gt;</c>, so the group always equals
/// the registry. The text comes from prometheus-net itself. Pushes are serialized: one process' groups reach the
/// Pushgateway in order, which the ledger relies on. A push never throws and never takes longer than the timeout.
/// Callers that wait while another push runs share the next one: when a batch of queue messages ends together, the
/// registry is sent twice, not once per message.
/// </summary>
public sealed class MetricsPusher : IDisposable
{
    private static readonly MediaTypeHeaderValue TextFormat = MediaTypeHeaderValue.Parse("text/plain; version=0.0.4");

    private readonly RagMetrics _metrics;
    private readonly HttpClient _http;
    private readonly ILogger<MetricsPusher> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeSpan _timeout;
    private readonly AuthenticationHeaderValue? _auth;

    // Every call takes a ticket; a push collects the registry after reading the newest ticket, so it carries the data of
    // every call up to that ticket. A waiting call whose ticket an accepted push already carried has nothing left to send.
    private long _tickets;
    private long _delivered;

    public MetricsPusher(RagMetrics metrics, HttpClient http, IOptions<PushOptions> options, ILogger<MetricsPusher> logger)
    {
        _metrics = metrics;
        _http = http;
        _logger = logger;
        var settings = options.Value;
        IsEnabled = settings.Enabled;
        Job = settings.Job;
        Instance = PushOptions.EffectiveInstance(settings.Instance);
        _timeout = TimeSpan.FromMilliseconds(settings.TimeoutMilliseconds);
        var baseUrl = (settings.Url ?? "http://localhost:9091").TrimEnd('/');
        GroupUrl = new Uri($"{baseUrl}/metrics/job/{Uri.EscapeDataString(Job)}/instance/{Uri.EscapeDataString(Instance)}");
        if (!string.IsNullOrEmpty(settings.Username))
        {
            _auth = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.Username}:{settings.Password}")));
        }
    }

    /// <summary>False when <c>Rag:Push:Enabled</c> is off: every push is then a no-op returning false.</summary>
    public bool IsEnabled { get; }

    public string Job { get; }

    /// <summary>The grouping key instance: <c>Rag:Push:Instance</c> (or the pod name) plus a random start nonce, unique per process.</summary>
    public string Instance { get; }

    public Uri GroupUrl { get; }

    /// <summary>
    /// Pushes the registry now. True when the Pushgateway accepted a push collected after this call began (this call's
    /// own, or one that started while it waited); failures are logged and counted.
    /// </summary>
    public Task<bool> PushAsync(CancellationToken cancellationToken) => PushAsync(_timeout, cancellationToken);

    /// <summary>Same, bounded by <paramref name="timeout"/> (the shutdown push uses its own bound).</summary>
    public async Task<bool> PushAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!IsEnabled)
        {
            return false;
        }

        var ticket = Interlocked.Increment(ref _tickets);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        var started = Stopwatch.GetTimestamp();
        var entered = false;
        try
        {
            await _gate.WaitAsync(bounded.Token);
            entered = true;
            if (_delivered >= ticket)
            {
                return true;
            }

            var carries = Interlocked.Read(ref _tickets);
            using var body = new MemoryStream();
            await _metrics.Registry.CollectAndExportAsTextAsync(body, bounded.Token);
            using var request = new HttpRequestMessage(HttpMethod.Put, GroupUrl)
            {
                Content = new ByteArrayContent(body.GetBuffer(), 0, (int)body.Length),
            };
            request.Content.Headers.ContentType = TextFormat;
            request.Headers.Authorization = _auth;
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, bounded.Token);
            if (response.IsSuccessStatusCode)
            {
                _delivered = carries;
                return true;
            }

            Log.PushRejected(_logger, GroupUrl, (int)response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller gave up (host stopping); not a Pushgateway failure.
            return false;
        }
        catch (OperationCanceledException)
        {
            Log.PushTimedOut(_logger, GroupUrl, timeout.TotalMilliseconds);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            Log.PushFailed(_logger, ex, GroupUrl);
        }
        finally
        {
            if (entered)
            {
                _gate.Release();
            }
        }

        _metrics.PushFailures.Inc();
        return false;
    }

    public void Dispose() => _gate.Dispose();
}
