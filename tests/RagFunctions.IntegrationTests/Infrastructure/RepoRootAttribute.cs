namespace RagFunctions.IntegrationTests;

/// <summary>The repository root, stamped in at build time so fixtures find scripts, rules and dashboards.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class RepoRootAttribute(string path) : Attribute
{
    public string Path { get; } = path;
}
