using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace RagFunctions.Core.Metrics.Push;

/// <summary>Settings of the instance pusher, bound from <c>Rag:Push</c> (env form <c>Rag__Push__X</c>).</summary>
public sealed class PushOptions
{
    public const string SectionName = "Rag:Push";

    /// <summary>Push the registry to a Pushgateway at all. Off by default so a local run needs nothing.</summary>
    public bool Enabled { get; set; }

    /// <summary>Pushgateway base URL, e.g. <c>http://pushgateway:9091</c>.</summary>
    public string? Url { get; set; }

    /// <summary>Grouping key job label of every instance group.</summary>
    public string Job { get; set; } = "rag-functions";

    /// <summary>
    /// The ledger's job label (its <c>Ledger:LedgerJob</c>). The pusher refuses to push under it: the ledger's totals
    /// are scraped from the ledger alone, and a group under its job on the Pushgateway would be read as totals.
    /// </summary>
    public string LedgerJob { get; set; } = "rag-ledger";

    /// <summary>
    /// Prefix of the grouping key instance label, replacing the pod name (HOSTNAME). A random start nonce is always
    /// appended (<c>&lt;prefix&gt;-&lt;nonce&gt;</c>), so the group is unique per process, which the ledger relies on:
    /// two processes never share a group, whatever is configured. The effective value is <c>MetricsPusher.Instance</c>.
    /// </summary>
    public string? Instance { get; set; }

    public int IntervalSeconds { get; set; } = 5;

    /// <summary>Upper bound of one push (serialize + PUT); a query is never slowed by more.</summary>
    public int TimeoutMilliseconds { get; set; } = 1000;

    /// <summary>Bound of the final push at shutdown; the Functions host gives the worker 5 s after WorkerTerminate.</summary>
    public int ShutdownTimeoutMilliseconds { get; set; } = 2500;

    /// <summary>Basic auth user for a Pushgateway behind <c>--web.config.file</c>; empty = no auth.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>
    /// The grouping key instance of a new process: <paramref name="prefix"/> (the pod name, HOSTNAME, when empty) plus a
    /// random start nonce, reduced to URL-safe characters. Every call returns a new value.
    /// </summary>
    public static string EffectiveInstance(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix))
        {
            prefix = System.Environment.GetEnvironmentVariable("HOSTNAME");
            if (string.IsNullOrWhiteSpace(prefix))
            {
                prefix = System.Environment.MachineName;
            }
        }

        return UrlSafe($"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
    }

    /// <summary>Keeps [A-Za-z0-9._-]; anything else becomes '-', so the grouping key needs no escaping.</summary>
    public static string UrlSafe(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-');
        }

        return builder.ToString();
    }
}

public sealed class PushOptionsValidator : IValidateOptions<PushOptions>
{
    public ValidateOptionsResult Validate(string? name, PushOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new List<string>();
        if (!Uri.TryCreate(options.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add("Rag:Push:Url must be an absolute http(s) URL of the Pushgateway when Rag:Push:Enabled is true.");
        }

        if (string.IsNullOrWhiteSpace(options.Job) || PushOptions.UrlSafe(options.Job) != options.Job)
        {
            errors.Add("Rag:Push:Job must be a non-empty URL-safe name ([A-Za-z0-9._-]).");
        }

        if (string.Equals(options.Job, options.LedgerJob, StringComparison.Ordinal))
        {
            errors.Add($"Rag:Push:Job must differ from Rag:Push:LedgerJob ('{options.LedgerJob}'): that job label belongs to the ledger's totals, and pods pushing under it would forge them.");
        }

        if (!string.IsNullOrEmpty(options.Instance) && PushOptions.UrlSafe(options.Instance) != options.Instance)
        {
            errors.Add("Rag:Push:Instance (the instance prefix; a start nonce is always appended) must be URL-safe ([A-Za-z0-9._-]); leave it empty for the pod name.");
        }

        if (options.IntervalSeconds is < 1 or > 300)
        {
            errors.Add("Rag:Push:IntervalSeconds must be between 1 and 300.");
        }

        if (options.TimeoutMilliseconds is < 50 or > 30_000)
        {
            errors.Add("Rag:Push:TimeoutMilliseconds must be between 50 and 30000.");
        }

        if (options.ShutdownTimeoutMilliseconds is < 50 or > 3000)
        {
            errors.Add("Rag:Push:ShutdownTimeoutMilliseconds must be between 50 and 3000: the Functions host stops the worker 5 s after WorkerTerminate.");
        }

        if (string.IsNullOrEmpty(options.Username) != string.IsNullOrEmpty(options.Password))
        {
            errors.Add("Rag:Push:Username and Rag:Push:Password must be set together (basic auth) or both left empty.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
