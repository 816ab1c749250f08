using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>A clone needs nothing beside it: the upstream facts are derived into Reference/, with their provenance.</summary>
public sealed partial class ReferenceTests
{
    // Built from parts so this file does not itself mention the folder it looks for.
    private static readonly string Beside = string.Concat("..", "/", "shared");

    [Fact]
    public async Task NoTrackedFileReachesOutsideTheCloneExceptTheRefreshScriptsUsageText()
    {
        var git = await ProcessRunner.RunAsync(Prerequisites.Git, ["ls-files", "-z"], TimeSpan.FromMinutes(1), Prerequisites.RepoRoot);
        Assert.True(git.ExitCode == 0, $"git ls-files failed in {Prerequisites.RepoRoot}:\n{git.Output}");
        var files = git.StandardOutput.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("scripts/refresh-reference", files);

        var mentions = new List<string>();
        foreach (var file in files)
        {
            var path = Path.Combine(Prerequisites.RepoRoot, file);
            if (!File.Exists(path))
            {
                continue; // deleted in the work tree, not yet committed
            }
            var lines = File.ReadAllLines(path);
            var allowed = file == "scripts/refresh-reference" ? UsageLines(lines) : [];
            for (var i = 0; i < lines.Length; i++)
            {
                if ((lines[i].Contains(Beside, StringComparison.Ordinal) || ParentThenShared().IsMatch(lines[i])) && !allowed.Contains(i))
                {
                    mentions.Add($"{file}:{i + 1}: {lines[i].Trim()}");
                }
            }
        }
        Assert.True(mentions.Count == 0, $"tracked files that read beside the clone:\n{string.Join('\n', mentions)}");
    }

    /// <summary>Indexes of the lines inside the script's usage() function.</summary>
    private static HashSet<int> UsageLines(string[] lines)
    {
        var start = Array.FindIndex(lines, l => l.StartsWith("usage() {", StringComparison.Ordinal));
        Assert.True(start >= 0, "scripts/refresh-reference has no usage() function");
        var end = Array.FindIndex(lines, start, l => l == "}");
        return [.. Enumerable.Range(start, end - start + 1)];
    }

    [Fact]
    public void ProvenanceRecordsEveryDerivedFileAndNothingElse()
    {
        var provenance = JsonNode.Parse(File.ReadAllText(DeployPaths.Reference("provenance.json")))!;
        var entries = provenance["files"]!.AsArray().Select(e => e!.AsObject()).ToList();
        var derived = Directory.GetFiles(DeployPaths.Reference(), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(DeployPaths.Reference(), f).Replace('\\', '/'))
            .Where(f => f != "provenance.json").Order().ToList();

        Assert.Equal(derived, entries.Select(e => e["file"]!.GetValue<string>()).Order());
        Assert.All(entries, e =>
        {
            foreach (var field in new[] { "upstream", "version", "source" })
            {
                Assert.False(string.IsNullOrWhiteSpace(e[field]?.GetValue<string>()), $"{e["file"]}: no {field}");
            }
            Assert.Matches("^[0-9a-f]{64}$", e["inputSha256"]!.GetValue<string>());
        });
    }

    [Fact]
    public void DerivedCrdSchemasKeepStructureWithoutUpstreamProse()
    {
        var files = Directory.GetFiles(DeployPaths.Reference("crds"), "*.json");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var schema = JsonNode.Parse(File.ReadAllText(file))!["openAPIV3Schema"]!;
            var prose = SchemaObjects(schema).SelectMany(o => o.Select(kv => kv.Key))
                .Where(k => k is "description" or "title" or "example" or "x-kubernetes-validations").Distinct().ToList();
            Assert.True(prose.Count == 0, $"{Path.GetFileName(file)} keeps {string.Join(", ", prose)}");
            Assert.Contains(SchemaObjects(schema), o => o.ContainsKey("required"));
        }
    }

    [Fact]
    public void DerivedComposeSchemaKeepsValidationWithoutUpstreamProse()
    {
        var schema = JsonNode.Parse(File.ReadAllText(DeployPaths.Reference("compose", "compose-spec.schema.json")))!;
        var keywords = ComposeKeywords(schema).ToList();
        var prose = keywords.Where(k => k is "description" or "title" or "examples" or "$comment").Distinct().ToList();
        Assert.True(prose.Count == 0, $"compose-spec.schema.json keeps {string.Join(", ", prose)}");
        Assert.Contains("required", keywords);
        Assert.Contains("patternProperties", keywords);
    }

    /// <summary>The keywords of a draft-07 schema tree: names inside properties, patternProperties and definitions are data, not keywords.</summary>
    private static IEnumerable<string> ComposeKeywords(JsonNode? node)
    {
        if (node is not JsonObject schema)
        {
            yield break;
        }

        foreach (var (key, value) in schema)
        {
            yield return key;
            IEnumerable<JsonNode?> children = key switch
            {
                "properties" or "patternProperties" or "definitions" => (value as JsonObject)?.Select(kv => kv.Value) ?? [],
                "allOf" or "anyOf" or "oneOf" => value as JsonArray ?? (IEnumerable<JsonNode?>)[],
                "items" => value as JsonArray ?? (IEnumerable<JsonNode?>)new[] { value },
                "additionalProperties" or "not" or "if" or "then" or "else" or "contains" or "propertyNames" => new[] { value },
                _ => [],
            };
            foreach (var keyword in children.SelectMany(ComposeKeywords))
            {
                yield return keyword;
            }
        }
    }

    /// <summary>Every schema object (not data such as defaults or enums) in a schema tree.</summary>
    private static IEnumerable<JsonObject> SchemaObjects(JsonNode? node)
    {
        if (node is not JsonObject schema)
        {
            yield break;
        }
        yield return schema;
        var children = (schema["properties"] as JsonObject)?.Select(kv => kv.Value) ?? [];
        children = children.Append(schema["items"]).Append(schema["additionalProperties"]).Append(schema["not"])
            .Concat(new[] { "allOf", "anyOf", "oneOf" }.SelectMany(k => schema[k]?.AsArray() ?? []));
        foreach (var child in children)
        {
            foreach (var o in SchemaObjects(child))
            {
                yield return o;
            }
        }
    }

    // A path built from parts: a parent-folder segment, then a "shared" one.
    [GeneratedRegex(@"""\.\.""\s*,\s*""shared""")]
    private static partial Regex ParentThenShared();
}
