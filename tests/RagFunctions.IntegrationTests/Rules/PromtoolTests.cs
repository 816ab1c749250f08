using RagFunctions.IntegrationTests.Infrastructure;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace RagFunctions.IntegrationTests.Rules;

/// <summary>The rendered rules against the real promtool: syntax, then the unit tests in Rules/Promtool.</summary>
public sealed class PromtoolTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public static TheoryData<string> PromtoolTestFiles() =>
        new(Directory.GetFiles(RulesUnderTest.PromtoolTestsFolder, "*.test.yaml").Select(Path.GetFileName).OfType<string>().Order());

    [Fact]
    public async Task CheckRulesAcceptsTheRenderedFile()
    {
        var folder = RulesUnderTest.RenderIntoTempFolder();
        try
        {
            var result = await ProcessRunner.RunAsync(RulesUnderTest.Promtool(), ["check", "rules", "rag-rules.yaml"], Timeout, folder.FullName);

            Assert.True(result.ExitCode == 0, result.Output);
            Assert.Contains("SUCCESS", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(PromtoolTestFiles))]
    public async Task PassesPromtoolUnitTests(string file)
    {
        var result = await RunPromtoolTest(File.ReadAllText(Path.Combine(RulesUnderTest.PromtoolTestsFolder, file)), file);

        Assert.True(result.ExitCode == 0, result.Output);
    }

    /// <summary>Guards the harness: a wrong expectation must make promtool (and so the test above) fail.</summary>
    [Fact]
    public async Task PromtoolTestFailsGivenAWrongExpectation()
    {
        const string wrong = """
            rule_files: [rag-rules.yaml]
            tests:
              - interval: 1m
                input_series:
                  - series: 'rag_cost_dollars_total{job="rag-ledger", model="m1", environment="test"}'
                    values: '0+1x30'
                alert_rule_test:
                  - eval_time: 20m
                    alertname: DailyBudgetExceeded
                    exp_alerts:
                      - exp_labels: {severity: critical, environment: test}
            """;

        var result = await RunPromtoolTest(wrong, "wrong.test.yaml");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("DailyBudgetExceeded", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryAlertHasAFiringAndANotFiringPromtoolCase()
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).IgnoreUnmatchedProperties().Build();
        var cases = Directory.GetFiles(RulesUnderTest.PromtoolTestsFolder, "*.test.yaml")
            .SelectMany(path => deserializer.Deserialize<PromtoolTestFile>(File.ReadAllText(path)).Tests)
            .SelectMany(group => group.AlertRuleTest).ToList();

        foreach (var alert in RulesUnderTest.Alerts().Select(a => a.Alert!))
        {
            Assert.True(cases.Any(c => c.Alertname == alert && c.ExpAlerts.Count > 0), $"{alert}: no firing case");
            Assert.True(cases.Any(c => c.Alertname == alert && c.ExpAlerts.Count == 0), $"{alert}: no not-firing case");
        }
    }

    private static async Task<ProcessResult> RunPromtoolTest(string testYaml, string fileName)
    {
        var promtool = RulesUnderTest.Promtool();
        var folder = RulesUnderTest.RenderIntoTempFolder();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, fileName), testYaml);
            return await ProcessRunner.RunAsync(promtool, ["test", "rules", fileName], Timeout, folder.FullName);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}

internal sealed class PromtoolTestFile
{
    public List<PromtoolTestGroup> Tests { get; set; } = [];
}

internal sealed class PromtoolTestGroup
{
    public List<AlertRuleTest> AlertRuleTest { get; set; } = [];
}

internal sealed class AlertRuleTest
{
    public string Alertname { get; set; } = string.Empty;

    public List<Dictionary<string, object>> ExpAlerts { get; set; } = [];
}
