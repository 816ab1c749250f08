using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>YAML → System.Text.Json nodes with YAML 1.2 core-schema typing of plain scalars (quoted scalars stay strings).</summary>
public static class YamlJson
{
    public static IReadOnlyList<JsonNode?> LoadAll(string path)
    {
        using var reader = new StreamReader(path);
        return Load(reader);
    }

    /// <summary>Every document of a YAML stream held in a string (e.g. a command's output).</summary>
    public static IReadOnlyList<JsonNode?> LoadAllText(string yaml)
    {
        using var reader = new StringReader(yaml);
        return Load(reader);
    }

    private static List<JsonNode?> Load(TextReader reader)
    {
        var stream = new YamlStream();
        stream.Load(reader);
        return [.. stream.Documents.Select(d => Convert(d.RootNode))];
    }

    public static JsonNode? LoadSingle(string path)
    {
        var docs = LoadAll(path);
        Assert.True(docs.Count == 1, $"{path}: expected one YAML document, found {docs.Count}");
        return docs[0];
    }

    public static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv =>
            KeyValuePair.Create(((YamlScalarNode)kv.Key).Value ?? "", Convert(kv.Value)))),
        YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(Convert)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidOperationException($"Unsupported YAML node {node.NodeType} at {node.Start}"),
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style != YamlDotNet.Core.ScalarStyle.Plain)
        {
            return JsonValue.Create(text);
        }
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && !double.IsNaN(d) && !double.IsInfinity(d)
            && text.Any(char.IsDigit))
        {
            return JsonValue.Create(d);
        }
        return JsonValue.Create(text);
    }

    public static string Str(this JsonNode? node, string path) =>
        Get(node, path)?.GetValue<string>() ?? throw new InvalidOperationException($"missing {path}");

    /// <summary>Dotted path lookup (no list indices) returning null when absent.</summary>
    public static JsonNode? Get(this JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            if (node is not JsonObject obj || !obj.TryGetPropertyValue(part, out node))
            {
                return null;
            }
        }
        return node;
    }
}
