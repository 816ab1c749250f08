using RagFunctions.TestHost;

namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>Finds the real binaries; a missing one fails the test and names the set-up command.</summary>
public static class Prerequisites
{
    public const string SetupCommand = "scripts/test (or scripts/setup) installs it";

    public static string RepoRoot { get; } =
        typeof(Prerequisites).Assembly.GetCustomAttributes(typeof(RepoRootAttribute), false)
            .Cast<RepoRootAttribute>().Single().Path;

    /// <summary>The queue host settings of the repository's host.json, as the Functions host reads them.</summary>
    public static QueueHostSettings HostQueueSettings => QueueHostSettings.FromHostJson(Path.Combine(RepoRoot, "host.json"));

    public static string SharedFolder
    {
        get
        {
            var shared = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
            return Directory.Exists(Path.Combine(shared, "reference"))
                ? shared
                : throw new InvalidOperationException($"../shared/reference not found next to the repository ({shared}); CI and sessions provide it beside the clone.");
        }
    }

    public static string Azurite => Require(Path.Combine(RepoRoot, "scripts", "node", "node_modules", ".bin", "azurite"), "azurite (npm, into scripts/node)");

    public static string Pushgateway => RequireOnPath("prometheus-pushgateway", "pushgateway");

    public static string Prometheus => RequireOnPath("prometheus");

    public static string Alertmanager => RequireOnPath("prometheus-alertmanager", "alertmanager");

    public static string Promtool => RequireOnPath("promtool");

    public static string Terraform => RequireOnPath("terraform");

    private static string Require(string path, string what) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{what} not found at {path}: run {SetupCommand}.");

    private static string RequireOnPath(params string[] names)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Concat(["/usr/bin", "/usr/local/bin", "/usr/sbin"]);
        foreach (var name in names)
        {
            foreach (var dir in dirs)
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException($"{names[0]} not found on PATH: run {SetupCommand}.");
    }
}
