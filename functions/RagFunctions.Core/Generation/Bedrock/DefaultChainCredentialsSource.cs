using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Microsoft.Extensions.Logging;

namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>
/// The AWS SDK's default credential chain (environment, shared profile, web identity for EKS IRSA via
/// AWSSDK.SecurityToken, container and instance roles). Nothing is resolved until the first signed
/// request, so the app starts without AWS credentials when Bedrock is not used.
/// </summary>
public sealed class DefaultChainCredentialsSource(ILogger<DefaultChainCredentialsSource> logger) : IBedrockCredentialsSource, IDisposable
{
    /// <summary>What a caller or operator is told when the chain has nothing: the settings, in the chain's order.</summary>
    public const string WhereToSetCredentials =
        "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (environment), AWS_PROFILE with a shared credentials or config file (profile), " +
        "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (web identity, e.g. EKS IRSA), or run where a container or instance role is available.";

    private readonly Lazy<DefaultAWSCredentialsIdentityResolver> _resolver = new(() => new DefaultAWSCredentialsIdentityResolver());

    public async ValueTask<AwsSigningCredentials> GetCredentialsAsync(CancellationToken cancellationToken)
    {
        try
        {
            // The resolver caches the chain's answer; refreshing credentials renew themselves inside GetCredentialsAsync.
            var identity = await _resolver.Value.ResolveIdentityAsync(null, cancellationToken);
            var snapshot = await identity.GetCredentialsAsync();
            return new AwsSigningCredentials(snapshot.AccessKey, snapshot.SecretKey, snapshot.UseToken ? snapshot.Token : null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The SDK's own message names files and providers of this machine: it goes to the log, not to callers.
            Log.NoCredentials(logger, Probe().ToString(), ex);
            throw NoCredentials(ex);
        }
    }

    /// <summary>What callers are told when the chain has no usable credentials: what it is, where it looked, what to set.</summary>
    public static ModelCredentialsException NoCredentials(Exception inner) => new(
        "Bedrock has no usable AWS credentials: none were found, or none worked, in the environment, a shared profile, web identity, " +
        "or a container or instance role. No request was sent to the model. " + WhereToSetCredentials, inner);

    /// <summary>What the chain can find without a network call, for the start-up check and the log.</summary>
    public static ChainProbe Probe()
    {
        static bool Set(string name) => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name));
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string[] profileFiles =
        [
            Environment.GetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE") ?? Path.Combine(home, ".aws", "credentials"),
            Environment.GetEnvironmentVariable("AWS_CONFIG_FILE") ?? Path.Combine(home, ".aws", "config"),
        ];
        return new ChainProbe(
            Set("AWS_ACCESS_KEY_ID") && Set("AWS_SECRET_ACCESS_KEY"),
            profileFiles.Any(File.Exists),
            Set("AWS_WEB_IDENTITY_TOKEN_FILE") && Set("AWS_ROLE_ARN"),
            Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || Set("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
            string.Equals(Environment.GetEnvironmentVariable("AWS_EC2_METADATA_DISABLED"), "true", StringComparison.OrdinalIgnoreCase));
    }

    public void Dispose()
    {
        if (_resolver.IsValueCreated)
        {
            _resolver.Value.Dispose();
        }
    }
}

/// <summary>Which links of the default chain are configured, as far as can be known without a network call.</summary>
public sealed record ChainProbe(bool Environment, bool Profile, bool WebIdentity, bool ContainerRole, bool InstanceMetadataDisabled)
{
    /// <summary>Something is configured; when false, only an instance role (found at the first query, if at all) can supply credentials.</summary>
    public bool AnyConfigured => Environment || Profile || WebIdentity || ContainerRole;

    public override string ToString() =>
        $"environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): {Found(Environment)}; profile (AWS_PROFILE, shared credentials or config file): {Found(Profile)}; " +
        $"web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN): {Found(WebIdentity)}; container role: {Found(ContainerRole)}; " +
        $"instance role: {(InstanceMetadataDisabled ? "disabled (AWS_EC2_METADATA_DISABLED)" : "not known until the first query")}";

    private static string Found(bool found) => found ? "found" : "not set";
}
