using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;

namespace RagFunctions.Ledger;

/// <summary>The three Pushgateway calls the ledger makes: read all groups, PUT its own group, DELETE a retired group.</summary>
public sealed class PushgatewayClient
{
    private static readonly MediaTypeHeaderValue TextFormat = MediaTypeHeaderValue.Parse("text/plain; version=0.0.4");

    private readonly HttpClient _http;
    private readonly LedgerOptions _options;
    private readonly string _baseUrl;
    private readonly AuthenticationHeaderValue? _auth;

    public PushgatewayClient(HttpClient http, IOptions<LedgerOptions> options)
    {
        _http = http;
        _options = options.Value;
        _baseUrl = (_options.PushgatewayUrl ?? string.Empty).TrimEnd('/');
        _http.Timeout = TimeSpan.FromMilliseconds(_options.HttpTimeoutMilliseconds);
        if (!string.IsNullOrEmpty(_options.Username))
        {
            _auth = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_options.Username}:{_options.Password}")));
        }
    }

    public async Task<string> GetGroupsJsonAsync(CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, "/api/v1/metrics");
        using var response = await _http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    /// <summary>The Pushgateway's start time (<c>/api/v1/status</c>): a change means it restarted.</summary>
    public async Task<string> GetStartTimeAsync(CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, "/api/v1/status");
        using var response = await _http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var document = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return document.RootElement.GetProperty("data").GetProperty("start_time").GetString() ?? string.Empty;
    }

    public async Task PutLedgerGroupAsync(string text, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Put, $"/metrics/job/{Uri.EscapeDataString(_options.LedgerJob)}");
        request.Content = new StringContent(text, Encoding.UTF8);
        request.Content.Headers.ContentType = TextFormat;
        using var response = await _http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public async Task DeleteInstanceGroupAsync(string instance, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Delete,
            $"/metrics/job/{Uri.EscapeDataString(_options.InstanceJob)}/instance/{Uri.EscapeDataString(instance)}");
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            response.EnsureSuccessStatusCode();
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(_baseUrl + path));
        request.Headers.Authorization = _auth;
        return request;
    }
}
