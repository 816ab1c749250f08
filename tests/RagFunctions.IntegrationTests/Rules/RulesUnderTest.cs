using RagFunctions.IntegrationTests.Infrastructure;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace RagFunctions.IntegrationTests.Rules;

/// <summary>The rules template rendered with the values the promtool test files expect.</summary>
internal static class RulesUnderTest
{
    public const string RunbookBaseUrl = "https://runbooks.example";

    public const string PromtoolMissing = "promtool not found: run scripts/test (installs prometheus via apt)";

    public static Dictionary<string, string> Values { get; } = new()
    {
        ["environment"] = "test",
        ["daily_budget_usd"] = "100",
        ["monthly_budget_usd"] = "1000",
        ["burn_rate_hours"] = "6",
        ["runbook_base_url"] = RunbookBaseUrl,
    };

    public static string RepoPath(string relative) => Path.Combine(Prerequisites.RepoRoot, relative);

    public static string TemplatePath => RepoPath(RulesTemplate.RelativePath);

    public static string PromtoolTestsFolder => RepoPath("tests/RagFunctions.IntegrationTests/Rules/Promtool");

    public static string Render() => RulesTemplate.Render(TemplatePath, Values);

    public static RuleFile Parse() =>
        new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).IgnoreUnmatchedProperties()
            .Build().Deserialize<RuleFile>(Render());

    public static IEnumerable<Rule> Alerts() => Parse().Groups.SelectMany(g => g.Rules).Where(r => r.Alert is not null);

    /// <summary>promtool on PATH, or a failure naming the set-up command (never a skip).</summary>
    public static string Promtool()
    {
        try
        {
            return Prerequisites.Promtool;
        }
        catch (InvalidOperationException)
        {
            Assert.Fail(PromtoolMissing);
            throw;
        }
    }

    /// <summary>
    /// A temp folder holding the rendered rules as rag-rules.yaml (promtool resolves rule_files next to the test file),
    /// and the same rules rendered for a second environment as rag-rules-staging.yaml: a test file that lists both shows
    /// what one Prometheus holding two environments' series and rules alerts on.
    /// </summary>
    public static DirectoryInfo RenderIntoTempFolder()
    {
        var folder = Directory.CreateTempSubdirectory("rag-rules-");
        File.WriteAllText(Path.Combine(folder.FullName, "rag-rules.yaml"), Render());
        File.WriteAllText(Path.Combine(folder.FullName, "rag-rules-staging.yaml"), RulesTemplate.Render(TemplatePath, new Dictionary<string, string>(Values) { ["environment"] = "staging" }));
        return folder;
    }

    /// <summary>"DailyBudgetExceeded" → "daily-budget-exceeded"; "LLMErrorRate" → "llm-error-rate".</summary>
    public static string Kebab(string alert) =>
        System.Text.RegularExpressions.Regex.Replace(alert, "(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-").ToLowerInvariant();
}

internal sealed class RuleFile
{
    public List<RuleGroup> Groups { get; set; } = [];
}

internal sealed class RuleGroup
{
    public string Name { get; set; } = string.Empty;

    public List<Rule> Rules { get; set; } = [];
}

internal sealed class Rule
{
    public string? Record { get; set; }

    public string? Alert { get; set; }

    public string Expr { get; set; } = string.Empty;

    public Dictionary<string, string> Labels { get; set; } = [];

    public Dictionary<string, string> Annotations { get; set; } = [];
}
