using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.LocalDevelopment;

/// <summary>Line prefixes of the verify report, and the checks it must always report.</summary>
internal static class VerifyReport
{
    public static readonly string[] Checks =
    [
        "pushgateway-reachable", "prometheus-reachable", "pushgateway-scraped", "honor-labels", "ledger-fresh",
        "rag-series", "rules-healthy", "alertmanager-connected", "alertmanager-reachable",
    ];

    public static IReadOnlyList<string> Lines(ProcessResult result, string status) =>
        [.. result.StandardOutput.Split('\n').Where(l => l.StartsWith(status + " ", StringComparison.Ordinal))];

    public static bool Reports(ProcessResult result, string status, string check) =>
        Lines(result, status).Any(l => l.StartsWith($"{status}  {check}:", StringComparison.Ordinal));

    public static bool Fails(ProcessResult result, string check) => Reports(result, "FAIL", check);
}

public sealed class HealthyDevStackTests(DevStack stack) : IClassFixture<DevStack>
{
    [Fact]
    public async Task VerifyPassesEveryCheckAgainstTheStackThatScriptsDevStarted()
    {
        Assert.True(stack.Up.ExitCode == 0, $"scripts/dev up failed:\n{stack.Up.Output}\n--- app.log\n{stack.Log("app")}");
        Assert.Contains("batch", stack.Up.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("4/4 succeeded", stack.Up.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("-> 400 application/problem+json", stack.Up.StandardOutput, StringComparison.Ordinal);

        // Rates need two scrapes of the ledger's first non-held samples: allow the stack a moment to fill.
        var result = await stack.VerifyUntilAsync(r => r.ExitCode == 0, TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 0, $"verify failed:\n{result.Output}\n--- ledger.log\n{stack.Log("ledger")}");
        Assert.Empty(VerifyReport.Lines(result, "FAIL"));
        Assert.All(VerifyReport.Checks, check => Assert.Contains($"PASS  {check}:", result.StandardOutput, StringComparison.Ordinal));
        Assert.True(VerifyReport.Lines(result, "PASS").Count(l => l.StartsWith("PASS  panel ", StringComparison.Ordinal)) >= 30, result.Output);
        // Only the cluster-only panels (kube-state-metrics, KEDA) are skipped locally.
        Assert.All(VerifyReport.Lines(result, "SKIP"), l => Assert.Matches(@"reads (kube|keda)_\w+", l));
    }

    /// <summary>The ledger scripts/dev starts knows the app's demo tenant and limits (local.settings.sample.json).</summary>
    [Fact]
    public async Task TheLedgerServesTheDemoTenantsLimitsFromTheSample()
    {
        Assert.True(stack.Up.ExitCode == 0, stack.Up.Output);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        const string demoHard = "rag_budget_limit_dollars{environment=\"local\",kind=\"hard\",tenant=\"demo\",window=\"daily\"} 0.1\n";
        var metrics = string.Empty;
        // The lease holder serves only after its first commit.
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !metrics.Contains(demoHard, StringComparison.Ordinal) && DateTime.UtcNow < deadline; await Task.Delay(500))
        {
            metrics = await http.GetStringAsync(new Uri(stack.Ledger, "/metrics"));
        }

        Assert.Contains(demoHard, metrics, StringComparison.Ordinal);
        Assert.Contains("rag_budget_limit_dollars{environment=\"local\",kind=\"hard\",tenant=\"_all\",window=\"daily\"} 5\n", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpAgainReusesTheRunningStackAndStatusShowsEveryPartUp()
    {
        Assert.True(stack.Up.ExitCode == 0, stack.Up.Output);

        var again = await stack.DevAsync("up", TimeSpan.FromSeconds(30));
        var status = await stack.DevAsync("status", TimeSpan.FromSeconds(30));

        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("already up", again.StandardOutput, StringComparison.Ordinal);
        Assert.True(status.ExitCode == 0, status.Output);
        Assert.All(new[] { "azurite", "pushgateway", "prometheus", "alertmanager", "ledger", "app" },
            part => Assert.Matches($@"(?m)^\s+{part}\s+up\s+pid \d+", status.StandardOutput));
        Assert.Contains(stack.Prometheus.Authority, status.StandardOutput, StringComparison.Ordinal);
    }
}

public sealed class DegradedDevStackTests(DevStack stack) : IClassFixture<DevStack>
{
    [Fact]
    public async Task VerifyFailsNamingTheLedgerAndThenThePushgatewayOnceEachIsKilled()
    {
        Assert.True(stack.Up.ExitCode == 0, $"scripts/dev up failed:\n{stack.Up.Output}");
        var healthy = await stack.VerifyUntilAsync(r => r.ExitCode == 0, TimeSpan.FromSeconds(60));
        Assert.True(healthy.ExitCode == 0, $"the stack never verified healthy:\n{healthy.Output}");

        stack.Kill("ledger");
        var noLedger = await stack.VerifyUntilAsync(r => VerifyReport.Fails(r, "ledger-fresh"), TimeSpan.FromSeconds(30));
        var status = await stack.DevAsync("status", TimeSpan.FromSeconds(30));

        Assert.Equal(1, noLedger.ExitCode);
        Assert.True(VerifyReport.Fails(noLedger, "ledger-fresh"), noLedger.Output);
        Assert.Contains("PASS  pushgateway-reachable:", noLedger.StandardOutput, StringComparison.Ordinal);
        Assert.NotEqual(0, status.ExitCode);
        Assert.Matches(@"(?m)^\s+ledger\s+down", status.StandardOutput);

        stack.Kill("pushgateway");
        var noPushgateway = await stack.VerifyUntilAsync(
            r => VerifyReport.Fails(r, "pushgateway-reachable") && VerifyReport.Fails(r, "pushgateway-scraped"), TimeSpan.FromSeconds(30));

        Assert.Equal(1, noPushgateway.ExitCode);
        Assert.True(VerifyReport.Fails(noPushgateway, "pushgateway-reachable"), noPushgateway.Output);
        Assert.True(VerifyReport.Fails(noPushgateway, "pushgateway-scraped"), noPushgateway.Output);
    }
}
