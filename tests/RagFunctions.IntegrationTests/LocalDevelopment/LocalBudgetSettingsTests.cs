using System.Text.Json.Nodes;
using RagFunctions.IntegrationTests.Deploy;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.LocalDevelopment;

/// <summary>
/// The local stacks give the app and the ledger the same tenants and budgets, read from one source:
/// local.settings.sample.json's Rag__Tenants__* and Rag__Budgets__* values (the demo tenant and the global limits).
/// </summary>
public sealed class LocalBudgetSettingsTests
{
    private const string SampleInContainer = "/etc/rag/local.settings.sample.json";

    private static readonly string Sample = DeployPaths.Repo("local.settings.sample.json");

    /// <summary>The sample's tenant and budget settings, read as JSON.</summary>
    private static Dictionary<string, string> SampleBudgets() =>
        JsonNode.Parse(File.ReadAllText(Sample))!["Values"]!.AsObject()
            .Where(kv => IsBudgetSetting(kv.Key))
            .ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>(), StringComparer.Ordinal);

    /// <summary>A key (or KEY=VALUE line) of the tenants, the budgets, or the tenant header's trust (the local demo sends it).</summary>
    private static bool IsBudgetSetting(string key) =>
        key.StartsWith("Rag__Tenants__", StringComparison.Ordinal) || key.StartsWith("Rag__Budgets__", StringComparison.Ordinal)
        || key.StartsWith("Rag__TrustTenantHeader", StringComparison.Ordinal);

    private static Dictionary<string, string> BudgetLines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(IsBudgetSetting)
            .ToDictionary(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..], StringComparer.Ordinal);

    [Fact]
    public void TheSampleHasTheDemoTenantWithItsLimitsAndTheGlobalLimits()
    {
        var sample = SampleBudgets();

        Assert.Equal("demo", sample["Rag__Tenants__0__Name"]);
        Assert.Contains("Rag__Tenants__0__Daily__Hard", sample.Keys);
        Assert.Contains("Rag__Budgets__Daily__Hard", sample.Keys);
        Assert.Equal("true", sample["Rag__TrustTenantHeader"]);
    }

    [Theory]
    [InlineData("app")]
    [InlineData("ledger")]
    public async Task ComposeAppAndLedgerExportTheSamplesTenantsAndBudgets(string service)
    {
        var compose = ComposeModel.Load().Services[service];
        Assert.Contains(compose.Mounts, m => m.Target == SampleInContainer && m.ReadOnly && Path.GetFullPath(m.Source!) == Path.GetFullPath(Sample));
        Assert.DoesNotContain(compose.Environment.Keys, IsBudgetSetting);
        Assert.Equal(["sh", "-c"], compose.Entrypoint.Take(2));
        // Every `$` is escaped as `$$`, so Compose interpolates nothing and the container's shell gets the script with `$`.
        Assert.DoesNotContain("$", compose.Entrypoint[2].Replace("$$", "", StringComparison.Ordinal), StringComparison.Ordinal);
        var script = compose.Entrypoint[2].Replace("$$", "$", StringComparison.Ordinal).Replace(SampleInContainer, Sample, StringComparison.Ordinal);

        // The entrypoint execs the service's command with the exports: `env` shows what the service would see.
        var result = await ProcessRunner.RunAsync("/bin/sh", ["-c", script, compose.Entrypoint[3], "env"], TimeSpan.FromSeconds(30), Path.GetTempPath());

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(SampleBudgets().OrderBy(kv => kv.Key, StringComparer.Ordinal), BudgetLines(result.StandardOutput).OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.NotEmpty(compose.Command);
    }

    [Fact]
    public async Task ScriptsDevGivesTheAppAndTheLedgerTheSamplesTenantsAndBudgets()
    {
        var dev = await File.ReadAllTextAsync(DeployPaths.Repo("scripts", "dev"));
        var function = dev[dev.IndexOf("budget_env() {", StringComparison.Ordinal)..];
        function = function[..(function.IndexOf("\n}\n", StringComparison.Ordinal) + 2)];

        var result = await ProcessRunner.RunAsync("/bin/bash", ["-c", $"root='{Prerequisites.RepoRoot}'\n{function}\nbudget_env"], TimeSpan.FromSeconds(30), Path.GetTempPath());

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(SampleBudgets().OrderBy(kv => kv.Key, StringComparer.Ordinal), BudgetLines(result.StandardOutput).OrderBy(kv => kv.Key, StringComparer.Ordinal));
        // Both the app's settings and the ledger's start line use it, and no limit is written out in the script.
        Assert.Contains("  budget_env\n}", dev, StringComparison.Ordinal);
        Assert.Contains("mapfile -t budgets < <(budget_env)", dev, StringComparison.Ordinal);
        Assert.DoesNotContain("Rag__Budgets__Daily", dev, StringComparison.Ordinal);
    }
}
