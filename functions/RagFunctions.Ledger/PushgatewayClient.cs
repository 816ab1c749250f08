using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;

namespace RagFunctions.Ledger;

/// <summary>The Pushgateway calls the ledger makes: read all groups, DELETE a retired group or a group forged under its own job.</summary>
public sealed class PushgatewayClient
{
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

    public Task DeleteInstanceGroupAsync(string instance, CancellationToken cancellationToken) =>
        DeleteAsync($"/metrics/job/{Uri.EscapeDataString(_options.InstanceJob)}/instance/{Uri.EscapeDataString(instance)}", cancellationToken);

    /// <summary>Deletes a group under the ledger's job; label values travel base64url-encoded, so any value (even with '/') is addressed exactly.</summary>
    public Task DeleteForeignGroupAsync(ForeignGroup group, CancellationToken cancellationToken)
    {
        var path = new StringBuilder("/metrics/job/").Append(Uri.EscapeDataString(_options.LedgerJob));
        foreach (var (name, value) in group.Labels)
        {
            var encoded = value.Length == 0 ? "=" : Convert.ToBase64String(Encoding.UTF8.GetBytes(value)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            path.Append('/').Append(name).Append("@base64/").Append(encoded);
        }

        return DeleteAsync(path.ToString(), cancellationToken);
    }

    private async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Delete, path);
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
