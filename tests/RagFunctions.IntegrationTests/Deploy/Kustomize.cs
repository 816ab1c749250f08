using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>One object of a rendered kustomization.</summary>
public sealed record Manifest(string Kustomization, JsonObject Body)
{
    public string Kind => Body.Str("kind");
    public string ApiVersion => Body.Str("apiVersion");
    public string Name => Body.Str("metadata.name");
    public string? Namespace => Body.Get("metadata.namespace")?.GetValue<string>();
    public override string ToString() => $"{Kind}/{Name} ({Kustomization})";
}

/// <summary>
/// Renders keda/ with `kubectl kustomize`, the renderer behind the users' `kubectl apply -k`, so the tests check
/// exactly the objects a cluster would receive (generated names with their hash, namespaces, name references).
/// The secret .env files are git-ignored, so the render runs on a temp copy of keda/ in which each committed
/// *.env.example stands in for its .env; the user's own .env files are never read.
/// </summary>
public static class Kustomize
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);
    private static readonly ConcurrentDictionary<string, Lazy<string>> Rendered = new();

    /// <summary>The objects of a kustomization under the repo root, e.g. "keda/overlays/dev".</summary>
    public static IReadOnlyList<Manifest> Build(string kustomization) =>
        [.. YamlJson.LoadAllText(Rendered.GetOrAdd(kustomization, k => new Lazy<string>(() => Run(k))).Value)
            .OfType<JsonObject>().Select(o => new Manifest(kustomization, o))];

    private static string Run(string kustomization)
    {
        const string Root = "keda";
        Assert.StartsWith($"{Root}/", kustomization + "/", StringComparison.Ordinal);
        var copy = Directory.CreateTempSubdirectory("rag-kustomize-").FullName;
        try
        {
            CopyWithSecretTemplates(DeployPaths.Repo(Root), Path.Combine(copy, Root));
            var result = ProcessRunner.RunAsync(Prerequisites.Kubectl, ["kustomize", Path.Combine(copy, kustomization)], Timeout)
                .GetAwaiter().GetResult();
            Assert.True(result.ExitCode == 0, $"kubectl kustomize {kustomization} failed:\n{result.Output}");
            return result.StandardOutput;
        }
        finally
        {
            TempFolder.TryDelete(copy);
        }
    }

    private static void CopyWithSecretTemplates(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            if (Path.GetExtension(file) == ".env")
            {
                continue;
            }
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
            if (file.EndsWith(".env.example", StringComparison.Ordinal))
            {
                File.Copy(file, Path.Combine(to, Path.GetFileNameWithoutExtension(file)));
            }
        }
        foreach (var dir in Directory.GetDirectories(from))
        {
            CopyWithSecretTemplates(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }

    public static (string Repository, string? Tag) SplitImage(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            return (image[..at], image[(at + 1)..]);
        }
        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? (image[..colon], image[(colon + 1)..]) : (image, null);
    }

    public static IEnumerable<JsonObject> Containers(Manifest m)
    {
        var spec = m.Body.Get("spec.template.spec");
        return new[] { spec?["containers"], spec?["initContainers"] }
            .Where(a => a is JsonArray).SelectMany(a => a!.AsArray()).OfType<JsonObject>();
    }
}
