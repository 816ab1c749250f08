using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace RagFunctions.Verify;

/// <summary>One series of an instant query: its labels and value (NaN included: a NaN sample is still data).</summary>
public sealed record Sample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// The few HTTP calls verify makes: readiness probes, Prometheus instant queries and status APIs. Requests under
/// <paramref name="loginBase"/> (the Pushgateway) carry <paramref name="login"/> as basic auth, and no others do.
/// </summary>
public sealed class StackHttp(HttpClient http, Uri? loginBase = null, (string User, string Password)? login = null)
{
    private readonly AuthenticationHeaderValue? _auth = login is var (user, password)
        ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")))
        : null;

    /// <summary>GET <paramref name="url"/>; throws with status and body unless 2xx.</summary>
    public async Task<string> GetAsync(Uri url, CancellationToken cancellationToken)
    {
        var underLogin = loginBase?.IsBaseOf(url) == true;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (underLogin)
        {
            request.Headers.Authorization = _auth;
        }

        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return body;
        }

        var hint = underLogin && response.StatusCode == HttpStatusCode.Unauthorized
            ? _auth is null ? " (login required: pass --pushgateway-user and set $PUSHGATEWAY_PASSWORD)" : " (login refused)"
            : string.Empty;
        throw new HttpRequestException($"GET {url} -> {(int)response.StatusCode} {Truncate(body)}{hint}");
    }

    /// <summary>The <c>data</c> element of a Prometheus API response.</summary>
    public async Task<JsonElement> PrometheusApiAsync(Uri prometheus, string pathAndQuery, CancellationToken cancellationToken)
    {
        using var document = JsonDocument.Parse(await GetAsync(new Uri(prometheus, pathAndQuery), cancellationToken));
        var root = document.RootElement;
        return root.GetProperty("status").GetString() == "success"
            ? root.GetProperty("data").Clone()
            : throw new HttpRequestException($"{pathAndQuery}: {root.GetProperty("error").GetString()}");
    }

    /// <summary>An instant query; a scalar result is returned as one unlabelled sample.</summary>
    public async Task<IReadOnlyList<Sample>> QueryAsync(Uri prometheus, string expression, CancellationToken cancellationToken)
    {
        var data = await PrometheusApiAsync(prometheus, "api/v1/query?query=" + Uri.EscapeDataString(expression), cancellationToken);
        var result = data.GetProperty("result");
        return data.GetProperty("resultType").GetString() switch
        {
            "vector" => [.. result.EnumerateArray().Select(item => new Sample(Labels(item.GetProperty("metric")), Value(item.GetProperty("value")[1])))],
            "matrix" => [.. result.EnumerateArray().Select(item => new Sample(Labels(item.GetProperty("metric")), LastValue(item.GetProperty("values"))))],
            "scalar" => [new Sample(new Dictionary<string, string>(), Value(result[1]))],
            var other => throw new HttpRequestException($"query {expression}: unexpected result type {other}"),
        };
    }

    private static Dictionary<string, string> Labels(JsonElement metric) =>
        metric.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty, StringComparer.Ordinal);

    private static double LastValue(JsonElement values) => Value(values[values.GetArrayLength() - 1][1]);

    private static double Value(JsonElement value) => value.GetString() switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        var text => double.Parse(text!, CultureInfo.InvariantCulture),
    };

    private static string Truncate(string body) => body.Length <= 200 ? body.Trim() : body[..200].Trim() + "…";
}
