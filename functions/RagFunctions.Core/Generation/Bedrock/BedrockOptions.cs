using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>Settings of the Bedrock Converse client, bound from <see cref="SectionName"/>.</summary>
public sealed class BedrockOptions
{
    public const string SectionName = "Rag:Generation:Bedrock";

    /// <summary>AWS region, e.g. us-east-1. Required when Rag:Generation:Provider is Bedrock.</summary>
    public string? Region { get; set; }

    /// <summary>Model or inference-profile id, e.g. amazon.nova-lite-v1:0. Required when Rag:Generation:Provider is Bedrock.</summary>
    public string? ModelId { get; set; }

    /// <summary>Base URI override (tests, stand-ins, VPC endpoints); default https://bedrock-runtime.{Region}.amazonaws.com.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>inferenceConfig.maxTokens when the caller's ChatOptions.MaxOutputTokens is not set.</summary>
    public int MaxTokens { get; set; } = 512;

    /// <summary>inferenceConfig.temperature when the caller's ChatOptions.Temperature is not set.</summary>
    public float Temperature { get; set; } = 0.2f;

    /// <summary>Timeout of one attempt; retries get their own.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Retries after the first attempt for transient errors (throttling, 5xx, timeouts, network).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Base of the jittered exponential backoff between retries (a Retry-After from the service wins).</summary>
    public int RetryBaseDelayMilliseconds { get; set; } = 500;

    internal Uri ResolveEndpoint() => Endpoint ?? new Uri($"https://bedrock-runtime.{Region}.amazonaws.com");
}

/// <summary>
/// Validates <see cref="BedrockOptions"/>. Region and ModelId are only required when Bedrock is the selected
/// provider, so an Extractive deployment starts with this section empty.
/// </summary>
internal sealed partial class BedrockOptionsValidator(IConfiguration configuration) : IValidateOptions<BedrockOptions>
{
    internal const string ProviderKey = "Rag:Generation:Provider";
    private const string Prefix = BedrockOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, BedrockOptions options)
    {
        var failures = new List<string>();
        var bedrockSelected = string.Equals(configuration[ProviderKey], "Bedrock", StringComparison.OrdinalIgnoreCase);

        if (string.IsNullOrWhiteSpace(options.Region))
        {
            if (bedrockSelected)
            {
                failures.Add($"{Prefix}Region is required when {ProviderKey} is Bedrock (e.g. us-east-1).");
            }
        }
        else if (!RegionPattern().IsMatch(options.Region))
        {
            failures.Add($"{Prefix}Region '{options.Region}' is not an AWS region name (e.g. us-east-1).");
        }

        if (string.IsNullOrWhiteSpace(options.ModelId) && bedrockSelected)
        {
            failures.Add($"{Prefix}ModelId is required when {ProviderKey} is Bedrock (e.g. amazon.nova-lite-v1:0).");
        }

        if (options.Endpoint is { } endpoint && (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttps && endpoint.Scheme != Uri.UriSchemeHttp)))
        {
            failures.Add($"{Prefix}Endpoint must be an absolute http(s) URI, got '{endpoint}'.");
        }

        if (options.MaxTokens < 1)
        {
            failures.Add($"{Prefix}MaxTokens must be at least 1, got {options.MaxTokens}.");
        }

        if (options.Temperature is < 0f or > 1f || float.IsNaN(options.Temperature))
        {
            failures.Add($"{Prefix}Temperature must be between 0 and 1, got {options.Temperature}.");
        }

        if (options.TimeoutSeconds is < 1 or > 600)
        {
            failures.Add($"{Prefix}TimeoutSeconds must be between 1 and 600, got {options.TimeoutSeconds}.");
        }

        if (options.MaxRetries is < 0 or > 10)
        {
            failures.Add($"{Prefix}MaxRetries must be between 0 and 10, got {options.MaxRetries}.");
        }

        if (options.RetryBaseDelayMilliseconds is < 1 or > 60_000)
        {
            failures.Add($"{Prefix}RetryBaseDelayMilliseconds must be between 1 and 60000, got {options.RetryBaseDelayMilliseconds}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$")]
    private static partial Regex RegionPattern();
}
