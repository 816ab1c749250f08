using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>Where the deploy tests find the repo's manifests and the upstream reference data (../shared/reference).</summary>
public static class DeployPaths
{
    public static string Repo(params string[] parts) => Path.Combine([Prerequisites.RepoRoot, .. parts]);

    /// <summary>A path under ../shared/reference next to the repo root; fails with a clear message when it is missing.</summary>
    public static string Reference(params string[] parts) => Path.Combine([Prerequisites.SharedFolder, "reference", .. parts]);
}
