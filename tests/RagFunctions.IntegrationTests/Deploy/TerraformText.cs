using System.Text.RegularExpressions;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>A helm_release block of a module, read from its .tf text (no HCL parser is available here).</summary>
public sealed record HelmRelease(string Module, string Resource, string Chart, string Version, IReadOnlyList<string> ValuesFiles,
    IReadOnlyList<string> SetNames, IReadOnlyList<string> YamlencodeTopKeys);

/// <summary>Just enough HCL reading for the deploy tests: blocks by brace matching, attributes by regex.</summary>
public static partial class TerraformText
{
    public static string ModuleDir(string module) => DeployPaths.Repo("terraform", "modules", module);

    public static string ModuleText(string module) =>
        string.Join("\n", Directory.GetFiles(ModuleDir(module), "*.tf").Order().Select(File.ReadAllText));

    /// <summary>The body of every `resource "type" "name" { ... }` block.</summary>
    public static IEnumerable<(string Name, string Body)> Blocks(string text, string resourceType)
    {
        foreach (Match m in Regex.Matches(text, $"resource\\s+\"{Regex.Escape(resourceType)}\"\\s+\"([^\"]+)\"\\s*\\{{"))
        {
            yield return (m.Groups[1].Value, BraceBody(text, m.Index + m.Length - 1));
        }
    }

    public static string BraceBody(string text, int openBrace)
    {
        var depth = 0;
        for (var i = openBrace; i < text.Length; i++)
        {
            depth += text[i] switch { '{' or '[' => 1, '}' or ']' => -1, _ => 0 };
            if (depth == 0)
            {
                return text[(openBrace + 1)..i];
            }
        }
        throw new InvalidOperationException("unbalanced braces");
    }

    public static string? Attribute(string body, string name) =>
        Regex.Match(body, $"(?m)^\\s*{Regex.Escape(name)}\\s*=\\s*\"([^\"]*)\"") is { Success: true } m ? m.Groups[1].Value : null;

    public static IReadOnlyList<HelmRelease> HelmReleases(string module)
    {
        var text = ModuleText(module);
        return [.. Blocks(text, "helm_release").Select(b => new HelmRelease(
            module, b.Name,
            Attribute(b.Body, "chart") ?? "",
            Attribute(b.Body, "version") ?? "",
            [.. ValuesFile().Matches(b.Body).Select(m => Path.Combine(ModuleDir(module), m.Groups[1].Value))],
            SetEntries(b.Body),
            [.. YamlencodeKey().Matches(b.Body).Select(m => m.Groups[1].Value)]))];
    }

    /// <summary>`name = "..."` entries inside `set = [ ... ]` / `set_sensitive = [ ... ]` lists, HCL escapes undone.</summary>
    private static List<string> SetEntries(string body)
    {
        var names = new List<string>();
        foreach (Match m in SetList().Matches(body))
        {
            var list = BraceBody(body, m.Index + m.Length - 1);
            names.AddRange(NameAttr().Matches(list).Select(n => n.Groups[1].Value.Replace("\\\\", "\\", StringComparison.Ordinal)));
        }
        return names;
    }

    [GeneratedRegex(@"file\(""\$\{path\.module\}/([^""]+\.ya?ml)""\)")]
    private static partial Regex ValuesFile();

    [GeneratedRegex(@"yamlencode\(\{\s*(\w+)\s*=")]
    private static partial Regex YamlencodeKey();

    [GeneratedRegex(@"(?m)^\s*(?:set|set_sensitive)\s*=\s*\[")]
    private static partial Regex SetList();

    [GeneratedRegex(@"(?m)^\s*name\s*=\s*""((?:[^""\\]|\\.)*)""")]
    private static partial Regex NameAttr();
}
