using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>Where the deploy tests find the repo's manifests and the upstream facts derived into the repo.</summary>
public static partial class DeployPaths
{
    public static string Repo(params string[] parts) => Path.Combine([Prerequisites.RepoRoot, .. parts]);

    /// <summary>
    /// The upstream facts (CRD schemas, chart default values) that scripts/refresh-reference derives into the repo,
    /// with their provenance. Tests read only this copy, so a clone needs nothing beside it.
    /// </summary>
    public static string Reference(params string[] parts) => Repo(["tests", "RagFunctions.IntegrationTests", "Reference", .. parts]);

    /// <summary>The default values of a chart at the version the reference was derived from.</summary>
    public static JsonNode ChartDefaults(string chart) =>
        JsonNode.Parse(File.ReadAllText(Reference("helm-values", $"{chart}-{ChartVersions[chart]}.values.json")))!;

    /// <summary>Chart → version, from the derived file names (helm-values/&lt;chart&gt;-&lt;version&gt;.values.json).</summary>
    public static IReadOnlyDictionary<string, string> ChartVersions { get; } =
        Directory.GetFiles(Reference("helm-values"), "*.values.json")
            .Select(f => ValuesFileName().Match(Path.GetFileName(f)))
            .ToDictionary(m => m.Groups["chart"].Value, m => m.Groups["version"].Value);

    [GeneratedRegex(@"^(?<chart>.+)-(?<version>\d+\.\d+\.\d+)\.values\.json$")]
    private static partial Regex ValuesFileName();
}
