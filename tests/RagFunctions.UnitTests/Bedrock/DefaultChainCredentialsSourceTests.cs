using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Generation.Bedrock;

namespace RagFunctions.UnitTests.Bedrock;

/// <summary>The default chain reads the process environment; these tests set it, so they run one at a time in this class.</summary>
public sealed class DefaultChainCredentialsSourceTests
{
    private static readonly string[] ChainVariables =
    [
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_EC2_METADATA_DISABLED",
    ];

    [Fact]
    public Task ResolvesEnvironmentCredentialsIncludingSessionTokenOnFirstUse() => WithChainAsync(
        new()
        {
            ["AWS_ACCESS_KEY_ID"] = "ASIAENVEXAMPLE",
            ["AWS_SECRET_ACCESS_KEY"] = "envSecretExample",
            ["AWS_SESSION_TOKEN"] = "envTokenExample",
        },
        async () =>
        {
            using var source = new DefaultChainCredentialsSource(NullLogger<DefaultChainCredentialsSource>.Instance);

            var credentials = await source.GetCredentialsAsync(CancellationToken.None);

            Assert.Equal(new AwsSigningCredentials("ASIAENVEXAMPLE", "envSecretExample", "envTokenExample"), credentials);
        });

    [Fact]
    public Task NoCredentialsAnywhereIsReportedAsMissingCredentialsNamingTheSettingsNotAsAModelRejection() => WithChainAsync(NothingConfigured(), async () =>
    {
        using var source = new DefaultChainCredentialsSource(NullLogger<DefaultChainCredentialsSource>.Instance);

        var failure = await Assert.ThrowsAsync<ModelCredentialsException>(() => source.GetCredentialsAsync(CancellationToken.None).AsTask());

        foreach (var setting in new[] { "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE" })
        {
            Assert.Contains(setting, failure.Detail, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("rejected", failure.Detail, StringComparison.OrdinalIgnoreCase);
    });

    [Fact]
    public Task StartUpSaysWhenNoLinkOfTheChainCanSupplyCredentials() => WithChainAsync(NothingConfigured(), async () =>
    {
        var logger = new CapturingLogger<BedrockCredentialsCheck>();

        await new BedrockCredentialsCheck(new DefaultChainCredentialsSource(NullLogger<DefaultChainCredentialsSource>.Instance), logger)
            .StartAsync(CancellationToken.None);

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Contains("environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): not set", entry.Message, StringComparison.Ordinal);
        Assert.Contains("web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN): not set", entry.Message, StringComparison.Ordinal);
    });

    [Fact]
    public Task StartUpIsQuietWhenTheEnvironmentHasCredentials() => WithChainAsync(
        new() { ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE", ["AWS_SECRET_ACCESS_KEY"] = "secretExample" },
        async () =>
        {
            var logger = new CapturingLogger<BedrockCredentialsCheck>();

            await new BedrockCredentialsCheck(new DefaultChainCredentialsSource(NullLogger<DefaultChainCredentialsSource>.Instance), logger)
                .StartAsync(CancellationToken.None);

            Assert.Empty(logger.Entries);
        });

    /// <summary>No link of the chain configured, profile files pointed at paths that do not exist, instance metadata off.</summary>
    private static Dictionary<string, string?> NothingConfigured()
    {
        var missing = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"));
        return new()
        {
            ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(missing, "credentials"),
            ["AWS_CONFIG_FILE"] = Path.Combine(missing, "config"),
            ["AWS_EC2_METADATA_DISABLED"] = "true",
        };
    }

    /// <summary>Runs <paramref name="body"/> with only <paramref name="values"/> of the chain's variables set, then restores them.</summary>
    private static async Task WithChainAsync(Dictionary<string, string?> values, Func<Task> body)
    {
        var saved = ChainVariables.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var name in ChainVariables)
            {
                Environment.SetEnvironmentVariable(name, values.GetValueOrDefault(name));
            }

            await body();
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }

    private sealed class CapturingLogger<T> : ILogger<T>
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }
}
