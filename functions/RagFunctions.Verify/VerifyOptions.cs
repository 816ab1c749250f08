using System.Globalization;

namespace RagFunctions.Verify;

/// <summary>Command-line options of <c>verify</c>.</summary>
public sealed record VerifyOptions(
    Uri Prometheus,
    Uri Pushgateway,
    Uri? Alertmanager,
    string Environment,
    string DashboardsFolder,
    string RulesFile,
    TimeSpan MaxLedgerAge,
    bool NoKubernetes,
    string RateInterval,
    TimeSpan RequestTimeout,
    (string User, string Password)? PushgatewayLogin = null)
{
    /// <summary>Environment variable holding the password for <c>--pushgateway-user</c> (kept off the command line).</summary>
    public const string PushgatewayPasswordVariable = "PUSHGATEWAY_PASSWORD";

    public const string Usage = """
        usage: verify --prometheus URL --pushgateway URL [options]
          --pushgateway-user NAME  basic auth for a Pushgateway behind --web.config.file (as the Terraform one is);
                                   the password is read from $PUSHGATEWAY_PASSWORD
          --alertmanager URL       also check the Alertmanager itself is ready (Prometheus' view is checked always)
          --environment NAME       the `environment` label of the rag_ series and rule groups (default: local)
          --dashboards DIR         dashboards/*.json whose panel queries must return data (default: <repo>/dashboards)
          --rules FILE             the rules template naming the expected rule groups
                                   (default: <repo>/terraform/modules/monitoring/rules/rag-rules.yaml)
          --max-ledger-age SECONDS the ledger must have committed within this (default: 60)
          --no-kubernetes          not a cluster: skip panels that read kube-state-metrics or KEDA (kube_*, keda_*)
          --rate-interval DURATION what Grafana's $__rate_interval becomes (default: 1m)
          --timeout SECONDS        bound of each HTTP request (default: 10)
        Exit code: 0 when every check passes (SKIP is not a failure), 1 when any fails, 2 on bad usage.
        """;

    /// <summary>
    /// Parses <paramref name="args"/>; paths default to the repository found above the current directory.
    /// <paramref name="pushgatewayPassword"/> is the value of <see cref="PushgatewayPasswordVariable"/>.
    /// </summary>
    public static VerifyOptions Parse(IReadOnlyList<string> args, string currentDirectory, string? pushgatewayPassword = null)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var noKubernetes = false;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name == "--no-kubernetes")
            {
                noKubernetes = true;
            }
            else if (name.StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Count && !values.ContainsKey(name))
            {
                values[name] = args[++i];
            }
            else
            {
                throw new ArgumentException($"unknown, repeated or incomplete option '{name}'");
            }
        }

        string? Take(string name) => values.Remove(name, out var v) ? v : null;
        var prometheus = Url(Take("--prometheus") ?? throw new ArgumentException("--prometheus URL is required"), "--prometheus");
        var pushgateway = Url(Take("--pushgateway") ?? throw new ArgumentException("--pushgateway URL is required"), "--pushgateway");
        (string, string)? login = Take("--pushgateway-user") is { } user
            ? (user, string.IsNullOrEmpty(pushgatewayPassword)
                ? throw new ArgumentException($"--pushgateway-user needs the password in ${PushgatewayPasswordVariable}")
                : pushgatewayPassword)
            : null;
        var alertmanager = Take("--alertmanager") is { } am ? Url(am, "--alertmanager") : null;
        var environment = Take("--environment") ?? "local";
        var dashboards = Take("--dashboards");
        var rules = Take("--rules");
        var maxAge = Seconds(Take("--max-ledger-age") ?? "60", "--max-ledger-age");
        var rateInterval = Take("--rate-interval") ?? "1m";
        var timeout = Seconds(Take("--timeout") ?? "10", "--timeout");
        if (values.Count > 0)
        {
            throw new ArgumentException($"unknown option(s): {string.Join(", ", values.Keys)}");
        }

        if (dashboards is null || rules is null)
        {
            var root = FindRepoRoot(currentDirectory)
                ?? throw new ArgumentException("not inside the repository: pass --dashboards and --rules");
            dashboards ??= Path.Combine(root, "dashboards");
            rules ??= Path.Combine(root, "terraform", "modules", "monitoring", "rules", "rag-rules.yaml");
        }

        return new VerifyOptions(prometheus, pushgateway, alertmanager, environment, dashboards, rules, maxAge, noKubernetes, rateInterval, timeout, login);
    }

    private static string? FindRepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RagFunctions.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    private static Uri Url(string text, string option) =>
        Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new ArgumentException($"{option} must be an absolute http(s) URL, got '{text}'");

    private static TimeSpan Seconds(string text, string option) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : throw new ArgumentException($"{option} must be a positive number of seconds, got '{text}'");
}
