using Microsoft.Extensions.Options;

namespace RagFunctions.Ledger;

/// <summary>Settings of the ledger, section <c>Ledger</c> (env form <c>Ledger__X</c>). See README.md beside this file.</summary>
public sealed class LedgerOptions
{
    public const string SectionName = "Ledger";

    public const string DefaultMetricsUrl = "http://0.0.0.0:9410";

    /// <summary>Where /metrics listens for Prometheus (the NetworkPolicy admits only Prometheus to this port).</summary>
    public string MetricsUrl { get; set; } = DefaultMetricsUrl;

    /// <summary>Base URL of the Pushgateway, e.g. <c>http://pushgateway:9091</c>.</summary>
    public string? PushgatewayUrl { get; set; }

    /// <summary>Basic auth for a Pushgateway behind <c>--web.config.file</c>; both or neither.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Job label of the per-instance groups to fold (the pushers' Rag:Push:Job).</summary>
    public string InstanceJob { get; set; } = "rag-functions";

    /// <summary>Job label of the ledger's own group (no instance label).</summary>
    public string LedgerJob { get; set; } = "rag-ledger";

    /// <summary>Seconds between fold cycles.</summary>
    public double FoldIntervalSeconds { get; set; } = 5;

    /// <summary>An instance group whose push_time_seconds is older than this is folded one last time and deleted.</summary>
    public double StaleAfterSeconds { get; set; } = 300;

    /// <summary>A new ledger series stays at 0 this long after its first push (≥ 2 scrape intervals).</summary>
    public double FirstSampleHoldSeconds { get; set; } = 75;

    /// <summary>How long a retired instance id is remembered, so a late or restored group of it is not counted again.</summary>
    public double TombstoneRetentionSeconds { get; set; } = 7 * 24 * 3600;

    /// <summary>Single-writer lease: another replica takes over only after the holder has not committed for this long.</summary>
    public double LeaseSeconds { get; set; } = 30;

    /// <summary>Bound of each Pushgateway request.</summary>
    public int HttpTimeoutMilliseconds { get; set; } = 5000;

    /// <summary>Azure Storage connection string; falls back to the <c>AzureWebJobsStorage</c> setting.</summary>
    public string? StorageConnectionString { get; set; }

    /// <summary>Table holding the state (created if missing).</summary>
    public string StateTable { get; set; } = "ragledger";

    /// <summary>Partition of the state rows: one ledger per partition.</summary>
    public string StatePartition { get; set; } = "rag-ledger";

    /// <summary>
    /// Counter family → largest plausible increase of one instance in one fold (over all its series). A larger one is
    /// still folded, and counted in rag_ledger_implausible_deltas_total{metric}. Defaults: <see cref="PlausibilityBounds"/>.
    /// </summary>
    public Dictionary<string, double> PlausibleMaxDelta { get; init; } = PlausibilityBounds.Defaults();

    /// <summary>This replica's id for the lease; default HOSTNAME (the pod name). Must differ between live replicas.</summary>
    public string? ReplicaId { get; set; }
}

public sealed class LedgerOptionsValidator : IValidateOptions<LedgerOptions>
{
    public ValidateOptionsResult Validate(string? name, LedgerOptions options)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(options.PushgatewayUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add("Ledger:PushgatewayUrl must be an absolute http(s) URL (env Ledger__PushgatewayUrl).");
        }

        if (!Uri.TryCreate(options.MetricsUrl, UriKind.Absolute, out var metrics) || metrics.Scheme != Uri.UriSchemeHttp)
        {
            errors.Add("Ledger:MetricsUrl must be an absolute http URL to listen on, e.g. http://0.0.0.0:9410 (env Ledger__MetricsUrl).");
        }

        if (string.IsNullOrEmpty(options.Username) != string.IsNullOrEmpty(options.Password))
        {
            errors.Add("Ledger:Username and Ledger:Password must be set together or both left empty.");
        }

        if (string.IsNullOrWhiteSpace(options.InstanceJob) || string.IsNullOrWhiteSpace(options.LedgerJob) || options.InstanceJob == options.LedgerJob)
        {
            errors.Add("Ledger:InstanceJob and Ledger:LedgerJob must be set and differ: the ledger never folds its own group.");
        }

        if (options.FoldIntervalSeconds is < 0.1 or > 300)
        {
            errors.Add("Ledger:FoldIntervalSeconds must be between 0.1 and 300.");
        }

        if (options.StaleAfterSeconds < 3 * options.FoldIntervalSeconds)
        {
            errors.Add("Ledger:StaleAfterSeconds must be at least three fold intervals (and well above the pushers' interval).");
        }

        if (options.FirstSampleHoldSeconds < 0)
        {
            errors.Add("Ledger:FirstSampleHoldSeconds must not be negative (use at least two Prometheus scrape intervals).");
        }

        if (options.TombstoneRetentionSeconds < options.StaleAfterSeconds)
        {
            errors.Add("Ledger:TombstoneRetentionSeconds must be at least Ledger:StaleAfterSeconds.");
        }

        if (options.LeaseSeconds < 2 * options.FoldIntervalSeconds + (options.HttpTimeoutMilliseconds / 1000.0))
        {
            errors.Add("Ledger:LeaseSeconds must exceed two fold intervals plus the HTTP timeout, or replicas would take turns.");
        }

        if (options.HttpTimeoutMilliseconds is < 100 or > 60_000)
        {
            errors.Add("Ledger:HttpTimeoutMilliseconds must be between 100 and 60000.");
        }

        if (string.IsNullOrWhiteSpace(options.StorageConnectionString))
        {
            errors.Add("Ledger:StorageConnectionString (or AzureWebJobsStorage) must be set: the state lives in Azure Table storage.");
        }

        foreach (var (family, bound) in options.PlausibleMaxDelta)
        {
            if (!family.StartsWith("rag_", StringComparison.Ordinal) || !double.IsFinite(bound) || bound <= 0)
            {
                errors.Add($"Ledger:PlausibleMaxDelta:{family} must name a rag_ counter and be a positive number.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.StateTable) || string.IsNullOrWhiteSpace(options.StatePartition))
        {
            errors.Add("Ledger:StateTable and Ledger:StatePartition must be set.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
