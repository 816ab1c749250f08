using Microsoft.Extensions.Logging.Abstractions;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Generation.Bedrock;

namespace RagFunctions.UnitTests.Bedrock;

public sealed class DefaultChainCredentialsSourceTests
{
    [Fact]
    public async Task ResolvesEnvironmentCredentialsIncludingSessionTokenOnFirstUse()
    {
        string[] names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];
        var saved = names.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "ASIAENVEXAMPLE");
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "envSecretExample");
            Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", "envTokenExample");
            using var source = new DefaultChainCredentialsSource(NullLogger<DefaultChainCredentialsSource>.Instance);

            var credentials = await source.GetCredentialsAsync(CancellationToken.None);

            Assert.Equal(new AwsSigningCredentials("ASIAENVEXAMPLE", "envSecretExample", "envTokenExample"), credentials);
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }

    [Fact]
    public async Task NoCredentialsAnywhereIsReportedAsMissingCredentialsNamingTheSettingsNotAsAModelRejection()
    {
        string[] names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_DISABLED"];
        var saved = names.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        var missing = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"));
        try
        {
            foreach (var name in names)
            {
                Environment.SetEnvironmentVariable(name, null);
            }

            Environment.SetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE", Path.Combine(missing, "credentials"));
            Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", Path.Combine(missing, "config"));
            Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
            using var source = new DefaultChainCredentialsSource(NullLogger<DefaultChainCredentialsSource>.Instance);

            var failure = await Assert.ThrowsAsync<ModelCredentialsException>(() => source.GetCredentialsAsync(CancellationToken.None).AsTask());

            Assert.Contains("AWS_ACCESS_KEY_ID", failure.Detail, StringComparison.Ordinal);
            Assert.Contains("AWS_PROFILE", failure.Detail, StringComparison.Ordinal);
            Assert.Contains("AWS_WEB_IDENTITY_TOKEN_FILE", failure.Detail, StringComparison.Ordinal);
            Assert.DoesNotContain("rejected", failure.Detail, StringComparison.OrdinalIgnoreCase);
            var probe = DefaultChainCredentialsSource.Probe();
            Assert.False(probe.AnyConfigured);
            Assert.True(probe.InstanceMetadataDisabled);
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}
