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

    public static string Azurite => Require(Path.Combine(RepoRoot, "scripts", "node", "node_modules", ".bin", "azurite"), "azurite (npm, into scripts/node)");

    public static string Pushgateway => RequireOnPath("prometheus-pushgateway", "pushgateway");

    public static string Prometheus => RequireOnPath("prometheus");

    public static string Alertmanager => RequireOnPath("prometheus-alertmanager", "alertmanager");

    public static string Promtool => RequireOnPath("promtool");

    // scripts/setup cannot install these two (no Debian package); it names them when they are missing.
    public static string Terraform => RequireOnPath(["terraform"], "install terraform (scripts/setup names what is missing)");

    /// <summary>git, to list the tracked files (a clone has it).</summary>
    public static string Git => RequireOnPath(["git"], "install git (the repository's checks read its tracked files)");

    /// <summary>kubectl, for `kubectl kustomize`: the renderer behind the users' `kubectl apply -k`.</summary>
    public static string Kubectl => RequireOnPath(["kubectl"], "install kubectl (scripts/setup names what is missing)");

    private static string Require(string path, string what) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{what} not found at {path}: run {SetupCommand}.");

    private static string RequireOnPath(params string[] names) => RequireOnPath(names, $"run {SetupCommand}");

    private static string RequireOnPath(string[] names, string remedy)
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

        throw new InvalidOperationException($"{names[0]} not found on PATH: {remedy}.");
    }
}
