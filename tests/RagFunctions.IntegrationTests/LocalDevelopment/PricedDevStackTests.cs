using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Pricing;

namespace RagFunctions.IntegrationTests.LocalDevelopment;

/// <summary><c>scripts/dev up --priced</c>: the stack with the simulated Bedrock stand-in as the app's model.</summary>
public sealed class PricedDevStack() : DevStack("up", "--priced");

/// <summary>
/// The priced local mode on real binaries: the in-process demo sends its queries as tenant <c>demo</c>, the app answers
/// them with the Bedrock provider against the stand-in process, and the ledger's totals carry the spend under the
/// simulated environment, priced at the real model's shipped prices. <c>scripts/dev down</c> stops the stand-in by its PID.
/// </summary>
public sealed partial class PricedDevStackTests(PricedDevStack stack) : IClassFixture<PricedDevStack>
{
    private const string Model = "anthropic.claude-3-5-sonnet-20241022-v2:0";
    private const string Environment = "local-simulated";

    [Fact]
    public async Task PricedUpPutsSimulatedSpendOnTheDemoTenantAndDownStopsTheStandIn()
    {
        Assert.True(stack.Up.ExitCode == 0, $"scripts/dev up --priced failed:\n{stack.Up.Output}\n--- app.log\n{stack.Log("app")}\n--- bedrock.log\n{stack.Log("bedrock")}");
        Assert.Contains("SIMULATED", stack.Up.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("4/4 succeeded", stack.Up.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("SIMULATED Bedrock Converse", stack.Log("bedrock"), StringComparison.Ordinal);

        // The ledger's committed totals: cost and tokens of tenant demo, and its daily spend, all labelled simulated.
        var price = PriceTable.Shipped[Model];
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string metrics;
        double cost, spent, input, output;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(500);
            metrics = await http.GetStringAsync(new Uri(stack.Ledger, "/metrics"));
            cost = Value(metrics, $"rag_cost_dollars_total{{environment=\"{Environment}\",model=\"{Model}\",tenant=\"demo\"}}");
            spent = Value(metrics, $"rag_budget_spent_dollars{{environment=\"{Environment}\",tenant=\"demo\",window=\"daily\"}}");
            input = Value(metrics, $"rag_token_usage_total{{environment=\"{Environment}\",model=\"{Model}\",tenant=\"demo\",type=\"input\"}}");
            output = Value(metrics, $"rag_token_usage_total{{environment=\"{Environment}\",model=\"{Model}\",tenant=\"demo\",type=\"output\"}}");
        }
        while (!(spent > 0 && cost > 0 && Math.Abs(cost - Priced(price, input, output)) < 1e-9) && DateTime.UtcNow < deadline);

        Assert.True(cost > 0, $"no cost for tenant demo under environment {Environment}:\n{metrics}\n--- app.log\n{stack.Log("app")}");
        Assert.True(spent > 0, $"no daily spend for tenant demo under environment {Environment}:\n{metrics}");
        // Priced at the model's real prices for the tokens the stand-in reported.
        Assert.Equal(Priced(price, input, output), cost, 9);
        Assert.DoesNotContain("environment=\"local\"", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain($"model=\"{LocalModels.Extractive}\"", metrics, StringComparison.Ordinal);

        var standIn = stack.RecordedPid("bedrock");
        Assert.NotNull(standIn);
        var down = await stack.DevAsync("down", TimeSpan.FromSeconds(60));

        Assert.True(down.ExitCode == 0, down.Output);
        Assert.Contains($"stopped bedrock (pid {standIn})", down.StandardOutput, StringComparison.Ordinal);
        Assert.False(Running(standIn.Value), $"the stand-in (pid {standIn}) still runs after scripts/dev down");
        Assert.Null(stack.RecordedPid("bedrock"));
    }

    private static double Priced(ModelPrice price, double input, double output) =>
        (double)price.CostOf(new TokenUsage((long)input, (long)output, 0, 0));

    private static double Value(string metrics, string series)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private static bool Running(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
