using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>
/// Every Pushgateway the project starts, in the cluster and locally, skips the per-push consistency check that caps
/// how many pods one gateway can take (README, Scale); PushConsistencyTests proves the pods' pushes need no such check.
/// The test fixtures and the scale run start theirs the same way (PushgatewayServer).
/// </summary>
public sealed class PushgatewayFlagsTests
{
    private const string NoPerPushCheck = "--push.disable-consistency-check";

    [Fact]
    public void TheTerraformValuesStartThePushgatewayWithoutThePerPushCheck()
    {
        var values = YamlJson.LoadSingle(Path.Combine(TerraformText.ModuleDir("monitoring"), "values", "prometheus-pushgateway.yaml"));

        Assert.Contains(values.Get("extraArgs")!.AsArray(), a => a!.GetValue<string>() == NoPerPushCheck);
    }

    [Fact]
    public void TheComposeFileStartsThePushgatewayWithoutThePerPushCheck()
    {
        var compose = YamlJson.LoadSingle(Path.Combine(Prerequisites.RepoRoot, "scripts", "docker-compose.yml"));

        Assert.Contains(compose.Get("services.pushgateway.command")!.AsArray(), a => a!.GetValue<string>() == NoPerPushCheck);
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
