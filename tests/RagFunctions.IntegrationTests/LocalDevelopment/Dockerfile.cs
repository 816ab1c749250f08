using System.Text.Json;
using System.Text.RegularExpressions;

namespace RagFunctions.IntegrationTests.LocalDevelopment;

/// <summary>One instruction: its keyword (upper case) and its arguments, continuation lines joined, comment lines removed.</summary>
public sealed record DockerInstruction(string Keyword, string Arguments);

/// <summary>
/// A Dockerfile split into stages the way BuildKit reads it: comment lines (also inside continued instructions) are
/// dropped, a trailing backslash continues the instruction, and each FROM starts a stage. No Docker engine is needed.
/// </summary>
public sealed partial class Dockerfile
{
    private Dockerfile(IReadOnlyList<IReadOnlyList<DockerInstruction>> stages) => Stages = stages;

    public IReadOnlyList<IReadOnlyList<DockerInstruction>> Stages { get; }

    public IReadOnlyList<DockerInstruction> FinalStage => Stages[^1];

    public static Dockerfile Load(string path)
    {
        var stages = new List<List<DockerInstruction>>();
        var pending = "";
        foreach (var line in File.ReadAllLines(path))
        {
            if (line.TrimStart().StartsWith('#') || (pending.Length == 0 && line.Trim().Length == 0))
            {
                continue;
            }
            var continued = line.TrimEnd().EndsWith('\\');
            pending += " " + (continued ? line.TrimEnd()[..^1] : line).Trim();
            if (continued)
            {
                continue;
            }
            var instruction = Instruction().Match(pending.Trim());
            var keyword = instruction.Groups[1].Value.ToUpperInvariant();
            if (keyword == "FROM")
            {
                stages.Add([]);
            }
            Assert.True(stages.Count > 0, $"{path}: {keyword} before the first FROM");
            stages[^1].Add(new(keyword, instruction.Groups[2].Value.Trim()));
            pending = "";
        }
        return new(stages);
    }

    /// <summary>The variables the stage's ENV instructions set (key=value pairs, or the legacy `ENV key value`).</summary>
    public static IReadOnlyDictionary<string, string> Environment(IEnumerable<DockerInstruction> stage)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var env in stage.Where(i => i.Keyword == "ENV"))
        {
            var tokens = env.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (!tokens[0].Contains('=', StringComparison.Ordinal))
            {
                result[tokens[0]] = string.Join(' ', tokens[1..]);
                continue;
            }
            foreach (var pair in tokens.Select(t => t.Split('=', 2)))
            {
                result[pair[0]] = pair[1];
            }
        }
        return result;
    }

    /// <summary>The argument vector of an exec-form (JSON array) instruction; null for the shell form.</summary>
    public static IReadOnlyList<string>? ExecForm(DockerInstruction instruction)
    {
        if (!instruction.Arguments.StartsWith('['))
        {
            return null;
        }
        return JsonSerializer.Deserialize<string[]>(instruction.Arguments);
    }

    [GeneratedRegex(@"^(\S+)\s*(.*)$", RegexOptions.Singleline)]
    private static partial Regex Instruction();
}
