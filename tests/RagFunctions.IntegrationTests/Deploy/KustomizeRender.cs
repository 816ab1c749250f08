using System.Text.Json.Nodes;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>One rendered object plus the file it came from.</summary>
public sealed record Manifest(string Source, JsonObject Body)
{
    public string Kind => Body.Str("kind");
    public string ApiVersion => Body.Str("apiVersion");
    public string Name => Body.Str("metadata.name");
    public override string ToString() => $"{Kind}/{Name} ({Source})";
}

/// <summary>
/// The subset of kustomize the keda/ folder uses (kubectl is not installed here): resources (files and
/// directories), namespace, images, configMapGenerator/secretGenerator with merge. Any other field fails,
/// so an overlay can never silently use something these tests do not render.
/// Generated names carry no hash suffix here; references are checked by declared name.
/// For secretGenerator env files that are git-ignored, the committed .env.example supplies the keys.
/// </summary>
public static class KustomizeRender
{
    private static readonly HashSet<string> Supported =
        ["apiVersion", "kind", "resources", "namespace", "images", "configMapGenerator", "secretGenerator", "configurations"];

    public static IReadOnlyList<Manifest> Render(string dir)
    {
        var kustomization = YamlJson.LoadSingle(Path.Combine(dir, "kustomization.yaml"))!.AsObject();
        var unknown = kustomization.Select(kv => kv.Key).Where(k => !Supported.Contains(k)).ToList();
        Assert.True(unknown.Count == 0,
            $"{dir}/kustomization.yaml uses {string.Join(", ", unknown)}, which the deploy tests do not render; extend KustomizeRender first.");

        var output = new List<Manifest>();
        foreach (var entry in kustomization["resources"]?.AsArray() ?? [])
        {
            var path = Path.GetFullPath(Path.Combine(dir, entry!.GetValue<string>()));
            if (Directory.Exists(path))
            {
                output.AddRange(Render(path));
            }
            else
            {
                Assert.True(File.Exists(path), $"{dir}/kustomization.yaml lists missing resource {path}");
                output.AddRange(YamlJson.LoadAll(path).OfType<JsonObject>().Select(o => new Manifest(Relative(path), o)));
            }
        }

        Generate(dir, kustomization["configMapGenerator"], "ConfigMap", output);
        Generate(dir, kustomization["secretGenerator"], "Secret", output);

        foreach (var image in kustomization["images"]?.AsArray() ?? [])
        {
            RewriteImages(output, image!.Str("name"), image.Get("newName")?.GetValue<string>(), image.Get("newTag")?.GetValue<string>());
        }
        if (kustomization["namespace"]?.GetValue<string>() is { } ns)
        {
            foreach (var m in output.Where(m => m.Kind != "Namespace"))
            {
                m.Body["metadata"]!["namespace"] = ns;
            }
        }
        return output;
    }

    private static void Generate(string dir, JsonNode? generators, string kind, List<Manifest> output)
    {
        foreach (var gen in (generators?.AsArray() ?? []).OfType<JsonObject>())
        {
            var name = gen.Str("name");
            var data = new JsonObject();
            foreach (var literal in gen["literals"]?.AsArray() ?? [])
            {
                var (k, v) = SplitPair(literal!.GetValue<string>());
                data[k] = v;
            }
            foreach (var env in gen["envs"]?.AsArray() ?? [])
            {
                var path = Path.Combine(dir, env!.GetValue<string>());
                var source = File.Exists(path) ? path : path + ".example";
                Assert.True(File.Exists(source), $"{dir}: generator {name} reads {path}; neither it nor {source} exists");
                foreach (var line in File.ReadAllLines(source).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
                {
                    var (k, v) = SplitPair(line);
                    data[k] = v;
                }
            }

            var behavior = gen["behavior"]?.GetValue<string>() ?? "create";
            var existing = output.FirstOrDefault(m => m.Kind == kind && m.Name == name);
            if (behavior == "merge")
            {
                Assert.True(existing is not null, $"{dir}: {kind} generator {name} merges into nothing");
                foreach (var kv in data.ToList())
                {
                    existing!.Body["data"]![kv.Key] = kv.Value?.DeepClone();
                }
                continue;
            }
            Assert.True(existing is null, $"{dir}: {kind} {name} generated twice");
            output.Add(new Manifest(Relative(Path.Combine(dir, "kustomization.yaml")), new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = kind,
                ["metadata"] = new JsonObject { ["name"] = name },
                ["data"] = data,
            }));
        }
    }

    private static (string Key, string Value) SplitPair(string line)
    {
        var eq = line.IndexOf('=', StringComparison.Ordinal);
        Assert.True(eq > 0, $"not KEY=VALUE: {line}");
        return (line[..eq], line[(eq + 1)..]);
    }

    private static void RewriteImages(IEnumerable<Manifest> manifests, string name, string? newName, string? newTag)
    {
        foreach (var container in manifests.SelectMany(Containers))
        {
            var (repo, tag) = SplitImage(container.Str("image"));
            if (repo == name)
            {
                container["image"] = $"{newName ?? repo}:{newTag ?? tag}";
            }
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

    private static string Relative(string path) => Path.GetRelativePath(Prerequisites.RepoRoot, path);
}
