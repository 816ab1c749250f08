using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Generation.Bedrock;

namespace RagFunctions.UnitTests.Bedrock;

public sealed class BedrockOptionsTests
{
    [Fact]
    public void ExtractiveDeploymentStartsWithoutBedrockSettingsOrAwsCredentials()
    {
        using var services = BedrockTestHost.Build(endpoint: null, new Dictionary<string, string?>
        {
            ["Rag:Generation:Provider"] = "Extractive",
            ["Rag:Generation:Bedrock:Region"] = null,
            ["Rag:Generation:Bedrock:ModelId"] = null,
        });

        services.GetRequiredService<IStartupValidator>().Validate();
        var client = services.GetRequiredService<BedrockConverseChatClient>();

        Assert.NotNull(client);
        Assert.IsType<DefaultChainCredentialsSource>(services.GetRequiredService<IBedrockCredentialsSource>());
    }

    [Fact]
    public void StartupValidationNamesMissingRegionAndModelIdWhenBedrockIsSelected()
    {
        using var services = BedrockTestHost.Build(endpoint: null, new Dictionary<string, string?>
        {
            ["Rag:Generation:Bedrock:Region"] = null,
            ["Rag:Generation:Bedrock:ModelId"] = "",
        });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(error.Failures, f => f.StartsWith("Rag:Generation:Bedrock:Region is required", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("Rag:Generation:Bedrock:ModelId is required", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Rag:Generation:Bedrock:Temperature", "1.5", "Rag:Generation:Bedrock:Temperature must be between 0 and 1")]
    [InlineData("Rag:Generation:Bedrock:MaxTokens", "0", "Rag:Generation:Bedrock:MaxTokens must be at least 1")]
    [InlineData("Rag:Generation:Bedrock:TimeoutSeconds", "0", "Rag:Generation:Bedrock:TimeoutSeconds must be between 1 and 600")]
    [InlineData("Rag:Generation:Bedrock:MaxRetries", "-1", "Rag:Generation:Bedrock:MaxRetries must be between 0 and 10")]
    [InlineData("Rag:Generation:Bedrock:Region", "us-east-1.evil.example", "Rag:Generation:Bedrock:Region 'us-east-1.evil.example' is not an AWS region name")]
    public void RejectsOutOfRangeSettingNamingIt(string key, string value, string expectedFailure)
    {
        using var services = BedrockTestHost.Build(endpoint: null, new Dictionary<string, string?> { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<BedrockOptions>>().Value);

        Assert.Contains(error.Failures, f => f.StartsWith(expectedFailure, StringComparison.Ordinal));
    }

    [Fact]
    public void DefaultsMatchTheDocumentedValues()
    {
        using var services = BedrockTestHost.Build(endpoint: null, new Dictionary<string, string?>
        {
            ["Rag:Generation:Bedrock:TimeoutSeconds"] = null,
            ["Rag:Generation:Bedrock:MaxRetries"] = null,
            ["Rag:Generation:Bedrock:RetryBaseDelayMilliseconds"] = null,
        });

        var options = services.GetRequiredService<IOptions<BedrockOptions>>().Value;

        Assert.Equal((512, 0.2f, 30, 3, 500), (options.MaxTokens, options.Temperature, options.TimeoutSeconds, options.MaxRetries, options.RetryBaseDelayMilliseconds));
        Assert.Equal(new Uri("https://bedrock-runtime.us-east-1.amazonaws.com"), options.ResolveEndpoint());
    }
}
