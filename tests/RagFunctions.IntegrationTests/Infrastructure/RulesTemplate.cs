using System.Text.RegularExpressions;

namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>
/// Renders the Prometheus rules template (terraform/modules/monitoring/rules/rag-rules.yaml) the way Terraform's
/// templatefile() does for a file that only uses plain <c>${name}</c> interpolations: a string replace.
/// Anything the two would render differently is an error.
/// </summary>
public static partial class RulesTemplate
{
    public const string RelativePath = "terraform/modules/monitoring/rules/rag-rules.yaml";

    /// <summary>The placeholders the template may use; Terraform passes exactly these.</summary>
    public static IReadOnlyList<string> Placeholders { get; } =
        ["environment", "daily_budget_usd", "monthly_budget_usd", "burn_rate_hours", "runbook_base_url"];

    public static string Render(string path, IDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var template = File.ReadAllText(path);
        if (template.Contains("%{", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{path} contains '%{{', a Terraform template directive.");
        }

        var rendered = Placeholder().Replace(template, match =>
        {
            var name = match.Groups["name"].Value;
            if (!Placeholders.Contains(name))
            {
                throw new InvalidOperationException($"{path} uses unknown placeholder ${{{name}}}; known: {string.Join(", ", Placeholders)}.");
            }

            return values.TryGetValue(name, out var value)
                ? value
                : throw new InvalidOperationException($"{path} uses ${{{name}}} but no value was given for it.");
        });

        var left = rendered.IndexOf("${", StringComparison.Ordinal);
        return left < 0
            ? rendered
            : throw new InvalidOperationException($"{path} still contains '${{' after rendering, at: {rendered.Substring(left, Math.Min(40, rendered.Length - left))}");
    }

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Placeholder();
}
