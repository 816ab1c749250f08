using System.Net;
using System.Net.Sockets;
using System.Text;
using RagFunctions.Core.Metrics;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.Verify;

namespace RagFunctions.IntegrationTests.LocalDevelopment;

/// <summary>The verify tool and scripts/dev where no running stack is needed.</summary>
public sealed class VerifyToolTests
{
    private static string VerifyDll => Path.Combine(AppContext.BaseDirectory, "RagFunctions.Verify.dll");

    [Fact]
    public async Task RagSeriesCheckExpectsExactlyTheMetricsRagMetricsDefines()
    {
        var metrics = new RagMetrics("local", ["local-extractive"], ["default"]);
        using var text = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(text);
        var defined = Encoding.UTF8.GetString(text.ToArray()).Split('\n')
            .Where(l => l.StartsWith("# TYPE rag_", StringComparison.Ordinal))
            .Select(l => l.Split(' ')[2]);

        Assert.Equal(defined.Order(StringComparer.Ordinal), StackChecks.RagMetricNames.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ExpectsEveryRuleGroupOfTheTemplateForTheEnvironment()
    {
        var groups = StackChecks.ExpectedRuleGroups(Path.Combine(Prerequisites.RepoRoot, RulesTemplate.RelativePath), "local");

        Assert.Contains("rag-recording-local", groups);
        Assert.Contains("rag-metrics-path-alerts-local", groups);
        Assert.True(groups.Count >= 5, string.Join(", ", groups));
    }

    [Fact]
    public async Task ExitsWithTwoAndUsageWithoutThePrometheusUrl()
    {
        var result = await ProcessRunner.RunAsync("dotnet", ["exec", VerifyDll, "--pushgateway", "http://127.0.0.1:9"], TimeSpan.FromSeconds(60), Prerequisites.RepoRoot);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--prometheus URL is required", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("usage: verify", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailsNamingTheUnreachablePushgatewayAndPrometheus()
    {
        var pushgateway = FreePort.Next();
        var prometheus = FreePort.Next();

        var result = await ProcessRunner.RunAsync("dotnet",
            ["exec", VerifyDll, "--prometheus", $"http://127.0.0.1:{prometheus}", "--pushgateway", $"http://127.0.0.1:{pushgateway}", "--timeout", "2"],
            TimeSpan.FromSeconds(60), Prerequisites.RepoRoot);

        Assert.Equal(1, result.ExitCode);
        Assert.True(VerifyReport.Fails(result, "pushgateway-reachable"), result.Output);
        Assert.True(VerifyReport.Fails(result, "prometheus-reachable"), result.Output);
        Assert.DoesNotContain("PASS ", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogsInToAPushgatewayBehindBasicAuthWithTheUserAndThePasswordFromTheEnvironment()
    {
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        await using var pushgateway = await PushgatewayServer.StartAsync(("rag-pusher", password));
        var prometheus = $"http://127.0.0.1:{FreePort.Next()}";
        Task<ProcessResult> VerifyAsync(string[] login, string? passwordVariable) => ProcessRunner.RunAsync("dotnet",
            ["exec", VerifyDll, "--prometheus", prometheus, "--pushgateway", pushgateway.Url.ToString(), "--timeout", "2", .. login],
            TimeSpan.FromSeconds(60), Prerequisites.RepoRoot,
            environment: new Dictionary<string, string> { [VerifyOptions.PushgatewayPasswordVariable] = passwordVariable ?? string.Empty });

        var withLogin = await VerifyAsync(["--pushgateway-user", "rag-pusher"], password);
        var withoutLogin = await VerifyAsync([], null);
        var wrongPassword = await VerifyAsync(["--pushgateway-user", "rag-pusher"], password + "x");
        var passwordMissing = await VerifyAsync(["--pushgateway-user", "rag-pusher"], null);

        Assert.True(VerifyReport.Reports(withLogin, "PASS", "pushgateway-reachable"), withLogin.Output);
        Assert.True(VerifyReport.Fails(withoutLogin, "pushgateway-reachable"), withoutLogin.Output);
        Assert.Contains("401", withoutLogin.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("--pushgateway-user", withoutLogin.StandardOutput, StringComparison.Ordinal);
        Assert.True(VerifyReport.Fails(wrongPassword, "pushgateway-reachable"), wrongPassword.Output);
        Assert.Contains("login refused", wrongPassword.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(2, passwordMissing.ExitCode);
        Assert.Contains(VerifyOptions.PushgatewayPasswordVariable, passwordMissing.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DevUpRefusesATakenPortNamingItsVariableAndStartsNothing()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var folder = Directory.CreateTempSubdirectory("rag-dev-").FullName;
        try
        {
            var environment = new Dictionary<string, string>
            {
                ["RAG_DEV_DIR"] = folder,
                ["RAG_DEV_SETUP"] = "skip",
                ["RAG_DEV_PREBUILT"] = AppContext.BaseDirectory,
                ["RAG_DEV_AZURITE_BLOB_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["RAG_DEV_AZURITE_QUEUE_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["RAG_DEV_AZURITE_TABLE_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["RAG_DEV_PUSHGATEWAY_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };

            var result = await ProcessRunner.RunAsync(Path.Combine(Prerequisites.RepoRoot, "scripts", "dev"), ["up"], TimeSpan.FromSeconds(60),
                Prerequisites.RepoRoot, environment: environment);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains($"port {port} for pushgateway is already in use", result.StandardError, StringComparison.Ordinal);
            Assert.Contains("RAG_DEV_PUSHGATEWAY_PORT", result.StandardError, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(Path.Combine(folder, "pids")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
