using System.Reflection;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>Where the deploy tests find the repo's manifests and the upstream reference data (../shared/reference).</summary>
public static class DeployPaths
{
    public static string RepoRoot { get; } =
        Path.GetFullPath(typeof(DeployPaths).Assembly.GetCustomAttribute<RepoRootAttribute>()!.Path);

    public static string Repo(params string[] parts) => Path.Combine([RepoRoot, .. parts]);

    /// <summary>../shared/reference next to the repo root; fails with a clear message when it is missing.</summary>
    public static string Reference(params string[] parts)
    {
        var root = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "reference"));
        Assert.True(Directory.Exists(root),
            $"Reference data missing: expected upstream CRDs and chart values in {root} (the shared folder next to the repo root).");
        return Path.Combine([root, .. parts]);
    }
}
