using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.IntegrationTests.LocalDevelopment;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>
/// Every Pushgateway the project starts locally, like the cluster's (TerraformTests), skips the per-push consistency
/// check that caps how many pods one gateway can take (README, Scale); PushConsistencyTests proves the pods' pushes need
/// no such check. The test fixtures and the scale run start theirs the same way (PushgatewayServer).
/// </summary>
public sealed class PushgatewayFlagsTests
{
    /// <summary>The flag as Terraform ships it (TerraformTests checks the chart values themselves).</summary>
    public const string NoPerPushCheck = "--push.disable-consistency-check";

    [Fact]
    public void TheComposeFileStartsThePushgatewayWithoutThePerPushCheck()
    {
        Assert.Contains(NoPerPushCheck, ComposeModel.Load().Services["pushgateway"].Command);
    }

    [Fact]
    public void ScriptsDevStartsThePushgatewayWithoutThePerPushCheck()
    {
        var lines = File.ReadAllLines(Path.Combine(Prerequisites.RepoRoot, "scripts", "dev"));
        var start = Array.FindIndex(lines, l => l.TrimStart().StartsWith("start pushgateway ", StringComparison.Ordinal));
        Assert.True(start >= 0, "scripts/dev no longer starts the Pushgateway with 'start pushgateway'");
        // The command runs on over continuation lines (a trailing backslash).
        var end = start;
        while (lines[end].TrimEnd().EndsWith('\\'))
        {
            end++;
        }

        var command = string.Join(' ', lines[start..(end + 1)]);
        Assert.Contains(NoPerPushCheck, command, StringComparison.Ordinal);
    }
}
