using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>
/// The openAPIV3Schema of every CRD kind and version in the derived reference (Reference/crds, written by
/// scripts/refresh-reference), evaluated by JsonSchema.Net after adapting it to JSON Schema the way the API server applies it:
/// <list type="bullet">
/// <item>structural schemas prune unknown fields, so an object with properties and no
/// x-kubernetes-preserve-unknown-fields gets additionalProperties: false (a typo'd field fails);</item>
/// <item>nullable: true admits null;</item>
/// <item>x-kubernetes-int-or-string without a type admits integer or string;</item>
/// <item>other x-kubernetes-* keywords (list types) are annotations; CEL rules (x-kubernetes-validations) are not derived, so not evaluated.</item>
/// </list>
/// </summary>
public static class CrdSchemas
{
    private static readonly Lazy<Dictionary<(string ApiVersion, string Kind), JsonSchema>> All = new(Load);

    public static bool TryGet(string apiVersion, string kind, out JsonSchema schema) =>
        All.Value.TryGetValue((apiVersion, kind), out schema!);

    public static IEnumerable<(string ApiVersion, string Kind)> Kinds => All.Value.Keys;

    /// <summary>Why the API server would reject <paramref name="obj"/> by its CRD's schema; empty when it is valid.</summary>
    public static IReadOnlyList<string> Violations(JsonObject obj)
    {
        var (apiVersion, kind) = (obj.Str("apiVersion"), obj.Str("kind"));
        if (!TryGet(apiVersion, kind, out var schema))
        {
            return [$"{apiVersion} {kind} is neither a core kind nor a CRD kind of the derived reference (scripts/refresh-reference)"];
        }
        var result = schema.Evaluate(JsonDocument.Parse(obj.ToJsonString()).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid
            ? []
            : [.. (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"at {d.InstanceLocation}: {e.Key}: {e.Value}"))];
    }

    private static Dictionary<(string, string), JsonSchema> Load()
    {
        var result = new Dictionary<(string, string), JsonSchema>();
        foreach (var file in Directory.GetFiles(DeployPaths.Reference("crds"), "*.json"))
        {
            var crd = JsonNode.Parse(File.ReadAllText(file))!;
            var schemaNode = crd["openAPIV3Schema"]!.DeepClone();
            Adapt(schemaNode);
            result.Add((crd.Str("apiVersion"), crd.Str("kind")), JsonSchema.FromText(schemaNode.ToJsonString()));
        }
        return result;
    }

    public static void Adapt(JsonNode? node)
    {
        if (node is not JsonObject schema)
        {
            return;
        }
        if (schema["properties"] is JsonObject props)
        {
            foreach (var p in props.Select(kv => kv.Value).ToList())
            {
                Adapt(p);
            }
        }
        if (schema["additionalProperties"] is JsonObject ap)
        {
            Adapt(ap);
        }
        if (schema["items"] is JsonObject items)
        {
            Adapt(items);
        }
        Adapt(schema["not"]);
        foreach (var key in new[] { "allOf", "anyOf", "oneOf" })
        {
            foreach (var s in schema[key]?.AsArray() ?? [])
            {
                Adapt(s);
            }
        }

        var preserve = schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() == true;
        if (schema["properties"] is JsonObject && !preserve && !schema.ContainsKey("additionalProperties"))
        {
            schema["additionalProperties"] = false;
        }
        if (schema["x-kubernetes-int-or-string"]?.GetValue<bool>() == true && !schema.ContainsKey("type") && !schema.ContainsKey("anyOf"))
        {
            schema["type"] = new JsonArray("integer", "string");
        }
        if (schema["nullable"]?.GetValue<bool>() == true && schema["type"] is JsonValue t)
        {
            schema["type"] = new JsonArray(t.GetValue<string>(), "null");
        }
        // Consumed above (or CEL, which is not evaluated here); the 2020-12 dialect rejects unknown keywords.
        foreach (var key in schema.Select(kv => kv.Key).Where(k => k.StartsWith("x-kubernetes-", StringComparison.Ordinal) || k == "nullable").ToList())
        {
            schema.Remove(key);
        }
    }
}
