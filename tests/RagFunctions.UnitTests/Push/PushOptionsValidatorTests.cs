using RagFunctions.Core.Metrics.Push;

namespace RagFunctions.UnitTests.Push;

public sealed class PushOptionsValidatorTests
{
    private static readonly PushOptionsValidator Validator = new();

    [Fact]
    public void AcceptsDefaultsGivenPushDisabled()
    {
        Assert.True(Validator.Validate(null, new PushOptions()).Succeeded);
    }

    [Fact]
    public void AcceptsAnEnabledPusherWithAUrl()
    {
        Assert.True(Validator.Validate(null, new PushOptions { Enabled = true, Url = "http://pushgateway:9091" }).Succeeded);
    }

    [Theory]
    [InlineData(null, "Rag:Push:Url")]
    [InlineData("pushgateway:9091", "Rag:Push:Url")]
    public void RejectsAMissingOrRelativeUrl(string? url, string expected)
    {
        var result = Validator.Validate(null, new PushOptions { Enabled = true, Url = url });

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage);
    }

    [Fact]
    public void RejectsAShutdownBoundAboveThreeSeconds()
    {
        var result = Validator.Validate(null, new PushOptions { Enabled = true, Url = "http://pg:9091", ShutdownTimeoutMilliseconds = 4000 });

        Assert.Contains("ShutdownTimeoutMilliseconds", result.FailureMessage);
    }

    [Fact]
    public void RejectsAnInstanceThatIsNotUrlSafe()
    {
        var result = Validator.Validate(null, new PushOptions { Enabled = true, Url = "http://pg:9091", Instance = "pod/1" });

        Assert.Contains("Rag:Push:Instance", result.FailureMessage);
    }

    [Fact]
    public void RejectsAUsernameWithoutPassword()
    {
        var result = Validator.Validate(null, new PushOptions { Enabled = true, Url = "http://pg:9091", Username = "u" });

        Assert.Contains("Username and Rag:Push:Password", result.FailureMessage);
    }

    [Theory]
    [InlineData("rag-ledger", null)]
    [InlineData("spend-ledger", "spend-ledger")]
    public void RejectsAPushJobEqualToTheLedgerJob(string job, string? ledgerJob)
    {
        var options = new PushOptions { Enabled = true, Url = "http://pg:9091", Job = job };
        if (ledgerJob is not null)
        {
            options.LedgerJob = ledgerJob;
        }

        var result = Validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Rag:Push:Job must differ from Rag:Push:LedgerJob", result.FailureMessage);
    }
}
